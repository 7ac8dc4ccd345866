"""Reads behind the coordinator's dashboard, in a fixed number of queries."""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from html import escape
from typing import Any, cast

from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, F, Q, QuerySet, Subquery, Sum, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from collab.dashboards.board_prepared import model_statement, server_statement
from collab.dashboards.board_selectors import (
    STAGE_ORDER,
    ItemRow,
    RegionCalendars,
    ReviewRow,
    StageGroup,
    TaskRow,
    attention_rank,
    breakdown_gaps_read,
    day_count,
    flagged_tasks,
    group_by_stage,
    has_breakdown_gap,
    item_rows,
    ordered_reviews,
    ranked,
    ranked_ids,
    review_rows,
    task_rows,
)
from collab.dashboards.health import BEHIND_PERCENT, due_soon_limit
from collab.lib.workdays import Calendar
from requests_app.models import CollaborationItem, ItemStatus, Scenario
from reviews_app.models import DeliverableVersion
from tasks_app.models import Problem, ProblemStatus, Task, TaskStatus

# The dates a board's statement compares with: today and the last day that counts as soon.
Dates = tuple[date, ...]
# Items shown per stage on the board, worst health first; the full list is paged.
TOP_ITEMS = 10
ITEMS_PAGE_SIZE = 50
# Each other list of a board shows its most urgent entries with its count; the rest are one
# click away, paged (``coordinator_list``, the department's lists).
TOP_ENTRIES = 10
LIST_PAGE_SIZE = 50
# The board's lists besides the stages, each with its full, paged page.
COORDINATOR_LISTS = ("tasks", "problems", "reviews", "gaps")


class ArithmeticClock:
    """Working time between two moments on one calendar, without walking the days between.

    ``Calendar.working_time_between`` visits every day from a to b; a review overdue for months,
    times fifty rows, is thousands of days. Here the first and the last day are overlapped with
    their working periods exactly, and the whole days between count as (working days, from the
    page's shared prefix sums ``day_count``) x (the length of a working day). A time zone with
    daylight saving changes the length of two days a year: there the calendar's walk is used.
    A table test holds the two equal.
    """

    def __init__(self, calendar: Calendar) -> None:
        self.calendar = calendar
        self.days = day_count(calendar)
        self.day_length = sum(
            (
                datetime.combine(date.min, end) - datetime.combine(date.min, start)
                for start, end in calendar.periods
            ),
            timedelta(0),
        )

    def _fixed_offset(self, first: date, last: date) -> bool:
        for year in range(first.year, last.year + 1):
            for month in (1, 7):
                if self.calendar.at(date(year, month, 1), time(12)).dst():
                    return False
        return True

    def _within(self, day: date, start: datetime, end: datetime) -> timedelta:
        total = timedelta(0)
        for begin, finish in self.calendar.working_intervals(day):
            overlap = min(finish, end).astimezone(UTC) - max(begin, start).astimezone(UTC)
            total += max(overlap, timedelta(0))
        return total

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        if b < a:
            return -self.working_time_between(b, a)
        start, end = self.calendar.localize(a), self.calendar.localize(b)
        first, last = start.date(), end.date()
        if last - first < timedelta(days=2) or not self._fixed_offset(first, last):
            return self.calendar.working_time_between(a, b)
        between = self.days.between(first, last - timedelta(days=1))  # working days in (first, last)
        return self._within(first, start, end) + between * self.day_length + self._within(last, start, end)


def coordinator_review_rows(
    versions: Iterable[DeliverableVersion], calendars: RegionCalendars, now: datetime
) -> list[ReviewRow]:
    """``review_rows`` with each receiver's calendar counted by arithmetic (ArithmeticClock)."""
    clocks: dict[int, ArithmeticClock] = {}

    class _Clocks:
        def for_user(self, user: Any) -> Calendar:
            calendar = calendars.for_user(user)
            clock = clocks.setdefault(id(calendar), ArithmeticClock(calendar))
            # review_clock_label reads only working_time_between, which the clock answers.
            return cast(Calendar, clock)

    return review_rows(versions, cast(RegionCalendars, _Clocks()), now)


