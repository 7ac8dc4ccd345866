"""The health facts of an item that its deliverables decide (see requests_app.health_facts): the
versions waiting for their review, and the earliest review deadline among them (overdue once it
has passed)."""

from typing import Any

from django.db.models import Count, DateTimeField, IntegerField, Min, OuterRef, Subquery
from django.db.models.functions import Coalesce

from reviews_app.models import DeliverableVersion


def review_health_facts() -> dict[str, Any]:
    pending = (
        DeliverableVersion.objects.filter(deliverable__task__item=OuterRef("pk"), decision="")
        .order_by()
        .values("deliverable__task__item")
    )
    return {
        "health_review_from": Subquery(
            pending.annotate(first=Min("review_due_at")).values("first")[:1], output_field=DateTimeField()
        ),
        "health_reviews": Coalesce(
            Subquery(pending.annotate(n=Count("pk")).values("n")[:1], output_field=IntegerField()), 0
        ),
    }
