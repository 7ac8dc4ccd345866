"""The health fact of an item that its deliverables decide (see requests_app.health_facts): the
earliest review deadline of a version still waiting for its review (overdue once it has passed)."""

from typing import Any

from django.db.models import DateTimeField, Min, OuterRef, Subquery

from reviews_app.models import DeliverableVersion


def review_health_facts() -> dict[str, Any]:
    pending = DeliverableVersion.objects.filter(deliverable__task__item=OuterRef("pk"), decision="")
    return {
        "health_review_from": Subquery(
            pending.order_by()
            .values("deliverable__task__item")
            .annotate(first=Min("review_due_at"))
            .values("first")[:1],
            output_field=DateTimeField(),
        )
    }
