"""What every board shares: working-day calendars, health counts, task and review rows, roles.

One module per board reads on top of this one: ``my_work_selectors``, ``coordinator_selectors``,
``department_selectors`` (and ``management`` for the company figures).

Every function here costs a fixed number of queries whatever the data size: counts are
correlated subqueries or aggregates computed by the database, rows are loaded with their
relations in the same query, and lists are capped (``LIST_LIMIT``) with their full count shown.

Indexes the filters rely on (all exist unless docs/dashboards.md lists them as suggestions):
Task.owner/department/item (foreign keys), Task.deadline, Alert.task, Problem.item and
Problem.status, DeliverableVersion.deliverable and review_due_at, Deliverable.receiver,
Invitation.person, Notification (recipient, read_at, -created_at), CollaborationItem.coordinator
and status, ImprovementMeasure.department and status.
"""

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import accumulate
from typing import Any, cast
from weakref import WeakKeyDictionary

from django.contrib.auth import get_user_model
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from collab.dashboards.board_prepared import ModelStatement, model_statement
from collab.dashboards.health import BEHIND_PERCENT, HealthFacts, HealthLight, health_of
from collab.lib.workdays import Calendar
from collab.org.calendar import RegionCalendars, review_clock_label
from collab.org.models import Department
from requests_app.models import CollaborationItem, ItemStatus, Meeting, Participation, Scenario, Todo
from reviews_app.models import DeliverableVersion
from tasks_app.health_facts import report_missing, unanswered_escalation
from tasks_app.models import DepartmentExemption, Problem, ProblemStatus, Task, TaskStatus

# Long lists stop here; the page says how many there are in all.

LIST_LIMIT = 50
# Items whose breakdown "nothing left out" can still find gaps in.
BREAKDOWN_STATUSES = (ItemStatus.CONSENSUS, ItemStatus.PLANNED, ItemStatus.EXECUTING)
# The stages in the template's order, for grouping items.
STAGE_ORDER = [
    ItemStatus.SUBMITTED,
    ItemStatus.CONSENSUS,
    ItemStatus.PLANNED,
    ItemStatus.EXECUTING,
    ItemStatus.CLOSED,
]


# ---------------------------------------------------------------------------------------------
# Working days for a page


class WorkingDayCount:
    """Working days between dates by calendar arithmetic: whole weeks times the work week, plus
    the days of each year that break the week's rule (``Calendar.exceptions``, a few dozen a
    year, found once per calendar and year). No walk from today to each deadline: My work shows
    hundreds of tasks, some late by years. A table test holds it equal to the calendar's walk.
    """

    def __init__(self, calendar: Calendar) -> None:
        self.calendar = calendar
        self.week = sorted(calendar.work_week)
        self._by_year: dict[int, tuple[list[date], list[int]]] = {}  # the year's exceptions, prefix sums

    def _in_week(self, first: date, last: date) -> int:
        """Days of the work week in (first, last]."""
        days = (last - first).days
        weeks, rest = divmod(days, 7)
        start = (first.weekday() + 1) % 7
        return weeks * len(self.week) + sum(
            1 for k in range(rest) if (start + k) % 7 in self.calendar.work_week
        )

    def _exceptions_up_to(self, year: int, last: date) -> int:
        """The sum of ``year``'s exceptions up to and including ``last``."""
        if year not in self._by_year:
            changes = self.calendar.exceptions(year)
            days = sorted(changes)
            sums = list(accumulate(changes[d] for d in days))
            self._by_year[year] = (days, sums)
        days, sums = self._by_year[year]
        index = bisect_right(days, last)
        return sums[index - 1] if index else 0

    def _exceptions_in(self, first: date, last: date) -> int:
        """The exceptions in (first, last]."""
        total = 0
        for year in range(first.year, last.year + 1):
            upper = self._exceptions_up_to(year, min(last, date(year, 12, 31)))
            lower = self._exceptions_up_to(year, first) if year == first.year else 0
            total += upper - lower
        return total

    def between(self, first: date, last: date) -> int:
        """Working days in the half-open span (first, last]; 0 when last <= first."""
        if last <= first:
            return 0
        return self._in_week(first, last) + self._exceptions_in(first, last)

    def until(self, today: date, deadline: date) -> int:
        """Working days left until ``deadline``: the working days after today up to and including
        the deadline (0 when due today). Negative when late: minus the working days from the day
        after the deadline up to today, at least -1."""
        if deadline >= today:
            return self.between(today, deadline)
        return -max(self.between(deadline, today), 1)


