"""Reads behind the coordinator's dashboard, in a fixed number of queries."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

from django.db.models import Q, QuerySet
from django.utils import timezone

from collab.dashboards.board_selectors import (
    LIST_LIMIT,
    ItemRow,
    RegionCalendars,
    ReviewRow,
    StageGroup,
    TaskRow,
    attention_rank,
    breakdown_gaps_for,
    day_count,
    flagged_tasks,
    group_by_stage,
    review_rows,
    stage_order,
    task_rows,
    with_health,
)
from collab.dashboards.health import BEHIND_PERCENT, Health, HealthFacts, due_soon_limit, health_of
from collab.lib.workdays import Calendar
from requests_app.models import CollaborationItem, ItemStatus
from reviews_app.models import DeliverableVersion
from tasks_app.models import Problem, ProblemStatus, Task, TaskStatus

# Items shown per stage on the board, worst health first; the full list is paged.
TOP_ITEMS = 10
ITEMS_PAGE_SIZE = 50
_WORST_FIRST = {Health.OFF_TRACK: 0, Health.AT_RISK: 1, Health.ON_TRACK: 2}


def worst_first(rows: list[ItemRow]) -> list[ItemRow]:
    """The rows with off-track items first, then at-risk ones, each in their previous order."""
    return sorted(rows, key=lambda row: _WORST_FIRST.get(row.light.health, 3))


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
    versions: QuerySet[DeliverableVersion], calendars: RegionCalendars, now: datetime
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


@dataclass
class CoordinatorBoard:
    groups: list[StageGroup]
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


def coordinated_item_rows(user: Any, *, now: datetime, today: date, soon: date) -> list[ItemRow]:
    """The open items ``user`` coordinates with their lights and gaps, worst health first."""
    items = list(
        with_health(
            CollaborationItem.objects.filter(coordinator=user).exclude(
                status__in=[ItemStatus.DRAFT, ItemStatus.CLOSED]
            ),
            now=now,
            today=today,
            soon=soon,
        )
        .select_related("requesting_department")
        .annotate(stage=stage_order())
        .order_by("stage", "-number_key", "-pk")
    )
    gaps = breakdown_gaps_for(items)
    return worst_first(
        [ItemRow(item=i, light=health_of(HealthFacts.of(i)), gaps=gaps.get(i.pk, [])) for i in items]
    )


def coordinated_stage(user: Any, stage: str, *, now: datetime | None = None) -> StageGroup | None:
    """One stage of the items ``user`` coordinates, for the paged full list (without the rest of
    the board: no task, problem or review lists)."""
    now = now or timezone.now()
    company = RegionCalendars().for_region(None)
    today = timezone.localdate(now, company.tz)
    rows = coordinated_item_rows(user, now=now, today=today, soon=due_soon_limit(company, today))
    return next((g for g in group_by_stage(rows) if g.status == stage), None)


def coordinator_board(user: Any, *, now: datetime | None = None) -> CoordinatorBoard:
    """Every item ``user`` coordinates by stage with its health light; late, stale and at-risk
    tasks first; open problems; reviews running out of time; breakdown gaps: a fixed number of queries."""
    now = now or timezone.now()
    calendars = RegionCalendars()
    company = calendars.for_region(None)
    today = timezone.localdate(now, company.tz)
    soon = due_soon_limit(company, today)

    mine = CollaborationItem.objects.filter(coordinator=user)
    rows = coordinated_item_rows(user, now=now, today=today, soon=soon)
    closed = mine.filter(status=ItemStatus.CLOSED).count()

    flagged = (
        flagged_tasks(
            Task.objects.filter(item__coordinator=user, item__status=ItemStatus.EXECUTING),
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
    attention = task_rows(flagged[:LIST_LIMIT], calendars, today, soon)

    # The heading's count and the list come from this one queryset (open problems of the items
    # still running: an archived item's are read-only, and archiving requires none open).
    problems = Problem.objects.filter(item__coordinator=user, status=ProblemStatus.OPEN).exclude(
        item__status__in=[ItemStatus.DRAFT, ItemStatus.CLOSED]
    )
    problem_rows = list(
        problems.select_related("item", "task", "owner__person").order_by("-blocking", "raised_at", "pk")[
            :LIST_LIMIT
        ]
    )

    versions = DeliverableVersion.objects.filter(decision="", deliverable__task__item__coordinator=user)
    reviews = coordinator_review_rows(versions, calendars, now)

    return CoordinatorBoard(
        groups=group_by_stage(rows),
        closed_count=closed,
        attention=attention,
        attention_total=flagged.count(),
        problems=problem_rows,
        problem_total=problems.count(),
        reviews=reviews,
        review_total=sum(getattr(r.item, "pending_reviews", 0) for r in rows),
        gaps=[r for r in rows if r.gaps][:LIST_LIMIT],
        gap_total=sum(1 for r in rows if r.gaps),
        today=today,
    )
