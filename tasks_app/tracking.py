"""Reads of stage 4: every task's latest state, late and stale first, and the progress record
(《进度跟踪记录表》) in its columns, declared once for the page, the print and the Excel file."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collab.lib.xlsx import Percent, XlsxBook, as_text
from collab.org.models import display_name
from requests_app.models import CollaborationItem, Milestone
from tasks_app.models import Alert, AlertKind, Problem, ProblemStatus, ProgressReport, Task, TaskStatus


@dataclass
class TaskState:
    task: Task
    report: ProgressReport | None
    late: bool
    stale: bool


def tracked_tasks(
    item: CollaborationItem, *, today: date | None = None, now: datetime | None = None
) -> list[TaskState]:
    """The item's tasks with their latest report, late ones first, then stale ones, in 3 queries.

    Stale means a "report missing" warning came due after the task's last report.
    """
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    missing = Alert.objects.filter(
        task=OuterRef("pk"), kind=AlertKind.REPORT_MISSING, step=0, cancelled_at=None, due_at__lte=now
    )
    tasks = list(
        Task.objects.filter(item=item)
        .select_related("owner__person", "department", "receiver")
        .annotate(
            latest_report_id=Subquery(
                ProgressReport.objects.filter(task=OuterRef("pk"))
                .order_by("-created_at", "-pk")
                .values("pk")[:1]
            ),
            stale_flag=Exists(
                missing.filter(
                    Q(due_at__gt=OuterRef("last_reported_at")) | Q(task__last_reported_at__isnull=True)
                )
            ),
        )
    )
    reports = ProgressReport.objects.in_bulk([t.latest_report_id for t in tasks if t.latest_report_id])
    states = [
        TaskState(
            task=t,
            report=reports.get(t.latest_report_id),
            late=t.status != TaskStatus.DONE and t.deadline < today,
            stale=t.status != TaskStatus.DONE and bool(t.stale_flag),
        )
        for t in tasks
    ]
    states.sort(
        key=lambda s: (not s.late, not s.stale, s.task.status == TaskStatus.DONE, s.task.deadline, s.task.pk)
    )
    return states


def open_problems(item: CollaborationItem) -> QuerySet[Problem]:
    return (
        Problem.objects.filter(item=item)
        .select_related("task", "owner__person", "raised_by__person")
        .order_by("status", "-raised_at")
    )


@dataclass(frozen=True)
class RecordColumn:
    header: Promise
    value: Callable[[TaskState], Any]  # typed: dates, percentages
    width: int
    print_as: str = "text"  # as SheetColumn.print_as: "line" for names, dates and numbers


def _status(state: TaskState) -> str:
    label = str(state.task.get_status_display())
    if state.late:
        label += _(" (late)")
    elif state.stale:
        label += _(" (report missing)")
    return label


PROGRESS_RECORD_COLUMNS: list[RecordColumn] = [
    RecordColumn(gettext_lazy("Task"), lambda s: s.task.name, 30, "title"),
    RecordColumn(gettext_lazy("Owner"), lambda s: display_name(s.task.owner), 12, "line"),
    RecordColumn(gettext_lazy("Deadline"), lambda s: s.task.deadline, 14, "line"),
    RecordColumn(gettext_lazy("Current status"), _status, 16, "line"),
    RecordColumn(gettext_lazy("Percent done"), lambda s: Percent(s.task.percent_done / 100), 10, "line"),
    RecordColumn(gettext_lazy("Risks or problems"), lambda s: s.report.risks if s.report else "", 40),
    RecordColumn(gettext_lazy("Measures taken"), lambda s: s.report.measures if s.report else "", 40),
    RecordColumn(gettext_lazy("Last report"), lambda s: s.task.last_reported_at, 20, "line"),
]


def record_row(state: TaskState) -> list[str]:
    """One row as the page shows it."""
    return [as_text(column.value(state)) for column in PROGRESS_RECORD_COLUMNS]


def progress_record_book(item: CollaborationItem, states: Iterable[TaskState]) -> XlsxBook:
    title = _("Progress tracking record: %(number)s %(topic)s") % {
        "number": item.number or "",
        "topic": item.topic,
    }
    book = XlsxBook(title=_("Progress record"))
    book.table(
        sheet_title=_("Progress record"),
        headers=[str(c.header) for c in PROGRESS_RECORD_COLUMNS],
        rows=([column.value(s) for column in PROGRESS_RECORD_COLUMNS] for s in states),
        max_widths=[c.width for c in PROGRESS_RECORD_COLUMNS],
        title=title,
    )
    return book


def write_progress_record_xlsx(
    item: CollaborationItem, states: Iterable[TaskState], target: IO[bytes]
) -> int:
    return progress_record_book(item, states).save(target)


@dataclass
class MilestoneReport:
    """A stage output (阶段性成果, e.g. 测试进度报告): where the work due by a milestone stands."""

    milestone: Milestone
    states: list[TaskState]
    done: int
    late: int
    average_percent: int
    problems: list[Problem]


def milestone_report(
    item: CollaborationItem, milestone: Milestone, states: list[TaskState]
) -> MilestoneReport:
    due = [s for s in states if s.task.deadline <= milestone.due_date]
    task_ids = {s.task.pk for s in due}
    problems = [p for p in open_problems(item) if p.task_id in task_ids and p.status == ProblemStatus.OPEN]
    return MilestoneReport(
        milestone=milestone,
        states=due,
        done=sum(1 for s in due if s.task.status == TaskStatus.DONE),
        late=sum(1 for s in due if s.late),
        average_percent=round(sum(s.task.percent_done for s in due) / len(due)) if due else 0,
        problems=problems,
    )