# One counter per calendar object (a page builds its calendars once): its prefix sums are shared
# by every row of the page and dropped with the calendars.
_COUNTERS: "WeakKeyDictionary[Calendar, WorkingDayCount]" = WeakKeyDictionary()


def day_count(calendar: Calendar) -> WorkingDayCount:
    if calendar not in _COUNTERS:
        _COUNTERS[calendar] = WorkingDayCount(calendar)
    return _COUNTERS[calendar]


def working_days_until(calendar: Calendar, today: date, deadline: date) -> int:
    """``WorkingDayCount.until`` for a single distance."""
    return WorkingDayCount(calendar).until(today, deadline)


def deadline_label(days_left: int, deadline: date, today: date) -> str:
    if deadline == today:
        return _("Due today")
    if days_left < 0:
        return ngettext("Late by %(count)d working day", "Late by %(count)d working days", -days_left) % {
            "count": -days_left
        }
    if days_left == 0:
        return _("No working day left")
    return ngettext("%(count)d working day left", "%(count)d working days left", days_left) % {
        "count": days_left
    }


@dataclass(frozen=True)
class CappedCount:
    """How many rows a list has, counted up to a cap: past it, "more than 2000" (a count of a
    department's 35,000 items read them all on every view for one figure)."""

    value: int
    capped: bool = False

    def __str__(self) -> str:
        figure = formats.number_format(self.value)
        return _("more than %(count)s") % {"count": figure} if self.capped else figure


def capped_count(rows: QuerySet[Any], cap: int) -> CappedCount:
    """The number of ``rows``, reading at most ``cap`` + 1 of them."""
    n = rows.order_by()[: cap + 1].count()
    return CappedCount(min(n, cap), capped=n > cap)


# ---------------------------------------------------------------------------------------------
# Shared query parts


def count_of(queryset: QuerySet[Any], group: str) -> Coalesce:
    """COUNT of ``queryset`` as a correlated subquery grouped by ``group`` (the field that points
    at the outer row): the outer rows are not multiplied by joins, and the database counts."""
    return Coalesce(
        Subquery(
            queryset.order_by().values(group).annotate(n=Count("*")).values("n")[:1],
            output_field=IntegerField(),
        ),
        0,
    )


def _health_counts(now: datetime, today: date, soon: date) -> dict[str, tuple[QuerySet[Any], str]]:
    """The rows each health count counts (see health.py), correlated to the outer item, with the
    field that points at it (``with_health`` counts them for the rows shown)."""
    tasks = Task.objects.filter(item=OuterRef("pk"))
    open_tasks = tasks.exclude(status=TaskStatus.DONE)
    versions = DeliverableVersion.objects.filter(deliverable__task__item=OuterRef("pk"), decision="")
    return {
        "late_tasks": (open_tasks.filter(deadline__lt=today), "item"),
        "escalations": (open_tasks.filter(unanswered_escalation()), "item"),
        "overdue_reviews": (versions.filter(review_due_at__lt=now), "deliverable__task__item"),
        "stale_tasks": (open_tasks.filter(report_missing(now)), "item"),
        "open_problems": (Problem.objects.filter(item=OuterRef("pk"), status=ProblemStatus.OPEN), "item"),
        "blocked_tasks": (open_tasks.filter(status=TaskStatus.BLOCKED), "item"),
        "due_soon_behind": (
            open_tasks.filter(deadline__gte=today, deadline__lte=soon, percent_done__lt=BEHIND_PERCENT),
            "item",
        ),
    }


