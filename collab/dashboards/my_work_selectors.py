"""Reads behind "My work": everything waiting for one person, in a fixed number of queries."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from collab.dashboards.board_selectors import (
    LIVE_STATUSES,
    RegionCalendars,
    ReviewRow,
    TaskRow,
    deliverable_url,
    report_missing,
    review_clock_label,
    task_rows,
    unanswered_escalation,
)
from collab.dashboards.health import due_soon_limit
from collab.notify.models import Notification
from collab.org.models import Department, Region
from requests_app.models import (
    CollaborationItem,
    Confirmation,
    ConfirmationDecision,
    Invitation,
    ItemStatus,
    Minutes,
    Participation,
)
from reviews_app.models import DeliverableVersion
from tasks_app.models import Task, TaskStatus


@dataclass
class ConfirmationRow:
    item: CollaborationItem
    department: Department
    meeting_id: int
    version: int
    objected: bool


@dataclass
class MyWork:
    tasks: list[TaskRow]
    reports_owed: list[TaskRow]
    reviews: list[ReviewRow]
    confirmations: list[ConfirmationRow]
    pre_reads: list[Invitation]
    notifications: list[Notification]
    unread_count: int

    @property
    def is_empty(self) -> bool:
        return not (self.tasks or self.reviews or self.confirmations or self.pre_reads or self.notifications)


def my_work(user: Any, *, now: datetime | None = None) -> MyWork:
    """Everything waiting for ``user``, each entry one click from its action, in a fixed number of queries."""
    now = now or timezone.now()
    calendars = RegionCalendars()
    own_calendar = calendars.for_region(_region_of(user))
    today = timezone.localdate(now, own_calendar.tz)
    soon = due_soon_limit(own_calendar, today)

    tasks = list(
        Task.objects.filter(owner=user, item__status__in=LIVE_STATUSES)
        .exclude(status=TaskStatus.DONE)
        .annotate(stale=report_missing(now), escalated=unanswered_escalation())
        .select_related("item", "owner__person__region")
        .order_by("deadline", "pk")
    )
    mine = task_rows(tasks, calendars, today, soon)
    # A report is owed only while the item executes; the same test as "report missing".
    owed = [r for r in mine if r.stale and r.task.item.status == ItemStatus.EXECUTING]

    versions = (
        DeliverableVersion.objects.filter(decision="", deliverable__receiver=user)
        .select_related("deliverable__task__item")
        .order_by("review_due_at", "pk")
    )
    reviews = [
        ReviewRow(
            version=v,
            overdue=v.review_due_at <= now,
            clock=review_clock_label(own_calendar, now, v.review_due_at),
            url=deliverable_url(v.deliverable.task.item_id, v.deliverable_id),
        )
        for v in versions
    ]

    pre_reads = list(
        Invitation.objects.filter(person=user, pre_read_opened_at=None, meeting__starts_at__gte=now)
        .select_related("meeting__item")
        .order_by("meeting__starts_at", "pk")
    )
    notifications = list(
        Notification.objects.filter(recipient=user, read_at=None).order_by("-created_at", "-pk")[:5]
    )
    unread = Notification.objects.filter(recipient=user, read_at=None).count()
    return MyWork(
        tasks=mine,
        reports_owed=owed,
        reviews=reviews,
        confirmations=confirmations_waiting(user),
        pre_reads=pre_reads,
        notifications=notifications,
        unread_count=unread,
    )


def _region_of(user: Any) -> Region | None:
    person = getattr(user, "person", None)
    return person.region if person is not None else None


def confirmations_waiting(user: Any) -> list[ConfirmationRow]:
    """Minutes waiting for ``user``'s written confirmation, in one query.

    For each item in status "submitted": its latest minutes (the latest meeting, as
    requests_app.meeting_services.is_latest_minutes), and each participating department that
    ``user`` heads or is a delegate of whose latest word on the current version is not a
    confirmation (nothing yet, or an objection).
    """
    latest = Minutes.objects.filter(meeting__item=OuterRef("item")).order_by("-meeting__starts_at", "-pk")
    decisions = Confirmation.objects.filter(
        minutes_id=OuterRef("minutes_id"),
        department_id=OuterRef("department_id"),
        version=OuterRef("minutes_version"),
    ).order_by("-decided_at", "-pk")
    rows = (
        Participation.objects.filter(item__status=ItemStatus.SUBMITTED)
        .filter(Q(department__head=user) | Q(department__confirmation_delegates=user))
        .annotate(
            minutes_id=Subquery(latest.values("pk")[:1]),
            minutes_version=Subquery(latest.values("version")[:1]),
            meeting_id=Subquery(latest.values("meeting_id")[:1]),
        )
        .filter(minutes_id__isnull=False)
        .annotate(decision=Subquery(decisions.values("decision")[:1]))
        .filter(Q(decision__isnull=True) | Q(decision=ConfirmationDecision.OBJECTED))
        .select_related("item", "department")
        .order_by("item__submitted_at", "item_id", "department__name", "pk")
    )
    seen: set[tuple[int, int]] = set()
    result = []
    for row in rows:
        key = (row.item_id, row.department_id)
        if key in seen:  # a department with several roles, or head and delegate at once
            continue
        seen.add(key)
        result.append(
            ConfirmationRow(
                item=row.item,
                department=row.department,
                meeting_id=row.meeting_id,
                version=row.minutes_version,
                objected=row.decision == ConfirmationDecision.OBJECTED,
            )
        )
    return result
