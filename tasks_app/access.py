"""Who may act on the tasks of an item and on its problems (see requests_app.access)."""

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext_lazy

from requests_app.access import Right, may_change
from requests_app.models import CollaborationItem
from tasks_app.models import Problem, Task


def people_given_work(item: CollaborationItem) -> Iterable[int | None]:
    """Task owners, collaborators and receivers, and problem handlers: they see the item."""
    for row in Task.objects.filter(item=item).values_list("owner_id", "receiver_id", "collaborators"):
        yield from row
    yield from Problem.objects.filter(item=item).values_list("owner_id", flat=True)


def _reports_on(user: Any, task: Task) -> bool:
    in_charge = user.pk in {task.owner_id, task.item.coordinator_id}
    return in_charge or task.collaborators.filter(pk=user.pk).exists()


def _handles(user: Any, problem: Problem) -> bool:
    return user.pk == problem.owner_id or may_change(user, problem.item)


PLAN_TASKS: Right[CollaborationItem] = Right(
    may_change, gettext_lazy("Only the requester and the coordinator can plan the tasks of this item.")
)
SET_CADENCE: Right[CollaborationItem] = Right(
    may_change, gettext_lazy("Only the requester and the coordinator set the reporting cadence.")
)
HAND_OVER_PROBLEM: Right[CollaborationItem] = Right(
    may_change, gettext_lazy("Only the requester and the coordinator can hand a problem over.")
)
REPORT: Right[Task] = Right(
    _reports_on, gettext_lazy("Only the task's owner, its collaborators and the coordinator report on it.")
)
RESOLVE_PROBLEM: Right[Problem] = Right(
    _handles, gettext_lazy("Only the problem's owner or the coordinator can change it.")
)