# ---------------------------------------------------------------------------------------------
# The item rows as HTML

# No item has this id: the place of the id in a URL reversed once for every row.
_ANY_ID = 2**31 - 1


def _around_id(name: str) -> tuple[str, str]:
    """The URL ``name`` of an item before and after the item's id."""
    head, tail = reverse(name, args=[_ANY_ID]).split(str(_ANY_ID))
    return head, tail


class _RowWords:
    """What every item row of a page says, translated and escaped once for the page, and each
    row's links as a URL reversed once with a stand-in id."""

    def __init__(self) -> None:
        self.health, self.item, self.done, self.problems, self.reviews = (
            f'<td data-label="{escape(label)}">'
            for label in (_("Health"), _("Item"), _("Tasks done"), _("Open problems"), _("Reviews waiting"))
        )
        self.detail = _around_id("requests_app:item_detail")
        self.timeline = _around_id("dashboards:timeline")
        self.progress = _around_id("tasks_app:progress")
        self.sheet = _around_id("tasks_app:task_sheet")
        self.progress_word = escape(_("Progress tracking"))
        self.sheet_word = escape(_("Task breakdown"))
        self.timeline_word = escape(_("Timeline"))
        self.scenarios = {value: escape(str(label)) for value, label in Scenario.choices}
        self.departments: dict[int, str] = {}  # each department's name, escaped once

    def action(self, item: CollaborationItem) -> str:
        """The link to what the item's stage asks for (followed by a space), or nothing."""
        if item.status == ItemStatus.EXECUTING:
            head, tail = self.progress
            return f'<a href="{head}{item.pk}{tail}">{self.progress_word}</a> '
        if item.status in (ItemStatus.CONSENSUS, ItemStatus.PLANNED):
            head, tail = self.sheet
            return f'<a href="{head}{item.pk}{tail}">{self.sheet_word}</a> '
        return ""

    def department(self, item: CollaborationItem) -> str:
        key = item.requesting_department_id
        if (name := self.departments.get(key)) is None:
            name = self.departments[key] = escape(str(item.requesting_department))
        return name


def _health_cell(row: ItemRow) -> str:
    health = escape(row.light.health.value)
    reasons = "".join(f"<li>{escape(reason)}</li>" for reason in row.light.reasons)
    return (
        f'<span class="db-health db-health-{health}" data-health="{health}">'
        f'<span class="dot" aria-hidden="true"></span>{escape(row.light.label)}</span>'
        + (f'<ul class="db-reasons">{reasons}</ul>' if reasons else "")
    )


def _overdue_tag(count: int) -> str:
    if not count:
        return ""
    text = ngettext("%(counter)s overdue", "%(counter)s overdue", count) % {"counter": count}
    return f' <span class="tag danger">{escape(text)}</span>'


def item_rows_html(rows: Iterable[ItemRow]) -> list[SafeString]:
    """The coordinator's item rows (the board's stages and each stage's full list), each as a
    table row of HTML: every word translated once for all rows, every text escaped, numbers and
    our own class names written as they are. The template wrote the board's 40 rows with 8
    labels, 4 reversed links and 2 includes each: two thirds of the page's render time."""
    words = _RowWords()
    head, tail = words.detail
    at_head, at_tail = words.timeline
    html = []
    for row in rows:
        item = row.item
        pk = item.pk
        scenario = words.scenarios.get(item.scenario) or escape(item.scenario)
        html.append(
            mark_safe(  # noqa: S308 - every text escaped above
                f'<tr data-item="{pk}">'
                f"{words.health}{_health_cell(row)}</td>"
                f'{words.item}<a href="{head}{pk}{tail}">'
                f'<span class="number">{escape(str(item.number))}</span> {escape(item.topic)}</a><br>'
                f'<span class="muted">{scenario} · {words.department(item)}</span></td>'
                f"{words.done}{item.task_done} / {item.task_total}</td>"  # type: ignore[attr-defined]
                f"{words.problems}{item.open_problems}</td>"  # type: ignore[attr-defined]
                f"{words.reviews}{item.pending_reviews}{_overdue_tag(item.overdue_reviews)}</td>"  # type: ignore[attr-defined]
                f'<td class="actions-cell">{words.action(item)}'
                f'<a href="{at_head}{pk}{at_tail}">{words.timeline_word}</a></td></tr>'
            )
        )
    return html


