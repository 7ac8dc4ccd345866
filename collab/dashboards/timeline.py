"""The item timeline (Gantt-style), laid out on the server as a CSS grid of day columns.

Server-rendered rather than a JavaScript Gantt library: it prints as it looks, works offline and
on a phone, and shows the company calendar exactly (make-up workdays are working days, holidays
and weekends are shaded), which no Gantt library knows by itself.

Tasks have no dependency field, so no dependency arrows are drawn. A task's bar runs from the day
it was assigned (its creation, in the company time zone) to its deadline.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

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
    """The item's tasks with owners and departments: one query, of the columns the page shows
    (500 tasks with every column of four tables cost the page tens of ms to build)."""
    return list(
        Task.objects.filter(item=item)
        .select_related("owner__person", "department")
        .only(
            *("item_id", "name", "deadline", "created_at", "status", "percent_done"),
            *("owner__username", "owner__first_name", "owner__last_name", "owner__person__user_id"),
            "department__name",
        )
        .order_by("deadline", "pk")
    )


def timeline_milestones(item: CollaborationItem) -> list[Any]:
    return list(Milestone.objects.filter(item=item).order_by("due_date", "pk"))


# The task rows of the chart and of the table below it, written here rather than by the template
# engine: 500 tasks are 1,000 rows of about 20 template nodes each, which cost the page over
# 100 ms of CPU (the engine resolves every variable and filter per row); format strings cost a
# few (``html.escape``, which Django's ``escape`` wraps, on every text). The day grid is drawn
# once, behind the rows (timeline.html's tl-back layer).
_CHART_ROW = (
    '<div class="tl-row tl-task{late}" data-task="{pk}">'
    '<div class="tl-label"><a href="{url}">{name}</a>'
    '<span class="muted">{owner} · {deadline} · {percent}%</span></div>'
    '<div class="tl-bar{state}" style="grid-column: {start} / {end}" title="{name}: {percent}%">'
    '<span class="tl-progress" style="width: {percent}%"></span>{inside}</div>{overrun}</div>'
)
_OVERRUN = (
    '<div class="tl-overrun" style="grid-column: {} / {}" title="{}">'
    '<span class="tl-bar-text">{}</span></div>'
)
_TABLE_ROW = (
    '<tr class="{late_class}"><td data-label="{l_task}">{name}</td><td data-label="{l_owner}">{owner}</td>'
    '<td data-label="{l_department}">{department}</td>'
    '<td data-label="{l_deadline}" class="nowrap">{deadline}{late_tag}</td>'
    '<td data-label="{l_status}"><span class="status status-{status}">{status_label}</span></td>'
    '<td data-label="{l_percent}">{percent}%</td></tr>'
)


_ANY_ID = 987654321


def _person(user: Any) -> str:
    person = getattr(user, "person", None)
    return str(person) if person is not None else user.get_username()


def day_cells_html(timeline: Timeline) -> tuple[SafeString, SafeString]:
    """The shaded day columns behind the rows and the header's day cells (up to a year of days,
    two cells each), written once per page like the task rows."""
    back, header = [], []
    for d in timeline.days:
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
    labels = {
        "l_task": escape(_("Task")),
        "l_owner": escape(_("Owner")),
        "l_department": escape(_("Department")),
        "l_deadline": escape(_("Deadline")),
        "l_status": escape(_("Current status")),
        "l_percent": escape(_("Percent done")),
    }
    late_tag = f' <span class="tag danger">{late_word}</span>'
    statuses = {value: escape(str(label)) for value, label in TaskStatus.choices}
    # One reverse() for the page, with a stand-in for the task's id (500 reverse() cost 15 ms).
    url_of = reverse("tasks_app:task_detail", args=[item.pk, _ANY_ID]).split(str(_ANY_ID))
    chart, table = [], []
    for bar in timeline.bars:
        task = bar.task
        name, owner = escape(task.name), escape(_person(task.owner))
        overrun = _OVERRUN.format(bar.overrun[0], bar.overrun[1], late_word, late_word) if bar.overrun else ""
        chart.append(
            _CHART_ROW.format(
                late=" late" if bar.late else "",
                pk=task.pk,
                url=f"{url_of[0]}{task.pk}{url_of[1]}",
                name=name,
                owner=owner,
                deadline=f"{task.deadline:%m-%d}",
                percent=task.percent_done,
                state=" late" if bar.late else " done" if bar.done else "",
                start=bar.start_column,
                end=bar.end_column,
                inside=f'<span class="tl-bar-text">{task.percent_done}%</span>' if bar.wide else "",
                overrun=overrun,
            )
        )
        table.append(
            _TABLE_ROW.format(
                late_class="late" if bar.late else "",
                name=name,
                owner=owner,
                department=escape(str(task.department)),
                deadline=f"{task.deadline:%Y-%m-%d}",
                late_tag=late_tag if bar.late else "",
                status=escape(task.status),
                status_label=statuses.get(task.status, escape(task.status)),
                percent=task.percent_done,
                **labels,
            )
        )
    return mark_safe("".join(chart)), mark_safe("".join(table))  # noqa: S308 - every text escaped above
