"""Reads behind the department head's dashboard, in a fixed number of queries."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from itertools import pairwise
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value, Window
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from collab.dashboards.board_prepared import model_statement
from collab.dashboards.board_selectors import (
    CappedCount,
    ItemRow,
    RegionCalendars,
    TaskRow,
    attention_rank,
    count_of,
    flagged_tasks,
    health_rank,
    item_rows,
    ranked,
    task_rows,
    unanswered_escalation,
)
from collab.dashboards.coordinator_selectors import (
    ITEMS_PAGE_SIZE,
    TOP_ENTRIES,
    TOP_ITEMS,
    Moment,
    list_page,
    task_table_html,
)
from collab.dashboards.health import due_soon_limit
from collab.org.models import Department, Person
from requests_app.models import CollaborationItem, DepartmentItem, ItemStatus, Participation
from reviews_app.models import DeliverableVersion, ImprovementMeasure, MeasureStatus
from tasks_app.models import Task, TaskStatus

# The board's lists besides the items, each with its full, paged page.
DEPARTMENT_LISTS = ("tasks", "people", "measures")
# The count of the department's items stops here: past it the board says "more than 2,000"
# (a department's 35,000 items were read for an exact total on every view).
ITEM_COUNT_CAP = 2000


def departments_for(user: Any) -> QuerySet[Department]:
    """The departments whose dashboard ``user`` may open: those they head; staff, every one."""
    if user.is_staff:
        return Department.objects.active().order_by("name")
    return Department.objects.active().filter(head=user).order_by("name")


@dataclass
class MemberLoad:
    user: Any
    open_tasks: int
    late_tasks: int


@dataclass
class Turnaround:
    total: int
    on_time: int

    @property
    def rate(self) -> int | None:
        """Whole percent of reviews on time, None without any review."""
        return round(100 * self.on_time / self.total) if self.total else None


@dataclass
class DepartmentBoard:
    department: Department
    items: list[ItemRow]  # the TOP_ITEMS in worst health
    item_count: "CappedCount"  # of every open item the department takes part in
    tasks: list[TaskRow]  # the TOP_ENTRIES most urgent
    task_total: int
    late_count: int
    escalated_count: int
    workload: list[MemberLoad]  # the TOP_ENTRIES people with most open tasks
    people_total: int
    turnaround: Turnaround
    measures: list[ImprovementMeasure]  # the TOP_ENTRIES first, open ones first
    measure_total: int
    open_measures: int
    today: date

    @cached_property
    def tasks_html(self) -> SafeString:
        """The department's most urgent tasks as a table (``task_table_html``)."""
        return task_table_html(self.tasks, "tasks", _("The department has no open task."))


# A review counts towards the turnaround once its outcome is known: reviewed in the period, or
# not reviewed and its deadline passed in the period. On time: reviewed by its deadline.
ON_TIME_REVIEW = Q(reviewed_at__isnull=False, reviewed_at__lte=F("review_due_at"))


def counted_reviews(start_at: datetime, end_at: datetime, now: datetime) -> QuerySet[DeliverableVersion]:
    """Deliverable versions whose review outcome became known in [start_at, end_at)."""
    return DeliverableVersion.objects.filter(
        Q(reviewed_at__gte=start_at, reviewed_at__lt=end_at)
        | Q(reviewed_at=None, review_due_at__gte=start_at, review_due_at__lt=min(end_at, now))
    )


def turnaround_of(versions: QuerySet[DeliverableVersion]) -> Turnaround:
    """Counted in the database: one aggregate query."""
    figures = versions.aggregate(total=Count("pk"), on_time=Count("pk", filter=ON_TIME_REVIEW))
    return Turnaround(total=figures["total"], on_time=figures["on_time"])


def department_turnaround(
    department: Department | int, start_at: datetime, end_at: datetime, now: datetime
) -> Turnaround:
    """The turnaround of the reviews the department's members received (``counted_reviews``),
    counted member by member: each member's deliverables by the receiver index, then their
    versions. Joined as one set, the planner hashed the company's 282,000 deliverables to find
    the members' (it expects thousands for 500 people; the largest department receives none)."""
    received = counted_reviews(start_at, end_at, now).filter(deliverable__receiver=OuterRef("user_id"))
    members = Person.objects.filter(department=department).annotate(
        received=count_of(received, "deliverable__receiver"),
        received_on_time=count_of(received.filter(ON_TIME_REVIEW), "deliverable__receiver"),
    )
    figures = members.aggregate(total=Sum("received"), on_time=Sum("received_on_time"))
    return Turnaround(total=figures["total"] or 0, on_time=figures["on_time"] or 0)