def _name_of(user: Any) -> str:
    """What ``user.person|default:user.get_username`` shows in a template."""
    try:
        return str(user.person)
    except ObjectDoesNotExist:
        return str(user.get_username())


def review_list_html(rows: Iterable[ReviewRow]) -> SafeString:
    """The reviews running out of time (the board's and their full list's), as HTML: the words
    translated once for all rows, every text escaped."""
    view, receiver = escape(_("View")), escape(_("Receiver"))
    due_text = _("Review due %(due)s")  # as blocktranslate: the values escaped, not the sentence
    entries = []
    for row in rows:
        version = row.version
        deliverable = version.deliverable
        late = " late" if row.overdue else ""
        due = escape(dateformat.format(timezone.localtime(version.review_due_at), "Y-m-d H:i"))
        entries.append(
            f'<li class="work-entry{late}" data-version="{version.pk}">'
            f'<a class="work-action button" href="{escape(row.url)}">{view}</a>'
            f'<div class="work-main"><strong>{escape(deliverable.name)}</strong> '
            f'<span class="muted">v{version.number}</span>'
            f'<div class="work-meta"><span class="number">{escape(str(deliverable.task.item.number))}</span> '
            f"{receiver}: {escape(_name_of(deliverable.receiver))}</div>"
            f'<div class="work-meta">{due_text % {"due": due}} · '
            f'<span class="{"tag danger" if row.overdue else "tag warn"}">{escape(row.clock)}</span></div>'
            "</div></li>"
        )
    if not entries:
        entries.append(f'<li class="muted">{escape(_("No deliverable is waiting for review."))}</li>')
    return mark_safe('<ul class="work-list">' + "\n".join(entries) + "</ul>")  # noqa: S308 - escaped above


def gap_list_html(rows: Iterable[ItemRow]) -> SafeString:
    """The items whose breakdown leaves something out, with the gaps in words, as HTML."""
    head, tail = _around_id("tasks_app:task_sheet")
    entries = [
        f'<div class="gap-item" data-item="{row.item.pk}"><h3><a href="{head}{row.item.pk}{tail}">'
        f'<span class="number">{escape(str(row.item.number))}</span> {escape(row.item.topic)}</a></h3>'
        f'<ul class="warnings">{"".join(f"<li>{escape(gap)}</li>" for gap in row.gaps)}</ul></div>'
        for row in rows
    ]
    if not entries:
        covered = _("Every to-do and every participating department is covered.")
        entries.append(f'<p class="muted">{escape(covered)}</p>')
    return mark_safe("\n".join(entries))  # noqa: S308 - every text escaped above


def _task_labels() -> list[str]:
    """The task table's column labels, translated and escaped."""
    labels = (_("Task"), _("Item"), _("Owner"), _("Deadline"), _("Percent done"), _("Why it is here"))
    return [escape(label) for label in labels]