# An emergency waits for nobody: no meeting scheduled yet is a risk at once. The rank reads the
# stored fact (a test of the meetings for every item was hashed over all 100,000 of them).
EMERGENCY_WAITING = Q(scenario=Scenario.EMERGENCY, status=ItemStatus.SUBMITTED) & ~Exists(
    Meeting.objects.filter(item=OuterRef("pk"))
)
STORED_EMERGENCY_WAITING = Q(scenario=Scenario.EMERGENCY, status=ItemStatus.SUBMITTED, health_meeting=False)


def with_health(
    items: QuerySet[CollaborationItem], *, now: datetime, today: date, soon: date
) -> QuerySet[CollaborationItem]:
    """Annotates each item with the counts the health light reads (see health.py) and a few
    more for display, all as correlated subqueries: one query for any number of items."""
    tasks = Task.objects.filter(item=OuterRef("pk"))
    versions = DeliverableVersion.objects.filter(deliverable__task__item=OuterRef("pk"), decision="")
    counts = {name: count_of(rows, group) for name, (rows, group) in _health_counts(now, today, soon).items()}
    return items.annotate(
        task_total=count_of(tasks, "item"),
        task_done=count_of(tasks.filter(status=TaskStatus.DONE), "item"),
        pending_reviews=count_of(versions, "deliverable__task__item"),
        emergency_waiting=Case(
            When(EMERGENCY_WAITING, then=Value(1)), default=Value(0), output_field=IntegerField()
        ),
        **counts,
    )


def health_rank(*, now: datetime, today: date, soon: date) -> Case:
    """0 for an item off track, 1 at risk, 2 on track: health.py's rules read from the facts
    stored on the item (requests_app.health_facts), compared with today and now, so a list of
    any length is ranked from the item rows alone, sorted worst first and cut in SQL before any
    count is computed for the rows shown (``with_health``). Tests hold it equal to
    ``health_of`` of the counts, and the stored facts equal to their recomputation.

    "Due within a working day and behind" compares the earliest deadline of the tasks behind
    with ``soon`` only: an item that passes the first test has no open task due before today.
    """
    return Case(
        When(
            Q(health_late_from__lt=today) | Q(health_escalations__gt=0) | Q(health_review_from__lt=now),
            then=Value(0),
        ),
        When(
            Q(health_stale_from__lte=now)
            | Q(health_problems__gt=0)
            | Q(health_blocked__gt=0)
            | Q(health_behind_from__lte=soon)
            | STORED_EMERGENCY_WAITING,
            then=Value(1),
        ),
        default=Value(2),
        output_field=IntegerField(),
    )


def stage_order() -> Case:
    return Case(
        *(When(status=status, then=Value(index)) for index, status in enumerate(STAGE_ORDER)),
        default=Value(len(STAGE_ORDER)),
        output_field=IntegerField(),
    )


@dataclass
class ItemRow:
    item: CollaborationItem
    light: HealthLight
    gaps: list[str] = field(default_factory=list)


@dataclass
class StageGroup:
    status: str
    label: str
    rows: list[ItemRow]
    total: int = -1  # every item of the stage; rows may be its top only

    def __post_init__(self) -> None:
        if self.total < 0:
            self.total = len(self.rows)


def group_by_stage(rows: Iterable[ItemRow]) -> list[StageGroup]:
    groups: dict[str, list[ItemRow]] = defaultdict(list)
    for row in rows:
        groups[row.item.status].append(row)
    return [
        StageGroup(status=status, label=str(ItemStatus(status).label), rows=groups[status])
        for status in STAGE_ORDER
        if groups.get(status)
    ]


def ranked(items: QuerySet[Any], *, now: datetime, today: date, soon: date) -> QuerySet[Any]:
    """``items`` worst health first (``rank``), then by stage (``stage``) and newest: ranked and
    sorted by the database, so a page or a board's top reads the health counts of its own rows
    only (``item_rows``). Items, or a department's rows of them (``DepartmentItem``: the same
    columns, and a key that ends with the item)."""
    return items.annotate(rank=health_rank(now=now, today=today, soon=soon), stage=stage_order()).order_by(
        "rank", "stage", "-number_key", "-pk"
    )