def involved_items(department: Department | int) -> QuerySet[CollaborationItem]:
    """The open items ``department`` takes part in (as requester or participant)."""
    involved = Q(requesting_department=department) | Q(
        pk__in=Participation.objects.filter(department=department).values("item_id")
    )
    return CollaborationItem.objects.filter(involved).exclude(
        status__in=[ItemStatus.DRAFT, ItemStatus.CLOSED]
    )


def involved_rows(department: Department | int) -> QuerySet[DepartmentItem]:
    """``involved_items`` as the department's own rows (``DepartmentItem``, kept equal to the
    items by the database): ranked and counted from their index alone, without reading the
    items nor hashing the company's participations."""
    return DepartmentItem.objects.filter(department=department).exclude(
        status__in=[ItemStatus.DRAFT, ItemStatus.CLOSED]
    )


def ranked_items(department: Department, *, now: datetime, today: date, soon: date) -> QuerySet[Any]:
    """The ids of the open items ``department`` takes part in, worst health first (then by stage
    and newest), ranked and sorted by the database (``ranked``: the rows carry the item's rank
    columns under the item's names, and their key's last part is the item)."""
    rows = ranked(involved_rows(department), now=now, today=today, soon=soon)
    return rows.values_list("item_id", flat=True)


def _items_of(department_pk: int) -> QuerySet[CollaborationItem]:
    """The items with the department's open tasks on each counted among the item's open tasks
    (by the item's index: with the department in the WHERE, SQLite read the department's
    thousands of tasks for each row, 40 ms for 10 rows)."""
    open_tasks = Task.objects.filter(item=OuterRef("pk")).exclude(status=TaskStatus.DONE).order_by()
    department_open = open_tasks.values("item").annotate(n=Count("pk", filter=Q(department_id=department_pk)))
    return CollaborationItem.objects.annotate(
        department_open=Coalesce(Subquery(department_open.values("n")[:1], output_field=IntegerField()), 0)
    ).select_related("coordinator__person")


def item_rows_of(
    department: Department, ids: list[int], *, now: datetime, today: date, soon: date
) -> list[ItemRow]:
    """The rows of the items ``ids``, in that order, with their health and the department's open
    tasks: one query."""
    return item_rows("department items", _items_of, ids, now=now, today=today, soon=soon, key=department.pk)


def department_item_page(department: Department, number: Any, *, now: datetime | None = None) -> Page:
    """One page of every open item the department takes part in, worst health first."""
    now = now or timezone.now()
    calendar = RegionCalendars().for_region(department.region)
    today = timezone.localdate(now, calendar.tz)
    soon = due_soon_limit(calendar, today)
    page = Paginator(ranked_items(department, now=now, today=today, soon=soon), ITEMS_PAGE_SIZE).get_page(
        number
    )
    page.object_list = item_rows_of(department, list(page.object_list), now=now, today=today, soon=soon)
    return page


def _open_tasks(department: Department | int) -> QuerySet[Task]:
    """The department's open tasks: those not done, which are on live items (planned or
    executing) by the database's open-task guard (tasks_app 0008), so they are counted from the
    department's open-task index without looking up each task's item."""
    return Task.objects.filter(department=department).exclude(status=TaskStatus.DONE)


def _ranked_tasks(department: Department | int, moment: Moment) -> QuerySet[Task]:
    """The department's open tasks on live items, late, escalated, stale and blocked first."""
    return _tasks_by_attention(department, now=moment.now, today=moment.today)


def _tasks_by_attention(department: Department | int, *, now: datetime, today: date) -> QuerySet[Task]:
    return (
        flagged_tasks(_open_tasks(department), now=now, today=today)
        .annotate(rank=attention_rank())
        .order_by("rank", "deadline", "pk")
    )


def _workload(department: Department, today: date) -> QuerySet[Any]:
    """The department's active members and its head, most open tasks (on live items, of any
    department) first, each with their open and late tasks counted by the database."""
    return _people_by_load(department.pk, [department.head_id or 0], today)


def _people_by_load(department_pk: int, head: list[int], today: date) -> QuerySet[Any]:
    """``_workload`` with the head as a one-id list (0: none), whether or not the head is a
    member of the department; each one's open tasks (not done, so on live items: ``_open_tasks``)
    counted from their open-task index."""
    members = Person.objects.filter(department=department_pk).values("user_id")  # index: Person.department
    people = get_user_model().objects.filter(Q(pk__in=members) | Q(pk__in=head), is_active=True)
    owned = Task.objects.filter(owner=OuterRef("pk")).exclude(status=TaskStatus.DONE)
    return (
        people.annotate(
            open_tasks=count_of(owned, "owner"),
            late_tasks=count_of(owned.filter(deadline__lt=today), "owner"),
        )
        .select_related("person")
        .order_by("-open_tasks", "last_name", "first_name", "pk")
    )