def task_table_html(rows: Iterable[TaskRow], table_id: str, empty_text: str) -> SafeString:
    """The table of tasks (both boards' top tasks and their full lists), as HTML: each word
    translated once for all rows, every text escaped, the links from one reverse each with
    stand-in ids (a template wrote each of the rows' 14 labels, 2 links and 5 tags per row)."""
    labels = _task_labels()
    task_cell, item_cell, owner_cell, deadline_cell, percent_cell, why_cell = (
        f'<td data-label="{label}"' for label in labels
    )
    tags = {
        "late": f'<span class="tag danger">{escape(_("late"))}</span>',
        "escalated": f'<span class="tag danger">{escape(_("escalated"))}</span>',
        "stale": f'<span class="tag warn">{escape(_("report missing"))}</span>',
        "blocked": f'<span class="tag warn">{escape(_("blocked"))}</span>',
        "behind": f'<span class="tag warn">{escape(_("due soon, behind"))}</span>',
    }
    detail_head, detail_middle, detail_tail = _task_url_parts()
    progress_head, progress_tail = _around_id("tasks_app:progress")
    body = []
    for row in rows:
        task = row.task
        item_id = task.item_id
        why = " ".join(
            tags[name]
            for name, shown in (
                ("late", row.late),
                ("escalated", row.escalated),
                ("stale", row.stale),
                ("blocked", task.status == TaskStatus.BLOCKED),
                ("behind", row.behind),
            )
            if shown
        )
        body.append(
            f'<tr class="{"late" if row.late else "stale" if row.stale else ""}" data-task="{task.pk}">'
            f'{task_cell}><a href="{detail_head}{item_id}{detail_middle}{task.pk}{detail_tail}">'
            f"{escape(task.name)}</a></td>"
            f'{item_cell}><a href="{progress_head}{item_id}{progress_tail}">'
            f'<span class="number">{escape(str(task.item.number))}</span> '
            f"{escape(Truncator(task.item.topic).chars(40))}</a></td>"
            f"{owner_cell}>{escape(_name_of(task.owner))}</td>"
            f'{deadline_cell} class="nowrap">{dateformat.format(task.deadline, "Y-m-d")}<br>'
            f'<span class="{"danger" if row.late else "muted"}">{escape(row.deadline_text)}</span></td>'
            f'{percent_cell}><progress max="100" value="{task.percent_done}"></progress> '
            f"{task.percent_done}%</td>"
            f"{why_cell}>{why}</td></tr>"
        )
    if not body:
        body.append(f'<tr><td colspan="6" class="empty">{escape(empty_text)}</td></tr>')
    head = "".join(f"<th>{label}</th>" for label in labels)
    return mark_safe(  # noqa: S308 - every text escaped above
        f'<div class="table-wrap"><table class="list db-stack" id="{escape(table_id)}">'
        f"<thead><tr>{head}</tr></thead><tbody>" + "\n".join(body) + "</tbody></table></div>"
    )


def _task_url_parts() -> tuple[str, str, str]:
    """A task's page URL around its item's and its own id."""
    url = reverse("tasks_app:task_detail", args=[_ANY_ID, _ANY_ID - 1])
    head, rest = url.split(str(_ANY_ID), 1)
    middle, tail = rest.split(str(_ANY_ID - 1), 1)
    return head, middle, tail


class ReviewList(list[ReviewRow]):
    """Review rows with the list's HTML (``{{ board.reviews.html }}``, the full list's too)."""

    @property
    def html(self) -> SafeString:
        return review_list_html(self)


class GapList(list[ItemRow]):
    """Item rows with their gaps and the list's HTML (``{{ board.gaps.html }}``, the full list's
    too)."""

    @property
    def html(self) -> SafeString:
        return gap_list_html(self)


@dataclass
class CoordinatorStage(StageGroup):
    """A stage of the board, with its rows as HTML (``item_rows_html``, made when shown)."""

    @cached_property
    def rows_html(self) -> SafeString:
        return mark_safe("\n".join(item_rows_html(self.rows)))  # noqa: S308 - escaped there


@dataclass
class CoordinatorBoard:
    groups: list[StageGroup]  # each stage's TOP_ITEMS in worst health, with the stage's total
    closed_count: int
    attention: list[TaskRow]
    attention_total: int
    problems: list[Problem]
    problem_total: int
    reviews: list[ReviewRow]
    review_total: int
    gaps: list[ItemRow]
    gap_total: int
    today: date

    @cached_property
    def attention_html(self) -> SafeString:
        """The tasks that need the coordinator, as a table (``task_table_html``)."""
        return task_table_html(self.attention, "attention-tasks", _("No task needs your attention."))


def _coordinated(user: Any) -> QuerySet[CollaborationItem]:
    return CollaborationItem.objects.filter(coordinator=user).exclude(
        status__in=[ItemStatus.DRAFT, ItemStatus.CLOSED]
    )


# What the board's and the stage lists' item rows show of an item (item_rows_html, gap_list_html,
# the health light and breakdown_gaps_for): read alone, not the item's texts.
ROW_FIELDS = ("number", "topic", "scenario", "status", "requesting_department__name")


