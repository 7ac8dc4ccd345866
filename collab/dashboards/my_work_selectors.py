"""Reads behind "My work": what waits for one person, one list per row of the hand-off table.

Every row of ``collab.notify.handoffs.HANDOFFS`` names the My-work list (``entry``) that shows
it while it is open; ``SOURCES`` has one source per list: the open rows for the person, most
urgent first, and how one row reads. The page shows the top ``TOP`` of each list with its count
and a link to the whole list, paged: a fixed number of queries, however many tasks a person
has. Nothing on an archived item, no pre-read of a meeting that has started. Improvement
measures are the one exception to the first rule: they outlive their item (the archive is
built before they are carried out) and stay until they are done.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from django.db.models import (
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
    Window,
)
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from collab.dashboards.board_selectors import (
    LIVE_STATUSES,
    RegionCalendars,
    day_count,
    deadline_label,
    deliverable_url,
    report_missing,
    review_clock_label,
    unanswered_escalation,
)
from collab.dashboards.health import due_soon_limit
from collab.lib.workdays import Calendar
from collab.notify.handoffs import HANDOFFS, Handoff
from collab.notify.models import Notification
from collab.org.models import Department, Region
from requests_app.models import (
    CollaborationItem,
    Confirmation,
    Invitation,
    ItemStatus,
    Meeting,
    Minutes,
    MinutesStatus,
    Participation,
    Scenario,
)
from reviews_app.models import (
    Deliverable,
    DeliverableStatus,
    DeliverableVersion,
    ImprovementMeasure,
    MeasureStatus,
    Signature,
    SignerRole,
)
from reviews_app.retro_selectors import awaiting_retrospective, ready_to_archive
from tasks_app.models import Problem, ProblemStatus, Task, TaskStatus

# Each list shows its most urgent entries; the rest are one click away, paged.
TOP = 5
PAGE_SIZE = 50


@dataclass
class Context:
    """What every source needs for one person at one moment."""

    user: Any
    now: datetime
    today: date
    soon: date
    calendars: RegionCalendars
    calendar: Calendar


@dataclass
class Entry:
    """One thing waiting for the person: what, on which item, where to act."""

    title: str
    item: CollaborationItem
    url: str
    meta: list[str] = field(default_factory=list)
    flags: list[tuple[str, str]] = field(default_factory=list)  # (css class, words)
    late: bool = False
    percent: int | None = None


@dataclass(frozen=True)
class Source:
    rows: Callable[[Context], QuerySet[Any]]  # open for the person, most urgent first
    entry: Callable[[Any, Context], Entry]


@dataclass
class Section:
    handoff: Handoff
    entries: list[Entry]
    total: int

    @property
    def key(self) -> str:
        return self.handoff.entry

    @property
    def more(self) -> bool:
        return self.total > len(self.entries)

    @property
    def full_url(self) -> str:
        return reverse("dashboards:my_work_list", args=[self.key])


@dataclass
class MyWork:
    sections: list[Section]
    notifications: Sequence[Notification]
    unread_count: int

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

    def entries(self, key: str) -> list[Entry]:
        section = self.section(key)
        return section.entries if section is not None else []

    @property
    def is_empty(self) -> bool:
        return not (self.sections or self.notifications)


def _title(item: CollaborationItem) -> str:
    return f"{item.number} {item.topic}"


def _open_items() -> Q:
    """On a queryset of items: not archived (and not a draft)."""
    return ~Q(status__in=[ItemStatus.CLOSED, ItemStatus.DRAFT])


# --- stages 1-2 ------------------------------------------------------------------------------------


def _meetings_to_schedule(c: Context) -> QuerySet[Any]:
    emergency_first = Case(
        When(scenario=Scenario.EMERGENCY, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return (
        CollaborationItem.objects.filter(coordinator=c.user, status=ItemStatus.SUBMITTED)
        .exclude(Exists(Meeting.objects.filter(item=OuterRef("pk"))))
        .annotate(urgency_rank=emergency_first)
        .order_by("urgency_rank", "submitted_at", "pk")
    )


def _meeting_to_schedule(item: CollaborationItem, c: Context) -> Entry:
    emergency = item.scenario == Scenario.EMERGENCY
    return Entry(
        title=_title(item),
        item=item,
        url=reverse("requests_app:meeting_create", args=[item.pk]),
        meta=[str(item.get_scenario_display())],
        flags=[("danger", _("Emergency"))] if emergency else [],
        late=emergency,
    )


def _pre_reads(c: Context) -> QuerySet[Any]:
    return (
        Invitation.objects.filter(person=c.user, pre_read_opened_at=None, meeting__starts_at__gt=c.now)
        .exclude(meeting__item__status=ItemStatus.CLOSED)
        .select_related("meeting__item")
        .order_by("meeting__starts_at", "pk")
    )


def _pre_read(invitation: Invitation, c: Context) -> Entry:
    meeting = invitation.meeting
    when = formats.date_format(timezone.localtime(meeting.starts_at, c.calendar.tz), "Y-m-d H:i")
    return Entry(
        title=_title(meeting.item),
        item=meeting.item,
        url=reverse("requests_app:meeting_pre_read", args=[meeting.item_id, meeting.pk]),
        meta=[f"{meeting.get_form_display()} · {when}"],
    )


def _latest_minutes(item_ref: str) -> QuerySet[Minutes]:
    return Minutes.objects.filter(meeting__item=OuterRef(item_ref)).order_by("-meeting__starts_at", "-pk")


def _confirmations(c: Context) -> QuerySet[Any]:
    """Per item waiting for consensus and per department ``user`` heads or is a delegate of:
    the latest minutes, when the department has not yet given its word on their current version
    (an objection passes the turn to the coordinator until a revised version is issued)."""
    latest = _latest_minutes("item")
    decided = Confirmation.objects.filter(
        minutes_id=OuterRef("minutes_id"),
        department_id=OuterRef("department_id"),
        version=OuterRef("minutes_version"),
    )
    # A department taking part in several roles has several participations: keep the first.
    first = Participation.objects.filter(item=OuterRef("item"), department=OuterRef("department")).order_by(
        "pk"
    )
    mine = Department.objects.filter(Q(head=c.user) | Q(confirmation_delegates=c.user)).values("pk")
    return (
        Participation.objects.filter(item__status=ItemStatus.SUBMITTED, department__in=mine)
        .filter(pk=Subquery(first.values("pk")[:1]))
        .annotate(
            minutes_id=Subquery(latest.values("pk")[:1]),
            minutes_version=Subquery(latest.values("version")[:1]),
            meeting_id=Subquery(latest.values("meeting_id")[:1]),
        )
        .filter(minutes_id__isnull=False)
        .exclude(Exists(decided))
        .select_related("item", "department")
        .order_by("item__submitted_at", "item_id", "department__name", "pk")
    )


def _confirmation(row: Any, c: Context) -> Entry:
    return Entry(
        title=_title(row.item),
        item=row.item,
        url=reverse("requests_app:meeting_detail", args=[row.item_id, row.meeting_id]),
        meta=[
            _("For %(department)s, minutes version %(version)s")
            % {"department": row.department, "version": row.minutes_version}
        ],
    )


def _minutes_to_revise(c: Context) -> QuerySet[Any]:
    """Open items whose latest minutes are objected to (the minutes' status: a department's
    latest word on their current version is an objection), until a revision issues them again."""
    latest = _latest_minutes("pk")
    return (
        CollaborationItem.objects.filter(_open_items(), coordinator=c.user)
        .annotate(
            minutes_status=Subquery(latest.values("status")[:1]),
            minutes_version=Subquery(latest.values("version")[:1]),
            meeting_id=Subquery(latest.values("meeting_id")[:1]),
        )
        .filter(minutes_status=MinutesStatus.OBJECTED)
        .order_by("submitted_at", "pk")
    )


def _minutes_to_revise_entry(item: Any, c: Context) -> Entry:
    return Entry(
        title=_title(item),
        item=item,
        url=reverse("requests_app:minutes_edit", args=[item.pk, item.meeting_id]),
        meta=[_("Minutes version %(version)s") % {"version": item.minutes_version}],
        flags=[("danger", _("objected"))],
    )


def _breakdowns(c: Context) -> QuerySet[Any]:
    return CollaborationItem.objects.filter(
        coordinator=c.user, status__in=[ItemStatus.CONSENSUS, ItemStatus.PLANNED]
    ).order_by("number", "pk")


def _breakdown(item: CollaborationItem, c: Context) -> Entry:
    return Entry(
        title=_title(item),
        item=item,
        url=reverse("tasks_app:task_sheet", args=[item.pk]),
        meta=[str(item.get_status_display())],
    )


# --- stages 3-4 ------------------------------------------------------------------------------------


def _my_tasks(c: Context) -> QuerySet[Any]:
    return (
        Task.objects.filter(owner=c.user, item__status__in=LIVE_STATUSES)
        .exclude(status=TaskStatus.DONE)
        .annotate(stale=report_missing(c.now), escalated=unanswered_escalation())
        .select_related("item", "owner__person__region")
        .order_by("deadline", "pk")
    )


def _task_entry(task: Any, c: Context, *, url: str) -> Entry:
    days = day_count(c.calendars.for_user(task.owner)).until(c.today, task.deadline)
    late = task.deadline < c.today
    flags = []
    if late:
        flags.append(("danger", _("late")))
    if getattr(task, "stale", False):
        flags.append(("warn", _("report missing")))
    if getattr(task, "escalated", False):
        flags.append(("danger", _("escalated")))
    return Entry(
        title=task.name,
        item=task.item,
        url=url,
        meta=[
            _("Deadline %(date)s") % {"date": f"{task.deadline:%Y-%m-%d}"},
            deadline_label(days, task.deadline, c.today),
            str(task.get_status_display()),
        ],
        flags=flags,
        late=late,
        percent=task.percent_done,
    )


def _my_task(task: Any, c: Context) -> Entry:
    return _task_entry(task, c, url=reverse("tasks_app:task_detail", args=[task.item_id, task.pk]))


def _reports_owed(c: Context) -> QuerySet[Any]:
    # A report is owed only while the item executes; the same test as "report missing".
    return _my_tasks(c).filter(item__status=ItemStatus.EXECUTING, stale=True)


def _report_owed(task: Any, c: Context) -> Entry:
    return _task_entry(task, c, url=reverse("tasks_app:task_report", args=[task.item_id, task.pk]))


def _open_problems(c: Context) -> QuerySet[Any]:
    return (
        Problem.objects.filter(owner=c.user, status=ProblemStatus.OPEN)
        .exclude(item__status=ItemStatus.CLOSED)
        .select_related("item", "task")
        .order_by("-blocking", "raised_at", "pk")
    )


def _risks(c: Context) -> QuerySet[Any]:
    """Risks and blockers raised on the items ``user`` coordinates and not handed on."""
    return _open_problems(c).filter(item__coordinator=c.user)


def _handed_on(c: Context) -> QuerySet[Any]:
    return _open_problems(c).exclude(item__coordinator=c.user)


def _problem(problem: Problem, c: Context) -> Entry:
    return Entry(
        title=problem.task.name,
        item=problem.item,
        url=reverse("tasks_app:progress", args=[problem.item_id]) + "#problems",
        meta=[problem.description],
        flags=[("danger", _("blocking"))] if problem.blocking else [],
        late=problem.blocking,
    )


# --- stages 5-6 ------------------------------------------------------------------------------------


def _reviews(c: Context) -> QuerySet[Any]:
    return (
        DeliverableVersion.objects.filter(decision="", deliverable__receiver=c.user)
        .exclude(deliverable__task__item__status=ItemStatus.CLOSED)
        .select_related("deliverable__task__item")
        .order_by("review_due_at", "pk")
    )


def _review(version: DeliverableVersion, c: Context) -> Entry:
    deliverable = version.deliverable
    overdue = version.review_due_at <= c.now
    due = formats.date_format(timezone.localtime(version.review_due_at, c.calendar.tz), "Y-m-d H:i")
    return Entry(
        title=f"{deliverable.name} v{version.number}",
        item=deliverable.task.item,
        url=deliverable_url(deliverable.task.item_id, deliverable.pk),
        meta=[_("Review due %(due)s") % {"due": due}],
        flags=[
            ("danger" if overdue else "warn", review_clock_label(c.calendar, c.now, version.review_due_at))
        ],
        late=overdue,
    )


def _deliverables(c: Context) -> QuerySet[Deliverable]:
    return (
        Deliverable.objects.exclude(task__item__status=ItemStatus.CLOSED)
        .select_related("task__item")
        .order_by("task__deadline", "pk")
    )


def _revisions(c: Context) -> QuerySet[Any]:
    return _deliverables(c).filter(deliverer=c.user, status=DeliverableStatus.CHANGES_REQUESTED)


def _signatures(c: Context) -> QuerySet[Any]:
    signed_as = {
        role: Exists(Signature.objects.filter(deliverable=OuterRef("pk"), role=role, signer=c.user))
        for role in (SignerRole.DELIVERER, SignerRole.RECEIVER)
    }
    return (
        _deliverables(c)
        .filter(status=DeliverableStatus.ACCEPTED)
        .filter(
            (Q(deliverer=c.user) & ~signed_as[SignerRole.DELIVERER])
            | (Q(receiver=c.user) & ~signed_as[SignerRole.RECEIVER])
        )
    )


def _deliverable(deliverable: Deliverable, c: Context) -> Entry:
    return Entry(
        title=deliverable.name,
        item=deliverable.task.item,
        url=deliverable_url(deliverable.task.item_id, deliverable.pk),
        meta=[deliverable.task.name],
    )


def _retrospectives(c: Context) -> QuerySet[Any]:
    return awaiting_retrospective(CollaborationItem.objects.filter(coordinator=c.user)).order_by(
        "number", "pk"
    )


def _retrospective(item: CollaborationItem, c: Context) -> Entry:
    return Entry(title=_title(item), item=item, url=reverse("reviews_app:retrospective", args=[item.pk]))


def _measures(c: Context) -> QuerySet[Any]:
    return (
        ImprovementMeasure.objects.filter(owner=c.user, status=MeasureStatus.OPEN)
        .select_related("retrospective__item")
        .order_by("due_date", "pk")
    )


def _measure(measure: ImprovementMeasure, c: Context) -> Entry:
    late = measure.due_date < c.today
    return Entry(
        title=measure.text,
        item=measure.retrospective.item,
        url=reverse("reviews_app:improvement_log") + f"?mine=on&status=open#measure-{measure.pk}",
        meta=[_("Due %(date)s") % {"date": f"{measure.due_date:%Y-%m-%d}"}],
        flags=[("danger", _("overdue"))] if late else [],
        late=late,
    )


def _archives(c: Context) -> QuerySet[Any]:
    return ready_to_archive(CollaborationItem.objects.filter(coordinator=c.user)).order_by("number", "pk")


def _archive(item: CollaborationItem, c: Context) -> Entry:
    return Entry(title=_title(item), item=item, url=reverse("reviews_app:archive", args=[item.pk]))


SOURCES: dict[str, Source] = {
    "schedule_meeting": Source(_meetings_to_schedule, _meeting_to_schedule),
    "pre_reads": Source(_pre_reads, _pre_read),
    "confirmations": Source(_confirmations, _confirmation),
    "revise_minutes": Source(_minutes_to_revise, _minutes_to_revise_entry),
    "breakdown": Source(_breakdowns, _breakdown),
    "tasks": Source(_my_tasks, _my_task),
    "reports_owed": Source(_reports_owed, _report_owed),
    "risks": Source(_risks, _problem),
    "problems": Source(_handed_on, _problem),
    "reviews": Source(_reviews, _review),
    "revisions": Source(_revisions, _deliverable),
    "signatures": Source(_signatures, _deliverable),
    "retrospectives": Source(_retrospectives, _retrospective),
    "measures": Source(_measures, _measure),
    "archives": Source(_archives, _archive),
}

# The page's order: what blocks others first, one's own long-running work last.
ORDER = [
    "reports_owed",
    "risks",
    "problems",
    "reviews",
    "revisions",
    "signatures",
    "confirmations",
    "revise_minutes",
    "schedule_meeting",
    "pre_reads",
    "breakdown",
    "retrospectives",
    "archives",
    "tasks",
    "measures",
]
HANDOFF_BY_ENTRY: dict[str, Handoff] = {row.entry: row for row in HANDOFFS}


def context_for(user: Any, now: datetime | None = None) -> Context:
    now = now or timezone.now()
    calendars = RegionCalendars()
    calendar = calendars.for_region(_region_of(user))
    today = timezone.localdate(now, calendar.tz)
    return Context(
        user=user,
        now=now,
        today=today,
        soon=due_soon_limit(calendar, today),
        calendars=calendars,
        calendar=calendar,
    )


def _region_of(user: Any) -> Region | None:
    person = getattr(user, "person", None)
    return person.region if person is not None else None


def section_of(key: str, c: Context) -> Section:
    """The top of one list with its count, in one query: every open row is numbered in the list's
    order and counted (two windows), and the first TOP by that number are kept.

    Sorted by the row number rather than by the list's own fields: PostgreSQL 15 costs a LIMIT
    over ``COUNT(*) OVER ()`` as if it could stop after TOP rows, so it picked a scan presorted
    by the list's index (every pending review by due date, every task by deadline) and filtered
    the person's few rows out of 300,000 (1.3 s at 100,000 items, bench/RESULTS.md). Sorted by
    a window, the LIMIT sits above a sort that reads every row, and the plan starts from the
    person's own index."""
    rows = SOURCES[key].rows(c)
    order = cast(list[Any], list(rows.query.order_by))
    top = list(
        rows.annotate(listed_total=Window(Count("*")), place=Window(RowNumber(), order_by=order)).order_by(
            "place"
        )[:TOP]
    )
    total = top[0].listed_total if top else 0
    return Section(HANDOFF_BY_ENTRY[key], [SOURCES[key].entry(row, c) for row in top], total)


def my_work(user: Any, *, now: datetime | None = None) -> MyWork:
    """Everything waiting for ``user``, each entry one click from its action, in a fixed number of queries."""
    c = context_for(user, now)
    sections = [section for key in ORDER if (section := section_of(key, c)).total]
    unread = list(
        Notification.objects.filter(recipient=user, read_at=None)
        .annotate(listed_total=Window(Count("*")))
        .order_by("-created_at", "-pk")[:TOP]
    )
    return MyWork(
        sections=sections,
        notifications=unread,
        unread_count=unread[0].listed_total if unread else 0,
    )


def full_list(user: Any, key: str, *, now: datetime | None = None) -> tuple[Handoff, QuerySet[Any], Context]:
    """One whole list, for paging: its hand-off, its rows (a queryset) and the context to read them."""
    c = context_for(user, now)
    return HANDOFF_BY_ENTRY[key], SOURCES[key].rows(c), c


def entries_of(key: str, rows: Any, c: Context) -> list[Entry]:
    return [SOURCES[key].entry(row, c) for row in rows]