def _loads(users: Iterable[Any]) -> list[MemberLoad]:
    return [MemberLoad(user=u, open_tasks=u.open_tasks, late_tasks=u.late_tasks) for u in users]


def _measures(department: Department | int) -> QuerySet[ImprovementMeasure]:
    return (
        ImprovementMeasure.objects.filter(department=department)
        .select_related("owner__person", "retrospective__item")
        .order_by("status", "due_date", "pk")
    )


def _moment(department: Department, now: datetime | None) -> Moment:
    """The board's moment on the department's regional calendar."""
    now = now or timezone.now()
    calendars = RegionCalendars()
    calendar = calendars.for_region(department.region)
    today = timezone.localdate(now, calendar.tz)
    return Moment(now=now, today=today, soon=due_soon_limit(calendar, today), calendars=calendars)


def department_list(
    department: Department, name: str, number: Any, *, now: datetime | None = None
) -> tuple[Page, date] | None:
    """One page of one of the board's lists in full (``DEPARTMENT_LISTS``), in the board's order,
    and the department's today; the page's rows only are read with what they show. None for an
    unknown list."""
    if name not in DEPARTMENT_LISTS:
        return None
    moment = _moment(department, now)
    if name == "tasks":
        page = list_page(_ranked_tasks(department, moment), number)
        page.object_list = task_rows(page.object_list, moment.calendars, moment.today, moment.soon)
    elif name == "people":
        page = list_page(_workload(department, moment.today), number)
        page.object_list = _loads(page.object_list)
    else:
        page = list_page(_measures(department), number)
    return page, moment.today


# The board's queries, each compiled once per connection for stand-in values (board_prepared)
# and run with the department (``key``), the moment and the dates (today, soon): building and
# compiling them was most of the board's selector CPU. Each is the ORM queryset of the full
# list it heads (tests hold the board equal to them).
Dates = tuple[date, ...]


def _top_items(_ids: list[int], now: datetime, dates: Dates, key: int) -> QuerySet[Any]:
    today, soon = dates
    return ranked(involved_rows(key), now=now, today=today, soon=soon).values_list("item_id")[:TOP_ITEMS]


# The rank's values (``health_rank``) and the open stages, in the order the board ranks them.
RANKS = (0, 1, 2)
OPEN_STAGES = (ItemStatus.SUBMITTED, ItemStatus.CONSENSUS, ItemStatus.PLANNED, ItemStatus.EXECUTING)


def _top_items_by_tier(_ids: list[int], now: datetime, dates: Dates, key: int) -> QuerySet[Any]:
    """``_top_items`` read tier by tier, each (rank, stage) newest first from the rows' index:
    ``(tier 1 LIMIT 10) UNION ALL (tier 2 LIMIT 10) … LIMIT 10``, which the database stops
    once it has 10. The largest department's 35,000 rows were all ranked to keep 10 (17 ms);
    its worst tiers come first (1.6 ms). A company whose items are all on track reads every
    row twice at worst (the empty tiers of rank 0 and 1), as much as ranking them. Each row
    carries its tier, so the order the database returned them in is checked
    (``_department_top``). PostgreSQL only: SQLite cuts no part of a compound statement."""
    today, soon = dates
    rank = health_rank(now=now, today=today, soon=soon)
    tiers = [
        involved_rows(key)
        .annotate(rank=rank, tier=Value(n))
        .filter(rank=r, status=stage)
        .order_by("-number_key", "-item_id")
        .values_list("tier", "item_id")[:TOP_ITEMS]
        for n, (r, stage) in enumerate((r, stage) for r in RANKS for stage in OPEN_STAGES)
    ]
    return tiers[0].union(*tiers[1:], all=True)[:TOP_ITEMS]


def _department_top(now: datetime, dates: Dates, key: int) -> list[int]:
    """The ids of the department's TOP_ITEMS open items in worst health (``ranked_items``)."""
    if connection.features.supports_slicing_ordering_in_compound:
        rows = model_statement("department top items by tier", _top_items_by_tier, 0).values(
            [], now, dates, key
        )
        if all(a[0] <= b[0] for a, b in pairwise(rows)):
            return [item for _tier, item in rows]
    return [
        row[0] for row in model_statement("department top items", _top_items, 0).values([], now, dates, key)
    ]


def _capped_items(_ids: list[int], _now: datetime, _dates: Dates, key: int) -> QuerySet[Any]:
    return involved_rows(key).order_by().values("item_id")[: ITEM_COUNT_CAP + 1]


def _escalated_items() -> QuerySet[Any]:
    return CollaborationItem.objects.filter(health_escalations__gt=0).order_by().values("pk")


