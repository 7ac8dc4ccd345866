"""The item timeline (Gantt-style), laid out on the server as a CSS grid of day columns.

Server-rendered rather than a JavaScript Gantt library: it prints as it looks, works offline and
on a phone, and shows the company calendar exactly (make-up workdays are working days, holidays
and weekends are shaded), which no Gantt library knows by itself.

Tasks have no dependency field, so no dependency arrows are drawn. A task's bar runs from the day
it was assigned (its creation, in the company time zone) to its deadline.
"""

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape
from typing import Any, NamedTuple

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from collab.dashboards.prepared import STAND_IN_NOW, STAND_IN_USER, Prepared, cached
from collab.lib.workdays import Calendar
from collab.org.calendar import day_label
from collab.org.models import name_of
from requests_app.models import CollaborationItem, Milestone
from tasks_app.models import Task, TaskStatus

# Days shown on each side of the work, and the longest span drawn (a year).
MARGIN_DAYS = 2
MAX_DAYS = 366
# Wider than this, the header shows day numbers only on Mondays and the 1st (print stays legible).
DENSE_DAYS = 62


@dataclass(frozen=True)
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


class TimelineTask(NamedTuple):
    """What the page shows of one task (a row of values: 500 model instances with their owner,
    person and department cost the page more than the rest of it)."""

    pk: int
    name: str
    deadline: date
    created_at: datetime
    status: str
    percent_done: int
    owner: str  # the owner's display name
    department: str


@dataclass
class Bar:
    task: TimelineTask
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
    milestone: "TimelineMilestone"
    column: int
    passed: bool


class Grid(NamedTuple):
    """The day columns of a span as drawn: shared by every page that draws the same days (read
    only)."""

    days: tuple[Day, ...]
    months: tuple[Month, ...]
    shades: SafeString  # the shaded columns behind the rows
    cells: SafeString  # the header's day cells


@dataclass
class Timeline:
    start: date
    end: date
    days: Sequence[Day]
    months: Sequence[Month]
    bars: list[Bar]
    milestones: list[MilestoneMark]
    today: date
    today_shown: bool
    dense: bool
    grid: Grid

    @property
    def columns(self) -> int:
        return len(self.days)


def _local_date(moment: datetime | None, calendar: Calendar) -> date | None:
    return timezone.localtime(moment, calendar.tz).date() if moment is not None else None


# The day grids drawn lately, by everything that decides them (see ``day_grid``). A few dozen:
# each is up to a year of days and about 70 KB of HTML.
_GRIDS: dict[Hashable, Grid] = {}
_GRIDS_KEPT = 32


def day_grid(calendar: Calendar, start: date, count: int, today: date) -> Grid:
    """The ``count`` day columns from ``start``: each day working or not, a make-up workday,
    its label, today; the months above them; and their HTML.

    Drawn once per process for the same days: the key holds everything that decides them (the
    calendar's sources for those days, its overrides among them included, so an override saved
    a moment ago draws a new grid; the span, today and the reader's language). Up to a year of
    days cost the page 3 ms to draw each time.
    """
    end = start + timedelta(days=count - 1)
    key = (calendar.days_key(start, end), start, count, today, translation.get_language())
    grid = _GRIDS.get(key)
    if grid is None:
        grid = _draw_grid(calendar, start, count, today)
        if len(_GRIDS) >= _GRIDS_KEPT:
            _GRIDS.clear()
        _GRIDS[key] = grid
    return grid


def _draw_grid(calendar: Calendar, start: date, count: int, today: date) -> Grid:
    dense = count > DENSE_DAYS
    days = []
    # Each kind of day (working, weekend, a holiday, a make-up day for it…) is named once.
    labels: dict[tuple[Any, ...], str] = {}
    for offset in range(count):
        day = start + timedelta(days=offset)
        kind = calendar.day_kind(day)
        named = (
            kind.workday,
            kind.override_note is None,
            kind.makeup,
            kind.makeup_for,
            kind.reason,
            kind.name,
        )
        if (label := labels.get(named)) is None:
            label = labels[named] = day_label(kind)
        days.append(
            Day(
                day=day,
                column=2 + offset,
                working=kind.workday,
                makeup=kind.workday and day.weekday() >= 5,
                label=label,
                today=day == today,
                show_number=not dense or day.weekday() == 0 or day.day == 1,
            )
        )
    months: list[Month] = []
    month = None
    for d in days:
        if (d.day.year, d.day.month) == month:
            months[-1].span += 1
        else:
            month = (d.day.year, d.day.month)
            months.append(Month(label=f"{d.day.year:04d}-{d.day.month:02d}", column=d.column, span=1))
    shades, cells = _grid_html(days)
    return Grid(tuple(days), tuple(months), shades, cells)


