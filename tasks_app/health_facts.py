"""The health facts of an item that its tasks, warnings and problems decide (see
requests_app.health_facts for what the stored facts are and who keeps them), and the tests of a
single task that both the stored facts and the dashboards' task lists use."""

from collections.abc import Iterable
from datetime import datetime
from itertools import batched
from typing import Any

from django.db import connection
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

from requests_app.health_facts import BEHIND_PERCENT
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
    """On a Task queryset: a warning of step 1 or higher was sent and no report came after it.

    Written ``step > 0``, not ``step >= 1``: PostgreSQL cannot prove that the first implies the
    partial index ``alert_escalation_sent`` (``step >= 1``), so the test can only start from the
    task (the ``task_id`` index). With ``step >= 1``, statistics that know no sent escalation (a
    new company's first big morning, before autovacuum re-analyzes the warnings) made the
    planner start each item's count from that index and walk every escalation sent so far, per
    item: a sweep's refresh of its items went from 35 s to 338 s.
    """
    return Exists(
        Alert.objects.filter(
            task=OuterRef("pk"), step__gt=0, sent_at__isnull=False, cancelled_at=None
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


def _escalated_tasks(tasks: QuerySet[Task]) -> QuerySet[Task]:
    """The open ones of ``tasks`` with an unanswered escalation (the fact ``health_escalations``)."""
    return tasks.exclude(status=TaskStatus.DONE).filter(unanswered_escalation())


def _stale_warnings(warnings: QuerySet[Alert]) -> QuerySet[Alert]:
    """The ones of ``warnings`` that make a report missing once due, on open tasks (the fact
    ``health_stale_from`` is the earliest due moment)."""
    return (
        warnings.filter(_STALE_WARNING)
        .exclude(task__status=TaskStatus.DONE)
        .filter(Q(task__last_reported_at__isnull=True) | Q(due_at__gt=F("task__last_reported_at")))
    )


def task_health_facts() -> dict[str, Any]:
    """The facts of this stage, as expressions correlated to the item (requests_app.health_facts)."""
    tasks = Task.objects.filter(item=OuterRef("pk"))
    open_tasks = tasks.exclude(status=TaskStatus.DONE)
    stale_warnings = _stale_warnings(Alert.objects.filter(task__item=OuterRef("pk")))
    return {
        "health_late_from": _aggregate(open_tasks, "item", Min("deadline"), DateField()),
        "health_behind_from": _aggregate(
            open_tasks.filter(percent_done__lt=BEHIND_PERCENT),
            "item",
            Min("deadline"),
            DateField(),
        ),
        "health_stale_from": _aggregate(stale_warnings, "task__item", Min("due_at"), DateTimeField()),
        "health_escalations": _count(_escalated_tasks(tasks)),
        "health_problems": _count(Problem.objects.filter(item=OuterRef("pk"), status=ProblemStatus.OPEN)),
        "health_blocked": _count(open_tasks.filter(status=TaskStatus.BLOCKED)),
        "health_gap": Case(
            When(breakdown_gap(), then=Value(True)), default=Value(False), output_field=BooleanField()
        ),
    }


# The facts a batch of the warning sweep can change: an escalation sent (an unanswered
# escalation), a "report missing" warning cancelled as no longer true (a report no longer missing).
SWEEP_FACTS = ("health_escalations", "health_stale_from")


def sweep_changes_facts(kind: str, step: int, *, sent: bool) -> bool:
    """Whether the sweep sending (or cancelling) this warning can change its item's facts."""
    return step >= 1 if sent else kind == AlertKind.REPORT_MISSING and step == 0


def sweep_lock_items(item_ids: Iterable[int]) -> dict[int, tuple[int, datetime | None]]:
    """Inside a batch of the warning sweep: row-locks the items of its warnings, skipping those a
    writer holds, and returns the stored ``SWEEP_FACTS`` of those it locked.

    Skipped, not waited for: a writer holding an item (``FOR NO KEY UPDATE``) may be waiting for a
    warning row the batch holds, and the batch's rows that name the item (notifications,
    deliveries) would wait for the writer: a deadlock. The batch leaves the warnings of a held
    item for the next batch or sweep. ``FOR NO KEY UPDATE``: the batch changes no key, so
    writers inserting rows that name the item are not held up.
    """
    rows = (
        CollaborationItem.objects.select_for_update(skip_locked=True, no_key=True)
        .filter(pk__in=sorted(set(item_ids)))
        .order_by("pk")
        .values_list("pk", *SWEEP_FACTS)
    )
    return {pk: (escalations, stale_from) for pk, escalations, stale_from in rows}


def sweep_store_facts(stored: dict[int, tuple[int, datetime | None]]) -> int:
    """Inside the batch, after its warnings are marked: recomputes ``SWEEP_FACTS`` of the items
    ``sweep_lock_items`` locked whose facts the batch changes (``stored``: what they store) and
    writes those that changed, in
    the batch's transaction (a batch and its facts commit together: nothing to repair if the
    process dies after the commit). Returns how many items changed.

    Set-based, the same rules as ``task_health_facts``: each fact one grouped query over the
    items' tasks and warnings (not a subquery per item), and one UPDATE for the changed items.
    """
    if not stored:
        return 0
    ids = list(stored)
    escalations = dict(
        _escalated_tasks(Task.objects.filter(item_id__in=ids))
        .order_by()
        .values("item_id")
        .annotate(n=Count("pk"))
        .values_list("item_id", "n")
    )
    stale_from = dict(
        _stale_warnings(Alert.objects.filter(task__item_id__in=ids))
        .order_by()
        .values("task__item_id")
        .annotate(first=Min("due_at"))
        .values_list("task__item_id", "first")
    )
    fresh = {pk: (escalations.get(pk, 0), stale_from.get(pk)) for pk in ids}
    changed = [(pk, *fresh[pk]) for pk in ids if fresh[pk] != stored[pk]]
    if changed:
        _store_facts(changed)
    return len(changed)


def _store_facts(changed: list[tuple[int, int, datetime | None]]) -> None:
    """One UPDATE of the items' ``SWEEP_FACTS`` from a list of (id, escalations, stale from):
    joined with the values (``UPDATE … FROM (VALUES …)``, PostgreSQL and SQLite ≥ 3.33), not a
    ``CASE`` of a branch per item, which Django compiled for 0.3 s and the database tested for
    every row (1,000 items: 1,000,000 comparisons). The first row's values are typed on
    PostgreSQL (its NULLs would be text)."""
    meta = CollaborationItem._meta
    quote = connection.ops.quote_name
    columns = {field.name: str(field.column) for field in meta.concrete_fields}
    escalations, stale_from = (quote(columns[name]) for name in SWEEP_FACTS)
    if connection.vendor == "postgresql":
        typed = [meta.get_field(name).db_type(connection) for name in ("id", *SWEEP_FACTS)]
        first = "(" + ", ".join(f"CAST(%s AS {db_type})" for db_type in typed) + ")"
    else:
        first = "(%s, %s, %s)"
    table, key = quote(meta.db_table), quote(columns["id"])
    adapt = connection.ops.adapt_datetimefield_value
    limit = connection.features.max_query_params
    with connection.cursor() as cursor:
        for chunk in batched(changed, limit // 3 if limit else len(changed)):
            rows = ", ".join([first] + ["(%s, %s, %s)"] * (len(chunk) - 1))
            cursor.execute(
                # Only the model's own names and placeholders: the values go as parameters.
                f"UPDATE {table} SET {escalations} = v.column2, {stale_from} = v.column3"  # noqa: S608
                f" FROM (VALUES {rows}) AS v WHERE {table}.{key} = v.column1",
                [value for pk, count, first_due in chunk for value in (pk, count, adapt(first_due))],
            )
