"""Reads behind the department head's dashboard, in a fixed number of queries."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db.models import Count, F, OuterRef, Q, QuerySet, Window
from django.utils import timezone

from collab.dashboards.board_selectors import (
    LIST_LIMIT,
    LIVE_STATUSES,
    ItemRow,
    RegionCalendars,
    TaskRow,
    attention_rank,
    count_of,
    flagged_tasks,
    item_rows,
    ranked,
    ranked_ids,
    task_rows,
    unanswered_escalation,
)
from collab.dashboards.coordinator_selectors import ITEMS_PAGE_SIZE, TOP_ITEMS
from collab.dashboards.health import due_soon_limit
from collab.org.models import Department, Person
from requests_app.models import CollaborationItem, ItemStatus, Participation
from reviews_app.models import DeliverableVersion, ImprovementMeasure, MeasureStatus
from tasks_app.models import Task, TaskStatus


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
    item_total: int
    tasks: list[TaskRow]
    task_total: int
    late_count: int
    escalated_count: int
    workload: list[MemberLoad]
    turnaround: Turnaround
    measures: list[ImprovementMeasure]
    open_measures: int
    today: date


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


def involved_items(department: Department) -> QuerySet[CollaborationItem]:
    """The open items ``department`` takes part in (as requester or participant)."""
    involved = Q(requesting_department=department) | Q(
        pk__in=Participation.objects.filter(department=department).values("item_id")
    )
    return CollaborationItem.objects.filter(involved).exclude(
        status__in=[ItemStatus.DRAFT, ItemStatus.CLOSED]
    )


def ranked_items(department: Department, *, now: datetime, today: date, soon: date) -> QuerySet[Any]:
    """The ids of the open items ``department`` takes part in, worst health first (then by stage
    and newest), ranked and sorted by the database."""
    return ranked_ids(involved_items(department), now=now, today=today, soon=soon)


def item_rows_of(
    department: Department, ids: list[int], *, now: datetime, today: date, soon: date
) -> list[ItemRow]:
    """The rows of the items ``ids``, in that order, with their health and the department's open
    tasks: one query."""
    items = CollaborationItem.objects.annotate(
        department_open=count_of(
            Task.objects.filter(item=OuterRef("pk"), department=department).exclude(status=TaskStatus.DONE),
            "item",
        )
    ).select_related("coordinator__person")
    return item_rows(items, ids, now=now, today=today, soon=soon)


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


def department_board(
    department: Department, *, start_at: datetime, end_at: datetime, now: datetime | None = None
) -> DepartmentBoard:
    """The department's items and open tasks, its people's workload, its acceptance turnaround
    over [start_at, end_at) and its improvement measures, in a fixed number of queries."""
    now = now or timezone.now()
    calendars = RegionCalendars()
    calendar = calendars.for_region(department.region)
    today = timezone.localdate(now, calendar.tz)
    soon = due_soon_limit(calendar, today)

    # The top and the count of every item in one query: ranking reads every item anyway (a
    # separate COUNT read the 35,000 items of the largest department again, 220 ms).
    top = list(
        ranked(involved_items(department), now=now, today=today, soon=soon)
        .annotate(total=Window(Count("*")))
        .values_list("pk", "total")[:TOP_ITEMS]
    )
    item_rows = item_rows_of(department, [pk for pk, _total in top], now=now, today=today, soon=soon)

    open_tasks = Task.objects.filter(department=department, item__status__in=LIVE_STATUSES)
    # The Exists goes into the aggregate's filter itself: filtering on an annotation's alias
    # here lets Django prune the annotation from the inner query (SQLite then compares a string).
    counts = open_tasks.exclude(status=TaskStatus.DONE).aggregate(
        total=Count("pk"),
        late=Count("pk", filter=Q(deadline__lt=today)),
        # Only tasks of items whose stored facts count an unanswered escalation are tested.
        escalated=Count("pk", filter=Q(Q(item__health_escalations__gt=0), unanswered_escalation())),
    )
    tasks = (
        flagged_tasks(open_tasks, now=now, today=today)
        .annotate(rank=attention_rank())
        .order_by("rank", "deadline", "pk")[:LIST_LIMIT]
    )

    members = Person.objects.filter(department=department).values("user_id")  # index: Person.department
    people = get_user_model().objects.filter(Q(pk__in=members) | Q(pk=department.head_id), is_active=True)
    owned = Task.objects.filter(owner=OuterRef("pk"), item__status__in=LIVE_STATUSES).exclude(
        status=TaskStatus.DONE
    )
    workload = [
        MemberLoad(user=u, open_tasks=u.open_tasks, late_tasks=u.late_tasks)
        for u in people.annotate(
            open_tasks=count_of(owned, "owner"),
            late_tasks=count_of(owned.filter(deadline__lt=today), "owner"),
        )
        .select_related("person")
        .order_by("-open_tasks", "last_name", "first_name", "pk")
    ]

    reviews = counted_reviews(start_at, end_at, now).filter(
        deliverable__receiver__person__department=department
    )
    measures = ImprovementMeasure.objects.filter(department=department)
    open_measures = measures.filter(status=MeasureStatus.OPEN).count()
    measure_rows = list(
        measures.select_related("owner__person", "retrospective__item").order_by("status", "due_date", "pk")[
            :LIST_LIMIT
        ]
    )
    return DepartmentBoard(
        department=department,
        items=item_rows,
        item_total=top[0][1] if top else 0,
        tasks=task_rows(tasks, calendars, today, soon),
        task_total=counts["total"],
        late_count=counts["late"],
        escalated_count=counts["escalated"],
        workload=workload,
        turnaround=turnaround_of(reviews),
        measures=measure_rows,
        open_measures=open_measures,
        today=today,
    )
