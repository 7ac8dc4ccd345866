"""Who may act on deliverables, retrospectives, measures and the archive (see requests_app.access)."""

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext_lazy

from requests_app.access import Right
from requests_app.models import CollaborationItem
from reviews_app.models import Deliverable, ImprovementMeasure
from tasks_app.models import Task


def people_given_work(item: CollaborationItem) -> Iterable[int | None]:
    """Deliverers and receivers of deliverables and owners of improvement measures see the item."""
    for row in Deliverable.objects.filter(task__item=item).values_list("deliverer_id", "receiver_id"):
        yield from row
    yield from ImprovementMeasure.objects.filter(retrospective__item=item).values_list("owner_id", flat=True)


def _records(user: Any, item: CollaborationItem) -> bool:
    return user.pk in (item.requester_id, item.coordinator_id)


def _completes(user: Any, measure: ImprovementMeasure) -> bool:
    return user.pk in (measure.owner_id, measure.retrospective.item.coordinator_id)


DELIVER: Right[Task] = Right(
    lambda user, task: user.pk == task.owner_id,
    gettext_lazy("Only the task's owner submits its deliverables."),
)
REVISE: Right[Deliverable] = Right(
    lambda user, deliverable: user.pk == deliverable.deliverer_id,
    gettext_lazy("Only the deliverer submits a revised version."),
)
REVIEW: Right[Deliverable] = Right(
    lambda user, deliverable: user.pk == deliverable.receiver_id,
    gettext_lazy("Only the receiver reviews this deliverable."),
)
SIGN: Right[Deliverable] = Right(
    lambda user, deliverable: user.pk in {deliverable.deliverer_id, deliverable.receiver_id},
    gettext_lazy("Only the deliverer and the receiver sign the acceptance form."),
)
RECORD_RETROSPECTIVE: Right[CollaborationItem] = Right(
    _records, gettext_lazy("Only the requester and the coordinator record the retrospective.")
)
COMPLETE_MEASURE: Right[ImprovementMeasure] = Right(
    _completes, gettext_lazy("Only the measure's owner and the item's coordinator mark it done.")
)
ARCHIVE: Right[CollaborationItem] = Right(
    lambda user, item: user.pk == item.coordinator_id,
    gettext_lazy("Only the coordinator archives the item."),
)
