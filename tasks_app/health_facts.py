"""The health facts of an item that its tasks, warnings and problems decide (see
requests_app.health_facts for what the stored facts are and who keeps them), and the tests of a
single task that both the stored facts and the dashboards' task lists use."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateField,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from requests_app.health_facts import BEHIND_PERCENT, item_health_refresh
from requests_app.models import CollaborationItem, Participation, Todo
from tasks_app.models import Alert, AlertKind, DepartmentExemption, Problem, ProblemStatus, Task, TaskStatus

# "Report missing": a step-0 warning of that kind, not cancelled, due after the task's last report.
_STALE_WARNING_KIND = Q(kind=AlertKind.REPORT_MISSING, step=0)
_STALE_WARNING = _STALE_WARNING_KIND & Q(cancelled_at=None)


def report_missing(now: datetime) -> Exists:
    """On a Task queryset: a "report missing" warning came due after the task's last report.

    The same test as tasks_app.tracking.tracked_tasks' "stale" (and the progress page's
    "report missing"); it relies on the foreign-key index Alert.task.
    """
    return Exists(
        Alert.objects.filter(_STALE_WARNING, task=OuterRef("pk"), due_at__lte=now).filter(
            Q(due_at__gt=OuterRef("last_reported_at")) | Q(task__last_reported_at__isnull=True)
        )
    )


def unanswered_escalation() -> Exists:
    """On a Task queryset: a warning of step 1 or higher was sent and no report came after it."""
    return Exists(
        Alert.objects.filter(
            task=OuterRef("pk"), step__gte=1, sent_at__isnull=False, cancelled_at=None
        ).filter(Q(task__last_reported_at__isnull=True) | Q(sent_at__gt=F("task__last_reported_at")))
    )


def _aggregate(rows: QuerySet[Any], group: str, value: Any, output: Any) -> Subquery:
    """``value`` (an aggregate) of ``rows`` grouped by ``group``, as a correlated subquery."""
    return Subquery(rows.order_by().values(group).annotate(v=value).values("v")[:1], output_field=output)


def _count(rows: QuerySet[Any], group: str = "item") -> Coalesce:
    return Coalesce(_aggregate(rows, group, Count("pk"), IntegerField()), 0)


def breakdown_gap() -> Q:
    """On an item queryset: the breakdown leaves something out, whatever the item's stage (the
    same checks as tasks_app.selectors.breakdown_gaps): no task yet; a to-do neither turned into a
    task nor dropped with a reason; a participating department without a task and without a
    recorded reason; a task whose delivery standard is blank."""
    tasks = Task.objects.filter(item=OuterRef("pk"))
    todos = Todo.objects.filter(minutes__meeting__item=OuterRef("pk"), task__isnull=True).filter(
        Q(dropped_at=None) | Q(dropped_reason__regex=r"^\s*$")
    )
    uncovered = Participation.objects.filter(item=OuterRef("pk")).filter(
        ~Exists(Task.objects.filter(item=OuterRef("item"), department=OuterRef("department"))),
        ~Exists(DepartmentExemption.objects.filter(item=OuterRef("item"), department=OuterRef("department"))),
    )
    return (
        ~Exists(tasks)
        | Exists(todos)
        | Exists(uncovered)
        | Exists(tasks.filter(delivery_standard__regex=r"^\s*$"))
    )


def task_health_facts() -> dict[str, Any]:
    """The facts of this stage, as expressions correlated to the item (requests_app.health_facts)."""
    tasks = Task.objects.filter(item=OuterRef("pk"))
    open_tasks = tasks.exclude(status=TaskStatus.DONE)
    stale_warnings = (
        Alert.objects.filter(_STALE_WARNING, task__item=OuterRef("pk"))
        .exclude(task__status=TaskStatus.DONE)
        .filter(Q(task__last_reported_at__isnull=True) | Q(due_at__gt=F("task__last_reported_at")))
    )
    return {
        "health_late_from": _aggregate(open_tasks, "item", Min("deadline"), DateField()),
        "health_behind_from": _aggregate(
            open_tasks.filter(percent_done__lt=BEHIND_PERCENT),
            "item",
            Min("deadline"),
            DateField(),
        ),
        "health_stale_from": _aggregate(stale_warnings, "task__item", Min("due_at"), DateTimeField()),
        "health_escalations": _count(open_tasks.filter(unanswered_escalation())),
        "health_problems": _count(Problem.objects.filter(item=OuterRef("pk"), status=ProblemStatus.OPEN)),
        "health_blocked": _count(open_tasks.filter(status=TaskStatus.BLOCKED)),
        "health_gap": Case(
            When(breakdown_gap(), then=Value(True)), default=Value(False), output_field=BooleanField()
        ),
    }


def health_refresh_after_sweep(alert_ids: Iterable[int]) -> None:
    """After a committed batch of the warning sweep, the two facts it can change: items whose
    escalations went out (an unanswered escalation) and items whose "report missing" warning was
    cancelled as no longer true (a report no longer missing). See requests_app.health_facts for
    the lock."""
    changed = Alert.objects.filter(pk__in=list(alert_ids)).filter(
        Q(step__gte=1, cancelled_at=None) | Q(_STALE_WARNING_KIND, cancelled_at__isnull=False)
    )
    item_health_refresh(
        CollaborationItem.objects.filter(pk__in=changed.values("task__item_id")),
        lock=True,
        only=("health_escalations", "health_stale_from"),
    )