def _items(_key: int) -> QuerySet[CollaborationItem]:
    return CollaborationItem.objects.select_related("requesting_department").only(*ROW_FIELDS)


def _rows(ids: list[int], *, now: datetime, today: date, soon: date) -> list[ItemRow]:
    """``item_rows``, read by a statement PREPAREd on the server (``server_statement``)."""
    return item_rows(
        "coordinator items", _items, ids, now=now, today=today, soon=soon, statement=server_statement
    )


def _may_need_attention(*, now: datetime, today: date, soon: date) -> Q:
    """On a Task queryset: the task's item has a task that may be late, stale, escalated, blocked
    or behind (its stored facts say so), so the tests of each task run on those items only. It
    keeps every task the attention list's own tests keep."""
    return (
        Q(item__health_late_from__lt=today)
        | Q(item__health_behind_from__lte=soon)
        | Q(item__health_stale_from__lte=now)
        | Q(item__health_escalations__gt=0)
        | Q(item__health_blocked__gt=0)
    )


def _first_reviews(user: Any, limit: int = TOP_ENTRIES) -> QuerySet[DeliverableVersion]:
    """The versions waiting for review on the items ``user`` coordinates, among which are the
    ``limit`` due first: those of the items whose earliest review deadline (the stored fact
    health_review_from) is at most the ``limit``-th earliest. Any other item has ``limit``
    items, each with a version due no later than its own earliest, before it; ties stay in.
    Without this cut PostgreSQL walked every pending version of the company by due date
    (282,000 in the benchmark) looking for this person's; the items are read first (one query)
    so that it starts from these few."""
    items = list(_first_review_items(user, limit).values_list("pk", flat=True))
    return DeliverableVersion.objects.filter(decision="", deliverable__task__item__in=items)


def _first_review_items(user: Any, limit: int = TOP_ENTRIES) -> QuerySet[CollaborationItem]:
    waiting = _coordinated(user).filter(health_review_from__isnull=False)
    cut = waiting.order_by("health_review_from").values("health_review_from")[limit - 1 : limit]
    return waiting.filter(Q(health_review_from__lte=Subquery(cut)) | ~Exists(cut)).order_by()


def coordinated_stage(user: Any, stage: str, number: Any, *, now: datetime | None = None) -> Page | None:
    """One page of one stage of the items ``user`` coordinates, worst health first, for the paged
    full list: the page's rows (ItemRow) only are read with their health, and nothing else of
    the board. None when the person coordinates no open item in that stage."""
    if stage not in STAGE_ORDER or stage == ItemStatus.CLOSED:
        return None
    now = now or timezone.now()
    company = RegionCalendars().for_region(None)
    today = timezone.localdate(now, company.tz)
    soon = due_soon_limit(company, today)
    ranked = ranked_ids(_coordinated(user).filter(status=stage), now=now, today=today, soon=soon)
    page = Paginator(ranked, ITEMS_PAGE_SIZE).get_page(number)
    if not page.paginator.count:
        return None
    page.object_list = _rows(list(page.object_list), now=now, today=today, soon=soon)
    return page


@dataclass(frozen=True)
class Moment:
    """The moment a board is read at, and the dates its rules compare with."""

    now: datetime
    today: date
    soon: date
    calendars: RegionCalendars

    @classmethod
    def at(cls, now: datetime | None = None) -> "Moment":
        now = now or timezone.now()
        calendars = RegionCalendars()
        company = calendars.for_region(None)
        today = timezone.localdate(now, company.tz)
        return cls(now=now, today=today, soon=due_soon_limit(company, today), calendars=calendars)


def _attention_tasks(user: Any, moment: Moment) -> QuerySet[Task]:
    """The open tasks of the items ``user`` executes as coordinator that are late, stale,
    escalated, blocked or due soon and behind: most urgent first."""
    return _attention(user, now=moment.now, today=moment.today, soon=moment.soon)


