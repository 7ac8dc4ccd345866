"""Writes of stage 4: progress reports, problems and the reporting cadence (《进度跟踪记录表》).

Owners (and collaborators) report status, percent done, risks and measures on the item's cadence.
A risk or a blocker becomes a row of the issue-tracking list (问题跟踪表) and reaches the
coordinator at once; every report re-plans the "report missing" warning of its task.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from collab.audit.services import audit_record
from collab.audit.texts import Text
from collab.notify.handoffs import tell
from collab.notify.services import notify
from collab.org.models import display_name
from collab.prepared_rows import row_by_key, save_fields
from requests_app.access import people_who_see
from requests_app.health_facts import item_health_refresh
from requests_app.models import CollaborationItem, ItemStatus, ReportCadence
from requests_app.rules import vague_wording_errors
from requests_app.services import ItemError, locked_item, require_open
from requests_app.transitions import transition
from tasks_app import alerts
from tasks_app.access import HAND_OVER_PROBLEM, REPORT, RESOLVE_PROBLEM, SET_CADENCE
from tasks_app.models import (
    PROBLEM_TRANSITIONS,
    REPORTED_STATUSES,
    TASK_TRANSITIONS,
    Problem,
    ProblemStatus,
    ProgressReport,
    Task,
    TaskStatus,
)


@dataclass
class ReportData:
    status: str
    percent_done: int
    summary: str
    risks: str = ""
    measures: str = ""


def report_problems(data: ReportData) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    if not data.summary.strip():
        problems["summary"] = [_("Say what was done since the last report.")]
    if not 0 <= data.percent_done <= 100:
        problems["percent_done"] = [_("Percent done is a number from 0 to 100.")]
    if data.status == TaskStatus.BLOCKED and not data.risks.strip():
        problems["risks"] = [_("Say what blocks the task, so the coordinator can act on it.")]
    if data.status not in REPORTED_STATUSES:
        problems["status"] = [
            _(
                "Report the task as not started, in progress or blocked: it is delivered when its "
                "deliverable is submitted, and done when both sides sign its acceptance form."
            )
        ]
    if data.risks.strip() and not data.measures.strip() and data.status != TaskStatus.BLOCKED:
        problems["measures"] = [_("Say what is being done about the risk (or report the task as blocked).")]
    if vague := vague_wording_errors(data.measures):
        problems.setdefault("measures", []).extend(vague)
    return problems


def _task_to_report_on(pk: int) -> QuerySet[Task]:
    # Locked: the item, then the task (PostgreSQL locks in the order of OF), the order of every
    # write of an item, so a report never holds the task while it waits for the item that a
    # deliverable's write holds; FOR NO KEY UPDATE, which queues writers without holding up the
    # rows that others insert naming the task or the item (their foreign keys' FOR KEY SHARE).
    # The owner's person and region come along, not locked, for the next report's due time.
    return (
        Task.objects.select_for_update(no_key=True, of=("item", "self"))
        .select_related("item", "owner__person__region")
        .filter(pk=pk)
        .order_by()
    )


@transaction.atomic
def progress_report(*, actor: Any, task_id: int, data: ReportData) -> ProgressReport:
    task: Task | None = row_by_key(_task_to_report_on, task_id)
    if task is None:
        raise Task.DoesNotExist("Task matching query does not exist.")
    item = task.item
    require_open(item)
    if item.status != ItemStatus.EXECUTING:
        raise ItemError(_("Progress is reported once the item is in execution."))
    REPORT.require(actor, task)
    if task.status == TaskStatus.DONE:
        raise ItemError(
            _("This task is done: both sides signed its acceptance form, so no report can reopen it.")
        )
    if problems := report_problems(data):
        raise ItemError(_("The report is not complete."), problems)
    report = ProgressReport.objects.create(
        task=task,
        reporter=actor,
        status=data.status,
        percent_done=data.percent_done,
        summary=data.summary.strip(),
        risks=data.risks.strip(),
        measures=data.measures.strip(),
    )
    changes = {"task": [None, task.name], "percent_done": [str(task.percent_done), str(data.percent_done)]}
    task.last_reported_at = report.created_at
    if task.status == TaskStatus.DELIVERED:
        # Under review the task shows its review, whatever the report says; the report is kept.
        fields = ["last_reported_at", "updated_at"]
    else:
        task.percent_done = data.percent_done
        fields = ["percent_done", "last_reported_at", "updated_at"]
    if task.status in (TaskStatus.DELIVERED, data.status):
        save_fields(task, fields)
        audit_record(actor=actor, action="task.reported", target=item, changes=changes, note=report.summary)
    else:
        task_transition(
            actor=actor,
            task=task,
            to=data.status,
            action="task.reported",
            fields=fields,
            changes=changes,
            note=report.summary,
        )
    if report.risks:
        problem = Problem.objects.create(
            item=item,
            task=task,
            report=report,
            description=report.risks,
            blocking=data.status == TaskStatus.BLOCKED,
            raised_by=actor,
            owner=item.coordinator,
        )
        _tell_coordinator_of_problem(problem)
    alerts.plan_report_alert(task, since=report.created_at)
    item_health_refresh([item.pk])
    return report


def task_transition(
    *,
    actor: Any,
    task: Task,
    to: str,
    action: str,
    fields: Sequence[str] = (),
    changes: dict[str, Any] | None = None,
    note: str = "",
) -> None:
    """Moves a row-locked task along TASK_TRANSITIONS, through the one door (audit row included)."""
    transition(
        actor=actor,
        obj=task,
        to=to,
        table=TASK_TRANSITIONS,
        item=task.item,
        action=action,
        fields=fields,
        changes={"task": [task.name, task.name], **(changes or {})},
        note=note,
        refusal=_('Task "%(task)s" cannot move from "%(current)s" to "%(target)s".')
        % {"task": task.name, "current": task.get_status_display(), "target": TaskStatus(to).label},
    )


def _tell_coordinator_of_problem(problem: Problem) -> None:
    """A risk goes to the coordinator at once, on the instant channels, whatever the scenario."""
    task, item = problem.task, problem.item

    def render() -> tuple[Text, Text]:
        if problem.blocking:
            title = Text(gettext_noop('Blocked: "%(task)s" (%(topic)s)'), task=task.name, topic=item.topic)
        else:
            title = Text(
                gettext_noop('Risk reported on "%(task)s" (%(topic)s)'), task=task.name, topic=item.topic
            )
        return title, Text(
            gettext_noop("%(person)s: %(problem)s"),
            person=display_name(problem.raised_by),
            problem=problem.description,
        )

    tell(
        "task.problem",
        recipients=[item.coordinator],
        render=render,
        url=reverse("tasks_app:progress", args=[item.pk]) + "#problems",
        item=item,
        dedupe=f"problem:{problem.pk}",
    )


def _require_problem_manager(actor: Any, problem: Problem) -> None:
    RESOLVE_PROBLEM.require(actor, problem)


@transaction.atomic
def problem_resolve(*, actor: Any, problem_id: int, resolution: str) -> Problem:
    problem = (
        Problem.objects.select_for_update(no_key=True, of=("self",))
        .select_related("item", "task")
        .get(pk=problem_id)
    )
    _require_problem_manager(actor, problem)
    if problem.status == ProblemStatus.RESOLVED:
        raise ItemError(_("This problem is already resolved."))
    if not resolution.strip():
        raise ItemError(_("Say how the problem was resolved."), {"resolution": [_("Required.")]})
    problem.resolution, problem.resolved_at = resolution.strip(), timezone.now()
    transition(
        actor=actor,
        obj=problem,
        to=ProblemStatus.RESOLVED,
        table=PROBLEM_TRANSITIONS,
        item=problem.item,
        action="problem.resolved",
        fields=["resolution", "resolved_at"],
        changes={"problem": [problem.description, None]},
        note=problem.resolution,
        refusal=_("This problem is already resolved."),
    )
    item_health_refresh([problem.item_id])
    notify(
        recipients=[problem.raised_by, problem.task.owner],
        kind="problem.resolved",
        render=lambda: (
            Text(gettext_noop('Problem resolved on "%(task)s"'), task=problem.task.name),
            problem.resolution,
        ),
        url=reverse("tasks_app:progress", args=[problem.item_id]) + "#problems",
        item=problem.item,
        dedupe=f"problem:{problem.pk}:resolved",
    )
    return problem


@transaction.atomic
def problem_assign(*, actor: Any, problem_id: int, owner_id: int) -> Problem:
    """The coordinator hands a problem to whoever must resolve it (e.g. the product manager)."""
    problem = (
        Problem.objects.select_for_update(no_key=True, of=("self",))
        .select_related("item", "task")
        .get(pk=problem_id)
    )
    HAND_OVER_PROBLEM.require(actor, problem.item)
    if problem.status != ProblemStatus.OPEN:
        raise ItemError(_("This problem is already resolved."))
    owner = get_user_model().objects.filter(pk=owner_id, is_active=True).first()
    if owner is None:
        raise ItemError(_("Choose an active person to resolve the problem."))
    if not people_who_see(problem.item).filter(pk=owner.pk).exists():
        raise ItemError(
            _("%(person)s does not take part in this item: hand the problem to someone who does.")
            % {"person": display_name(owner)}
        )
    old = display_name(problem.owner)
    problem.owner = owner
    problem.save(update_fields=["owner"])
    audit_record(
        actor=actor,
        action="problem.assigned",
        target=problem.item,
        changes={"owner": [old, display_name(owner)]},
        note=problem.description,
    )
    tell(
        "problem.assigned",
        recipients=[owner],
        render=lambda: (
            Text(gettext_noop('Please resolve a problem of "%(task)s"'), task=problem.task.name),
            problem.description,
        ),
        url=reverse("tasks_app:progress", args=[problem.item_id]) + "#problems",
        item=problem.item,
        dedupe=f"problem:{problem.pk}:owner:{owner.pk}",
        blocking=problem.blocking,
    )
    return problem


@transaction.atomic
def item_set_cadence(*, actor: Any, item_id: int, cadence: str) -> CollaborationItem:
    item = locked_item(item_id)
    SET_CADENCE.require(actor, item)
    if cadence not in ReportCadence.values:
        raise ItemError(_("Choose one of the offered cadences."))
    old = item.cadence
    item.report_cadence = cadence
    item.save(update_fields=["report_cadence", "updated_at"])
    audit_record(
        actor=actor, action="item.cadence_changed", target=item, changes={"report_cadence": [old, cadence]}
    )
    for task in (
        Task.objects.filter(item=item).exclude(status=TaskStatus.DONE).select_related("item", "owner")
    ):
        alerts.plan_report_alert(task, since=task.last_reported_at or timezone.now())
    item_health_refresh([item.pk])
    return item