def _task_counts(_ids: list[int], _now: datetime, dates: Dates, key: int) -> QuerySet[Any]:
    """The open tasks, the late ones and the escalated ones (one row; none without open tasks).
    The Exists goes into the aggregate's filter itself: filtering on an annotation's alias here
    lets Django prune the annotation from the inner query (SQLite then compares a string)."""
    today = dates[0]
    return (
        _open_tasks(key)
        .order_by()
        .values("department")
        .annotate(
            total=Count("pk"),
            late=Count("pk", filter=Q(deadline__lt=today)),
            # Only tasks of items whose stored facts count an unanswered escalation are tested:
            # those few items are read once from their index (``item_escalated``), not each
            # task's item.
            escalated=Count("pk", filter=Q(Q(item__in=_escalated_items()), unanswered_escalation())),
        )
        .values_list("total", "late", "escalated")
    )


def _late_tasks(_ids: list[int], now: datetime, dates: Dates, key: int) -> QuerySet[Task]:
    """The late open tasks, which rank first (``first_by_attention``), in deadline order."""
    today = dates[0]
    tasks = _tasks_by_attention(key, now=now, today=today)
    return tasks.filter(deadline__lt=today).order_by("deadline", "pk")[:TOP_ENTRIES]


def _other_tasks(_ids: list[int], now: datetime, dates: Dates, key: int) -> QuerySet[Task]:
    today = dates[0]
    return _tasks_by_attention(key, now=now, today=today).filter(deadline__gte=today)[:TOP_ENTRIES]


def _top_loads(head: list[int], _now: datetime, dates: Dates, key: int) -> QuerySet[Any]:
    """The members with the most open tasks, and how many people there are (a window over the
    rows the sort reads anyway)."""
    return _people_by_load(key, head, dates[0]).annotate(people=Window(Count("*")))[:TOP_ENTRIES]


def _first_measures(_ids: list[int], _now: datetime, _dates: Dates, key: int) -> QuerySet[Any]:
    return _measures(key)[:TOP_ENTRIES]


def _board_tasks(department: Department, now: datetime, dates: Dates) -> list[Task]:
    """``first_by_attention`` of ``_ranked_tasks``, through the compiled statements."""
    first = model_statement("department late tasks", _late_tasks, 0).objects([], now, dates, department.pk)
    if len(first) < TOP_ENTRIES:
        rest = model_statement("department other tasks", _other_tasks, 0).objects(
            [], now, dates, department.pk
        )
        first += rest[: TOP_ENTRIES - len(first)]
    return cast(list[Task], first)


def department_board(
    department: Department, *, start_at: datetime, end_at: datetime, now: datetime | None = None
) -> DepartmentBoard:
    """The department's items and open tasks, its people's workload, its acceptance turnaround
    over [start_at, end_at) and its improvement measures: each list its most urgent entries
    with its count (the rest paged by ``department_item_page`` and ``department_list``), in a
    fixed number of queries."""
    moment = _moment(department, now)
    now, today, soon = moment.now, moment.today, moment.soon

    dates, key = (today, soon), department.pk

    # The worst TOP_ITEMS, tier by tier from the department's rows (``_department_top``); the
    # count stops at ITEM_COUNT_CAP (the rows are counted by index only).
    top = _department_top(now, dates, key)
    item_rows = item_rows_of(department, top, now=now, today=today, soon=soon)
    # (The cap in the name: a statement compiled for another cap is another statement.)
    name = f"department item count {ITEM_COUNT_CAP}"
    n = model_statement(name, _capped_items, 0, counted=True).count(now, dates, key)
    item_count = CappedCount(min(n, ITEM_COUNT_CAP), capped=n > ITEM_COUNT_CAP)

    counted = model_statement("department task counts", _task_counts, 0).values([], now, dates, key)
    total, late, escalated = counted[0] if counted else (0, 0, 0)
    tasks = _board_tasks(department, now, dates)

    head = [department.head_id or 0]
    loads = model_statement("department workload", _top_loads, 1).objects(head, now, dates, key)

    measures = ImprovementMeasure.objects.filter(department=department)
    measure_counts = measures.aggregate(
        total=Count("pk"), open=Count("pk", filter=Q(status=MeasureStatus.OPEN))
    )
    return DepartmentBoard(
        department=department,
        items=item_rows,
        item_count=item_count,
        tasks=task_rows(tasks, moment.calendars, today, soon),
        task_total=total,
        late_count=late,
        escalated_count=escalated,
        workload=_loads(loads),
        people_total=getattr(loads[0], "people", 0) if loads else 0,
        turnaround=department_turnaround(department, start_at, end_at, now),
        measures=cast(
            list[ImprovementMeasure],
            model_statement("department measures", _first_measures, 0).objects([], now, dates, key),
        ),
        measure_total=measure_counts["total"],
        open_measures=measure_counts["open"],
        today=today,
    )