def build_timeline(
    item: CollaborationItem,
    tasks: list[TimelineTask],
    milestones: Sequence["TimelineMilestone"],
    calendar: Calendar,
    *,
    now: datetime | None = None,
) -> Timeline:
    """Lays out the item's milestones and tasks on day columns of ``calendar``.

    1. The span covers every task (assignment to deadline), every milestone and today, with
       MARGIN_DAYS on each side; it is cut at MAX_DAYS from its start (today's line may then
       fall outside, and is not drawn).
    2. Each day is a grid column (column 1 holds the labels): working or not on the calendar,
       a make-up workday marked as such, today marked (``day_grid``: drawn once per process
       for the same days).
    3. Each task is a bar from its assignment day to its deadline; late when not done and the
       deadline is before today, and then its overrun is drawn from the day after the deadline
       to today.
    """
    now = now or timezone.now()
    today = timezone.localtime(now, calendar.tz).date()
    # The day each task was assigned: the moment in the calendar's zone (no checks for a naive
    # moment, as timezone.localtime makes: the database gives aware ones).
    tz = calendar.tz
    starts = {
        t.pk: min(t.created_at.astimezone(tz).date(), t.deadline) if t.created_at is not None else t.deadline
        for t in tasks
    }
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

    grid = day_grid(calendar, start, count, today)

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
        days=grid.days,
        months=grid.months,
        bars=bars,
        milestones=marks,
        today=today,
        today_shown=start <= today <= end,
        dense=dense,
        grid=grid,
    )


def _tasks_of(item_pk: int) -> QuerySet[Any]:
    return (
        Task.objects.filter(item_id=item_pk)
        .order_by("deadline", "pk")
        .values_list(
            *("pk", "name", "deadline", "created_at", "status", "percent_done"),
            *("owner__username", "owner__first_name", "owner__last_name", "owner__person__id"),
            "department__name",
        )
    )


def _tasks_statement() -> Prepared:
    """``_tasks_of`` compiled once per connection for a stand-in item, run for the real one
    (building and compiling the query with its four joins was a millisecond a page)."""
    return cached("timeline.tasks", lambda connection: Prepared(connection, _tasks_of(STAND_IN_USER)))


def timeline_tasks(item: CollaborationItem) -> list[TimelineTask]:
    """The item's tasks with their owners' names and departments: one query of the columns the
    page shows, read as values."""
    names: dict[tuple[Any, ...], str] = {}
    tasks = []
    for pk, name, deadline, created_at, status, percent, *owner, department in _tasks_statement().tuples(
        item.pk, STAND_IN_NOW
    ):
        key = tuple(owner)
        if key not in names:
            username, first, last, person = owner
            # As str(person), or the login name of someone without a person (a service account).
            names[key] = name_of(first, last, username) if person is not None else username
        tasks.append(TimelineTask(pk, name, deadline, created_at, status, percent, names[key], department))
    return tasks


class TimelineMilestone(NamedTuple):
    """What the page shows of a milestone."""

    name: str
    due_date: date


def timeline_milestones(item: CollaborationItem) -> list[TimelineMilestone]:
    return [
        TimelineMilestone(*row)
        for row in Milestone.objects.filter(item=item)
        .order_by("due_date", "pk")
        .values_list("name", "due_date")
    ]


# The task rows of the chart and of the table below it, written here rather than by the template
# engine: 500 tasks are 1,000 rows of about 20 template nodes each, which cost the page over
# 100 ms of CPU (the engine resolves every variable and filter per row). f-strings, every text
# escaped (``html.escape``, which Django's ``escape`` wraps), the same owner's and department's
# names escaped once. The day grid is drawn once, behind the rows (timeline.html's tl-back layer).
_ANY_ID = 987654321