def _attention(user: Any, *, now: datetime, today: date, soon: date) -> QuerySet[Task]:
    return (
        flagged_tasks(
            Task.objects.filter(item__coordinator=user, item__status=ItemStatus.EXECUTING).filter(
                _may_need_attention(now=now, today=today, soon=soon)
            ),
            now=now,
            today=today,
        )
        .filter(
            Q(late_flag=True)
            | Q(stale=True)
            | Q(escalated=True)
            | Q(status=TaskStatus.BLOCKED)
            | Q(deadline__lte=soon, percent_done__lt=BEHIND_PERCENT)
        )
        .annotate(rank=attention_rank())
        .order_by("rank", "deadline", "pk")
    )


def _open_problems(user: Any) -> QuerySet[Problem]:
    """Open problems of the items still running (an archived item's are read-only, and archiving
    requires none open), blockers first, then the oldest."""
    return (
        Problem.objects.filter(item__coordinator=user, status=ProblemStatus.OPEN)
        .exclude(item__status__in=[ItemStatus.DRAFT, ItemStatus.CLOSED])
        .select_related("item", "task", "owner__person")
        .order_by("-blocking", "raised_at", "pk")
    )


def _waiting_reviews(user: Any) -> QuerySet[DeliverableVersion]:
    """Every version waiting for review on the open items ``user`` coordinates (the full list)."""
    return DeliverableVersion.objects.filter(
        decision="",
        deliverable__task__item__in=_coordinated(user).filter(health_review_from__isnull=False).values("pk"),
    )


def _gap_ids(user: Any, moment: Moment) -> QuerySet[Any]:
    """The open items ``user`` coordinates whose breakdown leaves something out, worst health first."""
    return ranked_ids(
        _coordinated(user).filter(has_breakdown_gap()), now=moment.now, today=moment.today, soon=moment.soon
    )


def _with_gaps(rows: list[ItemRow]) -> list[ItemRow]:
    """``rows`` with the gaps of their breakdowns in words."""
    gaps = breakdown_gaps_read([row.item for row in rows])
    for row in rows:
        row.gaps = gaps.get(row.item.pk, [])
    return rows


def _gap_rows(ids: list[int], moment: Moment) -> list[ItemRow]:
    return _with_gaps(_rows(ids, now=moment.now, today=moment.today, soon=moment.soon))


def list_page(rows: Any, number: Any) -> Page[Any]:
    """One page of ``rows`` (its object_list then replaced by what the page shows)."""
    return Paginator(rows, LIST_PAGE_SIZE).get_page(number)


def coordinator_list(user: Any, name: str, number: Any, *, now: datetime | None = None) -> Page | None:
    """One page of one of the board's lists in full (``COORDINATOR_LISTS``), in the board's order;
    the page's rows only are read with what they show. None for an unknown list."""
    if name not in COORDINATOR_LISTS:
        return None
    moment = Moment.at(now)
    if name == "tasks":
        page = list_page(_attention_tasks(user, moment), number)
        page.object_list = task_rows(page.object_list, moment.calendars, moment.today, moment.soon)
    elif name == "problems":
        page = list_page(_open_problems(user), number)
    elif name == "reviews":
        page = list_page(ordered_reviews(_waiting_reviews(user)), number)
        page.object_list = ReviewList(
            coordinator_review_rows(list(page.object_list), moment.calendars, moment.now)
        )
    else:
        page = list_page(_gap_ids(user, moment), number)
        page.object_list = GapList(_gap_rows(list(page.object_list), moment))
    return page


# The board's queries, each compiled once per connection for stand-in values (board_prepared)
# and run with the person (``key``), the moment and the dates (today, soon): building and
# compiling them was a third of the board's app CPU. Each is the ORM queryset of the full lists
# (tests hold the board equal to them).


def _stage_counts(_ids: list[int], _now: datetime, _dates: Dates, user_pk: int) -> QuerySet[Any]:
    """Per stage: how many items, how many with breakdown gaps, open problems and versions
    waiting for review (one grouped query over the stored facts)."""
    mine = CollaborationItem.objects.filter(coordinator=user_pk).exclude(status=ItemStatus.DRAFT)
    return (
        mine.order_by()
        .values("status")
        .annotate(
            n=Count("pk"),
            gaps=Count("pk", filter=has_breakdown_gap()),
            open_problems=Sum("health_problems"),
            waiting_reviews=Sum("health_reviews"),
        )
        .values_list("status", "n", "gaps", "open_problems", "waiting_reviews")
    )


