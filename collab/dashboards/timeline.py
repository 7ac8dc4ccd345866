"""The item timeline (Gantt-style), laid out on the server as a CSS grid of day columns.

Server-rendered rather than a JavaScript Gantt library: it prints as it looks, works offline and
on a phone, and shows the company calendar exactly (make-up workdays are working days, holidays
and weekends are shaded), which no Gantt library knows by itself.

Tasks have no dependency field, so no dependency arrows are drawn. A task's bar runs from the day
it was assigned (its creation, in the company time zone) to its deadline.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone

from collab.lib.workdays import Calendar
from collab.org.calendar import day_label
from requests_app.models import CollaborationItem, Milestone
from tasks_app.models import Task, TaskStatus

# Days shown on each side of the work, and the longest span drawn (a year).
MARGIN_DAYS = 2
MAX_DAYS = 366
# Wider than this, the header shows day numbers only on Mondays and the 1st (print stays legible).
DENSE_DAYS = 62


@dataclass
class Day:
    day: date
    column: int
    working: bool
    makeup: bool  # a weekend day worked in exchange for a holiday (调休): shown as working
    label: str
    today: bool
    show_number: bool


@dataclass
class Month:
    label: str
    column: int
    span: int


@dataclass
class Bar:
    task: Task
    start_column: int
    end_column: int  # exclusive
    late: bool
    done: bool
    clipped: bool
    # A late task's overrun, from the day after its deadline to today (columns, end exclusive).
    overrun: tuple[int, int] | None = None

    @property
    def wide(self) -> bool:
        """Wide enough to write the percentage inside the bar (else the label carries it)."""
        return self.end_column - self.start_column >= 3


@dataclass
class MilestoneMark:
    milestone: Milestone
    column: int
    passed: bool


@dataclass
class Timeline:
    start: date
    end: date
    days: list[Day]
    months: list[Month]
    bars: list[Bar]
    milestones: list[MilestoneMark]
    today: date
    today_shown: bool
    dense: bool

    @property
    def columns(self) -> int:
        return len(self.days)


def _local_date(moment: datetime | None, calendar: Calendar) -> date | None:
    return timezone.localtime(moment, calendar.tz).date() if moment is not None else None


def build_timeline(
    item: CollaborationItem,
    tasks: list[Task],
    milestones: list[Milestone],
    calendar: Calendar,
    *,
    now: datetime | None = None,
) -> Timeline:
    """Lays out the item's milestones and tasks on day columns of ``calendar``.

    1. The span covers every task (assignment to deadline), every milestone and today, with
       MARGIN_DAYS on each side; it is cut at MAX_DAYS from its start (today's line may then
       fall outside, and is not drawn).
    2. Each day is a grid column (column 1 holds the labels): working or not on the calendar,
       a make-up workday marked as such, today marked.
    3. Each task is a bar from its assignment day to its deadline; late when not done and the
       deadline is before today, and then its overrun is drawn from the day after the deadline
       to today.
    """
    now = now or timezone.now()
    today = timezone.localtime(now, calendar.tz).date()
    starts = {t.pk: min(_local_date(t.created_at, calendar) or t.deadline, t.deadline) for t in tasks}
    dates = [today, *starts.values(), *(t.deadline for t in tasks), *(m.due_date for m in milestones)]
    begun = _local_date(item.submitted_at or item.created_at, calendar)
    if begun is not None:
        dates.append(begun)
    start = min(dates) - timedelta(days=MARGIN_DAYS)
    end = max(dates) + timedelta(days=MARGIN_DAYS)
    end = min(end, start + timedelta(days=MAX_DAYS - 1))
    count = (end - start).days + 1
    dense = count > DENSE_DAYS

    def column(day: date) -> int:
        return 2 + (day - start).days

    days = []
    for offset in range(count):
        day = start + timedelta(days=offset)
        kind = calendar.day_kind(day)
        days.append(
            Day(
                day=day,
                column=column(day),
                working=kind.workday,
                makeup=kind.workday and day.weekday() >= 5,
                label=day_label(kind),
                today=day == today,
                show_number=not dense or day.weekday() == 0 or day.day == 1,
            )
        )
    months: list[Month] = []
    for d in days:
        label = f"{d.day:%Y-%m}"
        if months and months[-1].label == label:
            months[-1].span += 1
        else:
            months.append(Month(label=label, column=d.column, span=1))

    bars = []
    for task in tasks:
        first, last = max(starts[task.pk], start), min(task.deadline, end)
        if last < start or first > end:
            continue
        late = task.status != TaskStatus.DONE and task.deadline < today
        overrun = None
        if late and task.deadline < end:
            overrun = (column(max(task.deadline + timedelta(days=1), start)), column(min(today, end)) + 1)
        bars.append(
            Bar(
                task=task,
                start_column=column(first),
                end_column=column(last) + 1,
                late=late,
                done=task.status == TaskStatus.DONE,
                clipped=first != starts[task.pk] or last != task.deadline,
                overrun=overrun,
            )
        )
    marks = [
        MilestoneMark(milestone=m, column=column(m.due_date), passed=m.due_date < today)
        for m in milestones
        if start <= m.due_date <= end
    ]
    return Timeline(
        start=start,
        end=end,
        days=days,
        months=months,
        bars=bars,
        milestones=marks,
        today=today,
        today_shown=start <= today <= end,
        dense=dense,
    )


def timeline_tasks(item: CollaborationItem) -> list[Task]:
    """The item's tasks with owners and departments: one query."""
    return list(
        Task.objects.filter(item=item)
        .select_related("owner__person", "department")
        .order_by("deadline", "pk")
    )


def timeline_milestones(item: CollaborationItem) -> list[Any]:
    return list(Milestone.objects.filter(item=item).order_by("due_date", "pk"))