def day_cells_html(timeline: Timeline) -> tuple[SafeString, SafeString]:
    """The shaded day columns behind the rows and the header's day cells (up to a year of days,
    two cells each), written once per grid like the task rows once per page."""
    return timeline.grid.shades, timeline.grid.cells


def _grid_html(days: Sequence[Day]) -> tuple[SafeString, SafeString]:
    back, header = [], []
    for d in days:
        shade = "off" if not d.working else "makeup" if d.makeup else ""
        today = " today" if d.today else ""
        back.append(f'<span class="{shade}{today}" style="grid-column: {d.column}"></span>')
        day = f"{d.day:%Y-%m-%d}"
        classes = f"{' off' if not d.working else ''}{' makeup' if d.makeup else ''}{today}"
        header.append(
            f'<div class="tl-day{classes}" style="grid-column: {d.column}" title="{day} {escape(d.label)}"'
            f' data-day="{day}">{d.day.day if d.show_number else ""}</div>'
        )
    return mark_safe("".join(back)), mark_safe("".join(header))  # noqa: S308 - the labels escaped


def task_rows_html(timeline: Timeline, item: CollaborationItem) -> tuple[SafeString, SafeString]:
    """The chart's task rows and the table's rows, as HTML: every word translated once, every
    text escaped (``escape``), numbers and our own class names written as they are."""
    late_word = escape(_("late"))
    overrun_text = f'title="{late_word}"><span class="tl-bar-text">{late_word}</span></div>'
    late_tag = f' <span class="tag danger">{late_word}</span>'
    td_task, td_owner, td_department, td_deadline, td_status, td_percent = (
        f'<td data-label="{escape(label)}"'
        for label in (
            _("Task"),
            _("Owner"),
            _("Department"),
            _("Deadline"),
            _("Current status"),
            _("Percent done"),
        )
    )
    statuses = {value: escape(str(label)) for value, label in TaskStatus.choices}
    status_cells: dict[str, str] = {}  # each status's cell, written once
    escaped: dict[str, str] = {}  # owners' and departments' names, each escaped once
    # One reverse() for the page, with a stand-in for the task's id (500 reverse() cost 15 ms).
    url_head, url_tail = reverse("tasks_app:task_detail", args=[item.pk, _ANY_ID]).split(str(_ANY_ID))
    chart, table = [], []
    for bar in timeline.bars:
        task = bar.task
        pk, percent, deadline, status = task.pk, task.percent_done, task.deadline, task.status
        name = escape(task.name)
        if (owner := escaped.get(task.owner)) is None:
            owner = escaped[task.owner] = escape(task.owner)
        if (department := escaped.get(task.department)) is None:
            department = escaped[task.department] = escape(task.department)
        late = " late" if bar.late else ""
        state = late or (" done" if bar.done else "")
        inside = f'<span class="tl-bar-text">{percent}%</span>' if bar.wide else ""
        overrun = (
            f'<div class="tl-overrun" style="grid-column: {bar.overrun[0]} / {bar.overrun[1]}" {overrun_text}'
            if bar.overrun
            else ""
        )
        chart.append(
            f'<div class="tl-row tl-task{late}" data-task="{pk}">'
            f'<div class="tl-label"><a href="{url_head}{pk}{url_tail}">{name}</a>'
            f'<span class="muted">{owner} · {deadline.month:02d}-{deadline.day:02d} · {percent}%</span></div>'
            f'<div class="tl-bar{state}" style="grid-column: {bar.start_column} / {bar.end_column}"'
            f' title="{name}: {percent}%"><span class="tl-progress" style="width: {percent}%"></span>'
            f"{inside}</div>{overrun}</div>"
        )
        if (status_cell := status_cells.get(status)) is None:
            label = statuses.get(status) or escape(status)
            status_cell = status_cells[status] = (
                f'{td_status}><span class="status status-{escape(status)}">{label}</span></td>'
            )
        table.append(
            f'<tr class="{late.strip()}">{td_task}>{name}</td>{td_owner}>{owner}</td>'
            f"{td_department}>{department}</td>"
            f'{td_deadline} class="nowrap">{deadline.isoformat()}{late_tag if bar.late else ""}</td>'
            f"{status_cell}"
            f"{td_percent}>{percent}%</td></tr>"
        )
    return mark_safe("".join(chart)), mark_safe("".join(table))  # noqa: S308 - every text escaped above