def _stage_tops(_ids: list[int], now: datetime, dates: Dates, user_pk: int) -> QuerySet[Any]:
    """Each stage's worst TOP_ITEMS: numbered within the stage in the database, cut there."""
    today, soon = dates
    return (
        ranked(_coordinated(user_pk), now=now, today=today, soon=soon)
        .annotate(
            place=Window(
                RowNumber(),
                partition_by=F("status"),
                order_by=[F("rank").asc(), F("number_key").desc(), F("pk").desc()],
            )
        )
        .filter(place__lte=TOP_ITEMS)
        .values_list("pk")
    )


def _first_gaps(_ids: list[int], now: datetime, dates: Dates, user_pk: int) -> QuerySet[Any]:
    today, soon = dates
    return ranked(
        _coordinated(user_pk).filter(has_breakdown_gap()), now=now, today=today, soon=soon
    ).values_list("pk")[:TOP_ENTRIES]


def _late_cut(user_pk: int, today: date) -> QuerySet[Any]:
    """The TOP_ENTRIES-th earliest first deadline (the stored fact health_late_from, the earliest
    deadline of an item's open tasks) among the executing items ``user_pk`` coordinates that have
    a late task; no row when fewer have one."""
    late = CollaborationItem.objects.filter(
        coordinator=user_pk, status=ItemStatus.EXECUTING, health_late_from__lt=today
    )
    return late.order_by("health_late_from").values("health_late_from")[TOP_ENTRIES - 1 : TOP_ENTRIES]


def _late_attention(_ids: list[int], now: datetime, dates: Dates, user_pk: int) -> QuerySet[Task]:
    """The late tasks of the attention list, which rank first (``first_by_attention``), read from
    the items whose first deadline is at most the cut (``_late_cut``): each item before the cut
    has a late task due on its first deadline, so TOP_ENTRIES tasks are due no later than the cut
    and any task due after it is not among the first. Reading every late task of the person's
    items (about 700 in the benchmark, joined to owner, person, region and department) to keep
    10 was the board's slowest query."""
    today, soon = dates
    tasks = _attention(user_pk, now=now, today=today, soon=soon)
    cut = _late_cut(user_pk, today)
    first = CollaborationItem.objects.filter(
        coordinator=user_pk, status=ItemStatus.EXECUTING, health_late_from__lt=today
    ).filter(Q(health_late_from__lte=Subquery(cut)) | ~Exists(cut))
    return tasks.filter(deadline__lt=today, item__in=first.values("pk")).order_by("deadline", "pk")[
        :TOP_ENTRIES
    ]


def _other_attention(_ids: list[int], now: datetime, dates: Dates, user_pk: int) -> QuerySet[Task]:
    today, soon = dates
    return _attention(user_pk, now=now, today=today, soon=soon).filter(deadline__gte=today)[:TOP_ENTRIES]


def _all_attention(_ids: list[int], now: datetime, dates: Dates, user_pk: int) -> QuerySet[Any]:
    today, soon = dates
    return _attention(user_pk, now=now, today=today, soon=soon).order_by().values("pk")


def _first_problems(_ids: list[int], _now: datetime, _dates: Dates, user_pk: int) -> QuerySet[Problem]:
    return _open_problems(user_pk)[:TOP_ENTRIES]


def _review_items(_ids: list[int], _now: datetime, _dates: Dates, user_pk: int) -> QuerySet[Any]:
    return _first_review_items(user_pk).values_list("pk")


# The items whose versions the board's reviews are read from: TOP_ENTRIES, more with ties.
REVIEW_ITEMS = 50


def _first_versions(ids: list[int], _now: datetime, _dates: Dates, _key: int) -> QuerySet[DeliverableVersion]:
    return ordered_reviews(DeliverableVersion.objects.filter(decision="", deliverable__task__item__in=ids))[
        :TOP_ENTRIES
    ]