def ranked_ids(
    items: QuerySet[CollaborationItem], *, now: datetime, today: date, soon: date
) -> QuerySet[Any]:
    return ranked(items, now=now, today=today, soon=soon).values_list("pk", flat=True)


# The rows of a board or a page are read this many at a time by one compiled statement.
ROW_BATCH = 50


def item_rows(
    name: str,
    items: Callable[[int], QuerySet[CollaborationItem]],
    ids: list[int],
    *,
    now: datetime,
    today: date,
    soon: date,
    key: int = 0,
    statement: Callable[..., ModelStatement] = model_statement,
) -> list[ItemRow]:
    """The rows of the items ``ids`` (among ``items(key)``, which may carry more annotations and
    select_related, with ``key`` its one value that changes, e.g. a department), in that order,
    with their health: one query per ROW_BATCH rows. The query is built and compiled once per
    connection (``board_prepared``, under ``name``; ``statement``: ``server_statement`` to
    PREPARE it on the PostgreSQL session too): ten correlated counts cost more to compile than
    to run."""

    def build(
        ids: list[int], now: datetime, dates: tuple[date, ...], key: int
    ) -> QuerySet[CollaborationItem]:
        today, soon = dates
        return with_health(items(key).filter(pk__in=ids), now=now, today=today, soon=soon)

    loaded: dict[int, CollaborationItem] = {}
    compiled = statement(name, build, ROW_BATCH)
    for start in range(0, len(ids), ROW_BATCH):
        for item in compiled.objects(ids[start : start + ROW_BATCH], now, (today, soon), key):
            loaded[item.pk] = cast(CollaborationItem, item)
    return [
        ItemRow(item=loaded[pk], light=health_of(HealthFacts.of(loaded[pk]))) for pk in ids if pk in loaded
    ]


@dataclass
class TaskRow:
    """A task with what the dashboards say about it."""

    task: Task
    late: bool
    stale: bool
    escalated: bool
    behind: bool  # due within a working day and under BEHIND_PERCENT done
    days_left: int
    deadline_text: str


def task_rows(tasks: Iterable[Task], calendars: RegionCalendars, today: date, soon: date) -> list[TaskRow]:
    rows = []
    for task in tasks:
        days = day_count(calendars.for_user(task.owner)).until(today, task.deadline)
        rows.append(
            TaskRow(
                task=task,
                late=task.deadline < today,
                stale=bool(getattr(task, "stale", False)),
                escalated=bool(getattr(task, "escalated", False)),
                behind=today <= task.deadline <= soon and task.percent_done < BEHIND_PERCENT,
                days_left=days,
                deadline_text=deadline_label(days, task.deadline, today),
            )
        )
    return rows


def attention_rank() -> Case:
    """Late first, then escalated, then report missing, then blocked, then the rest."""
    return Case(
        When(late_flag=True, then=Value(0)),
        When(escalated=True, then=Value(1)),
        When(stale=True, then=Value(2)),
        When(status=TaskStatus.BLOCKED, then=Value(3)),
        default=Value(4),
        output_field=IntegerField(),
    )


def first_by_attention(tasks: QuerySet[Task], today: date, limit: int) -> list[Task]:
    """The first ``limit`` of ``tasks`` (``flagged_tasks`` ordered by ``attention_rank``, deadline,
    pk), read without ranking them all: late tasks rank first (rank 0 is exactly "deadline before
    today"), so the late ones in deadline order come first, read by the deadline index and cut at
    ``limit``; only when there are fewer are the others ranked (a second query). Ranking every
    open task of a department (4,000 in the benchmark, with a report and an escalation test
    each) to keep 10 took 100 ms of the department board. Equal to ``tasks[:limit]`` (tested)."""
    first = list(tasks.filter(deadline__lt=today).order_by("deadline", "pk")[:limit])
    if len(first) < limit:
        first += list(tasks.filter(deadline__gte=today)[: limit - len(first)])
    return first