def _board_reviews(user: Any, moment: Moment) -> list[DeliverableVersion]:
    dates = (moment.today, moment.soon)
    items = [
        row[0]
        for row in model_statement("coordinator review items", _review_items, 0).values(
            [], moment.now, dates, user.pk
        )
    ]
    if len(items) > REVIEW_ITEMS:  # ties at the cut: read by the ORM
        return list(
            ordered_reviews(
                DeliverableVersion.objects.filter(decision="", deliverable__task__item__in=items)
            )[:TOP_ENTRIES]
        )
    statement = server_statement("coordinator reviews", _first_versions, REVIEW_ITEMS)
    return cast(list[DeliverableVersion], statement.objects(items, moment.now, dates, user.pk))


def _board_attention(user: Any, moment: Moment) -> tuple[list[Task], int]:
    """The attention list's TOP_ENTRIES (``first_by_attention``) and its count."""
    now, dates = moment.now, (moment.today, moment.soon)
    first = server_statement("coordinator late attention", _late_attention, 0).objects(
        [], now, dates, user.pk
    )
    if len(first) < TOP_ENTRIES:
        rest = server_statement("coordinator other attention", _other_attention, 0).objects(
            [], now, dates, user.pk
        )
        first += rest[: TOP_ENTRIES - len(first)]
    total = server_statement("coordinator attention count", _all_attention, 0, counted=True).count(
        now, dates, user.pk
    )
    return cast(list[Task], first), total


def coordinator_board(user: Any, *, now: datetime | None = None) -> CoordinatorBoard:
    """The items ``user`` coordinates by stage (the worst TOP_ITEMS of each, with each stage's
    count); late, stale and at-risk tasks first; open problems; reviews running out of time;
    breakdown gaps: each list its TOP_ENTRIES most urgent with its count (the rest paged by
    ``coordinator_list``), in a fixed number of queries, and rows read for what is shown only."""
    moment = Moment.at(now)
    now, today, soon = moment.now, moment.today, moment.soon
    dates = (today, soon)

    stage_rows = model_statement("coordinator stages", _stage_counts, 0).values([], now, dates, user.pk)
    per_stage = {status: (count, gap_count) for status, count, gap_count, _p, _r in stage_rows}
    running = [row for row in stage_rows if row[0] != ItemStatus.CLOSED]
    # The items with breakdown gaps, worst health first: the database finds and cuts them. Their
    # rows are read with the stages' in one query (building and compiling the rows' query with
    # its health counts is most of its cost).
    top_ids = [
        row[0] for row in model_statement("coordinator tops", _stage_tops, 0).values([], now, dates, user.pk)
    ]
    gap_ids = [
        row[0] for row in model_statement("coordinator gaps", _first_gaps, 0).values([], now, dates, user.pk)
    ]
    loaded = {
        row.item.pk: row
        for row in _rows(list(dict.fromkeys(top_ids + gap_ids)), now=now, today=today, soon=soon)
    }
    groups: list[StageGroup] = [
        CoordinatorStage(status=g.status, label=g.label, rows=g.rows, total=per_stage[g.status][0])
        for g in group_by_stage(loaded[pk] for pk in top_ids if pk in loaded)
    ]
    gap_rows = GapList(_with_gaps([replace(loaded[pk]) for pk in gap_ids if pk in loaded]))

    flagged, attention_total = _board_attention(user, moment)
    attention = task_rows(flagged, moment.calendars, today, soon)

    # The heading's count is the stored open problems of the items still running (the same
    # rows as the list).
    problem_rows = cast(
        list[Problem],
        server_statement("coordinator problems", _first_problems, 0).objects([], now, dates, user.pk),
    )

    reviews = ReviewList(coordinator_review_rows(_board_reviews(user, moment), moment.calendars, now))

    return CoordinatorBoard(
        groups=groups,
        closed_count=per_stage.get(ItemStatus.CLOSED, (0, 0))[0],
        attention=attention,
        attention_total=attention_total,
        problems=problem_rows,
        problem_total=sum(row[3] or 0 for row in running),
        reviews=reviews,
        review_total=sum(row[4] or 0 for row in running),
        gaps=gap_rows,
        gap_total=sum(
            gap_count for status, (_n, gap_count) in per_stage.items() if status != ItemStatus.CLOSED
        ),
        today=today,
    )