def flagged_tasks(tasks: QuerySet[Task], *, now: datetime, today: date) -> QuerySet[Task]:
    return (
        tasks.exclude(status=TaskStatus.DONE)
        .annotate(
            stale=report_missing(now),
            escalated=unanswered_escalation(),
            late_flag=Case(
                When(deadline__lt=today, then=Value(True)), default=Value(False), output_field=BooleanField()
            ),
        )
        .select_related("item", "owner__person__region", "department")
    )


def deliverable_url(item_id: int, deliverable_id: int) -> str:
    return reverse("reviews_app:deliverable_detail", args=[item_id, deliverable_id])


# ---------------------------------------------------------------------------------------------
# Breakdown gaps of many items at once ("nothing left out")


def breakdown_gaps_for(items: Iterable[CollaborationItem]) -> dict[int, list[str]]:
    """What the breakdown of each item leaves out, in 3 queries for any number of items.

    The same checks and sentences as tasks_app.selectors.item_breakdown (which costs several
    queries per item): no task yet; a to-do neither turned into a task nor dropped with a
    reason; a participating department without a task and without a recorded reason; a task
    whose delivery standard is blank. Items need the ``task_total`` annotation of with_health.
    """
    items = [i for i in items if i.status in BREAKDOWN_STATUSES]
    ids = [i.pk for i in items]
    if not ids:
        return {}
    now = timezone.now()  # the queries read no moment
    return _gaps_in_words(items, {name: list(build(ids, now, (), 0)) for name, build in _GAP_QUERIES})


# The items whose gaps one compiled statement reads at a time (``breakdown_gaps_read``).
GAP_BATCH = 50
# Each gap query's rows, by the query's name.
Found = dict[str, list[tuple[Any, ...]]]


def _open_todos(ids: list[int], _now: datetime, _dates: tuple[date, ...], _key: int) -> QuerySet[Any]:
    return (
        Todo.objects.filter(minutes__meeting__item_id__in=ids, task__isnull=True)
        .filter(Q(dropped_at=None) | Q(dropped_reason__regex=r"^\s*$"))
        .values_list("minutes__meeting__item_id", "text")
        .order_by("due_date", "pk")
    )


def _uncovered(ids: list[int], _now: datetime, _dates: tuple[date, ...], _key: int) -> QuerySet[Any]:
    return (
        Participation.objects.filter(item_id__in=ids)
        .annotate(
            has_task=Exists(Task.objects.filter(item=OuterRef("item"), department=OuterRef("department"))),
            exempt=Exists(
                DepartmentExemption.objects.filter(item=OuterRef("item"), department=OuterRef("department"))
            ),
        )
        .filter(has_task=False, exempt=False)
        .values_list("item_id", "department_id", "department__name")
        .order_by("pk")
    )


def _blank_standards(ids: list[int], _now: datetime, _dates: tuple[date, ...], _key: int) -> QuerySet[Any]:
    return (
        Task.objects.filter(item_id__in=ids, delivery_standard__regex=r"^\s*$")
        .values_list("item_id", "name")
        .order_by("deadline", "pk")
    )


# The gaps' three queries by name, each a function of the items' ids (``board_prepared``'s shape).
_GAP_QUERIES = (("todos", _open_todos), ("uncovered", _uncovered), ("blank", _blank_standards))


def breakdown_gaps_read(items: Iterable[CollaborationItem]) -> dict[int, list[str]]:
    """``breakdown_gaps_for`` with its three queries compiled once per connection
    (``board_prepared``) and run for the items' ids, GAP_BATCH at a time: building and compiling
    them cost 2-3 ms of the coordinator board's CPU for 10 items. The same rows and sentences
    (a test holds the two equal)."""
    items = [i for i in items if i.status in BREAKDOWN_STATUSES]
    ids = [i.pk for i in items]
    found: Found = {"todos": [], "uncovered": [], "blank": []}
    now = timezone.now()  # the statements read no moment
    for start in range(0, len(ids), GAP_BATCH):
        batch = ids[start : start + GAP_BATCH]
        for name, build in _GAP_QUERIES:
            statement = model_statement(f"breakdown {name}", build, GAP_BATCH)
            found[name] += statement.values(batch, now, ())
    return _gaps_in_words(items, found)


def _gaps_in_words(
    items: list[CollaborationItem], found: dict[str, list[tuple[Any, ...]]]
) -> dict[int, list[str]]:
    gaps: dict[int, list[str]] = {item.pk: [] for item in items}
    for item in items:
        if not getattr(item, "task_total", 0):
            gaps[item.pk].append(_("No task has been planned yet."))
    # Each item's rows come from one batch, in the order breakdown_gaps_for reads them.
    for item_id, text in found["todos"]:
        gaps[item_id].append(
            _('The to-do "%(todo)s" has neither become a task nor been dropped with a reason.')
            % {"todo": text}
        )
    seen: set[tuple[int, int]] = set()
    for item_id, department_id, name in found["uncovered"]:
        if (item_id, department_id) in seen:
            continue
        seen.add((item_id, department_id))
        gaps[item_id].append(
            _("%(department)s takes part but has no task: give it one, or record why it needs none.")
            % {"department": name}
        )
    for item_id, name in found["blank"]:
        gaps[item_id].append(_('The task "%(task)s" has no delivery standard.') % {"task": name})
    return gaps


def has_breakdown_gap() -> Q:
    """On an item queryset: the breakdown leaves something out (the fact stored on the item,
    the same checks as ``breakdown_gaps_for``), in a stage where the breakdown is planned, so the
    items with gaps are counted and cut by the database (``breakdown_gaps_for`` then words the
    gaps of the rows shown)."""
    return Q(status__in=BREAKDOWN_STATUSES, health_gap=True)


@dataclass
class ReviewRow:
    version: DeliverableVersion
    overdue: bool
    clock: str
    url: str


def ordered_reviews(versions: QuerySet[DeliverableVersion]) -> QuerySet[DeliverableVersion]:
    """``versions`` due first, with what a review row shows: cut or page it, then ``review_rows``."""
    return versions.select_related(
        "deliverable__task__item", "deliverable__receiver__person__region"
    ).order_by("review_due_at", "pk")


def review_rows(
    versions: Iterable[DeliverableVersion], calendars: RegionCalendars, now: datetime
) -> list[ReviewRow]:
    """The rows of ``versions`` (from ``ordered_reviews``, cut or paged), in their order."""
    rows = []
    for v in versions:
        calendar = calendars.for_user(v.deliverable.receiver)
        rows.append(
            ReviewRow(
                version=v,
                overdue=v.review_due_at <= now,
                clock=review_clock_label(calendar, now, v.review_due_at),
                url=deliverable_url(v.deliverable.task.item_id, v.deliverable_id),
            )
        )
    return rows


# ---------------------------------------------------------------------------------------------
# Who sees which dashboard


@dataclass(frozen=True)
class Roles:
    coordinates: bool
    heads: bool

    @property
    def has_dashboard(self) -> bool:
        return self.coordinates or self.heads


def _roles_row(_ids: list[int], _now: datetime, _dates: tuple[date, ...], user_pk: int) -> QuerySet[Any]:
    return (
        get_user_model()
        .objects.filter(pk=user_pk)
        .annotate(
            coordinates=Exists(CollaborationItem.objects.filter(coordinator=OuterRef("pk"))),
            heads=Exists(Department.objects.filter(head=OuterRef("pk"))),
        )
        .values_list("coordinates", "heads")
    )


def roles_of(user: Any) -> Roles:
    """Whether ``user`` coordinates any item and heads any department: one query, compiled once
    per connection (``board_prepared``), not built on every page of the boards (about 1 ms of
    CPU)."""
    if not getattr(user, "is_authenticated", False):
        return Roles(coordinates=False, heads=False)
    rows = model_statement("roles", _roles_row, 0).values([], timezone.now(), (), user.pk)
    return Roles(coordinates=bool(rows and rows[0][0]), heads=bool(rows and rows[0][1]))
