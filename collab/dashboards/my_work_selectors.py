"""Reads behind "My work": what waits for one person, one list per row of the hand-off table.

Every row of ``collab.notify.handoffs.HANDOFFS`` names the My-work list (``entry``) that shows
it while it is open; ``SOURCES`` has one source per list: the open rows for the person, most
urgent first, the columns an entry shows, and how one row reads. The page shows the top ``TOP``
of each list with its count and a link to the whole list, paged. Nothing on an archived item,
no pre-read of a meeting that has started. Improvement measures are the one exception to the
first rule: they outlive their item (the archive is built before they are carried out) and
stay until they are done.

The page costs a fixed number of queries however much a person has to do, and little CPU:

1. One statement counts every list and the unread notifications (``Counts``); the lists only
   coordinators and department heads or delegates can have rows in are counted by a second one,
   for them only.
2. Only the lists with rows are read, each its top ``TOP`` rows as plain values, in one query.
3. Every statement is compiled once per connection and run again with the person and the
   moment put in (``collab.dashboards.prepared``): the lists' querysets are the same for
   everybody but for those two values, and building and compiling fifteen of them with their
   joins and subqueries was two thirds of the page's CPU time (bench/RESULTS.md).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from django.db.models import (
    Case,
    Exists,
    F,
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
    day_count,
    deadline_label,
    deliverable_url,
    report_missing,
    review_clock_label,
    unanswered_escalation,
)
from collab.dashboards.prepared import (
    STAND_IN_NOW,
    Counts,
    Prepared,
    cached,
    stand_in_user,
    without_parallel_workers,
)
from collab.lib.workdays import Calendar
from collab.notify.handoffs import HANDOFFS, Handoff
from collab.notify.models import Notification
from collab.org.calendar import calendar_for
from collab.org.models import Department, Person, Region
from requests_app.models import (
    CollaborationItem,
    Confirmation,
    Invitation,
    ItemStatus,
    Meeting,
    MeetingForm,
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

Row = dict[str, Any]


@dataclass
class Context:
    """What every entry needs for one person at one moment."""

    user: Any
    now: datetime
    today: date
    calendar: Calendar


@dataclass(frozen=True)
class ItemRef:
    """The item an entry is on, as the page shows it."""

    pk: int
    number: str
    topic: str


@dataclass
class Entry:
    """One thing waiting for the person: what, on which item, where to act."""

    title: str
    item: ItemRef
    url: str
    meta: list[str] = field(default_factory=list)
    flags: list[tuple[str, str]] = field(default_factory=list)  # (css class, words)
    late: bool = False
    percent: int | None = None


@dataclass(frozen=True)
class Source:
    # The open rows for a person at a moment, most urgent first. Only these two values may vary:
    # the list's SQL is compiled once and run again for each person and moment.
    rows: Callable[[Any, datetime], QuerySet[Any]]
    item: str  # the path from a row to its item ("" when the rows are items)
    columns: tuple[str, ...]  # what the entry reads besides the item
    entry: Callable[[Row, Context], Entry]
    # The top rows read in the list's own order under the LIMIT, rather than numbered by a window
    # (see ``top``): for a list an index of the person's rows gives in that order.
    in_order: bool = False

    def listing(self, user: Any, now: datetime) -> QuerySet[Any]:
        """The whole list as values, most urgent first."""
        return self.rows(user, now).values(*self.columns, **_item_columns(self.item))

    def top(self, user: Any, now: datetime) -> QuerySet[Any]:
        """The first TOP rows as values, numbered in the list's order and sorted by that number.

        Sorted by the row number rather than by the list's own fields: PostgreSQL 15 costs a
        LIMIT over a sort it can read from an index as if it could stop after TOP rows, so it
        walked every pending review by due date (every task by deadline) and filtered the
        person's few rows out of 300,000 (1.3 s at 100,000 items, bench/RESULTS.md). Sorted by a
        window, the LIMIT sits above a sort of the person's rows, read from the person's index.

        Except a list ``in_order``: the person's open tasks come by deadline from their own index
        (task_open_by_owner: owner, deadline), so the LIMIT stops after the first few of them;
        through the window every open task was read and checked (800 rows for 5, 2.5 ms)."""
        rows = self.rows(user, now)
        if self.in_order:
            return rows.values(*self.columns, **_item_columns(self.item))[:TOP]
        order = cast(list[Any], list(rows.query.order_by))
        return (
            rows.annotate(place=Window(RowNumber(), order_by=order))
            .order_by("place")
            .values("place", *self.columns, **_item_columns(self.item))[:TOP]
        )


def _item_columns(path: str) -> dict[str, F]:
    return {name: F(f"{path}{column}") for name, column in _ITEM_COLUMNS}


_ITEM_COLUMNS = (("item_pk", "pk"), ("item_number", "number"), ("item_topic", "topic"))


def _item(row: Row) -> ItemRef:
    return ItemRef(row["item_pk"], row["item_number"], row["item_topic"])


def _title(row: Row) -> str:
    return f"{row['item_number']} {row['item_topic']}"


def _label(choices: Any, value: str) -> str:
    """The words of a stored choice (the value itself when the choices no longer have it)."""
    return str(choices(value).label) if value in choices.values else value


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


def _open_items() -> Q:
    """On a queryset of items: not archived (and not a draft)."""
    return ~Q(status__in=[ItemStatus.CLOSED, ItemStatus.DRAFT])


# --- stages 1-2 ------------------------------------------------------------------------------------


def _meetings_to_schedule(user: Any, now: datetime) -> QuerySet[Any]:
    emergency_first = Case(
        When(scenario=Scenario.EMERGENCY, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return (
        CollaborationItem.objects.filter(coordinator=user, status=ItemStatus.SUBMITTED)
        .exclude(Exists(Meeting.objects.filter(item=OuterRef("pk"))))
        .annotate(urgency_rank=emergency_first)
        .order_by("urgency_rank", "submitted_at", "pk")
    )


def _meeting_to_schedule(row: Row, c: Context) -> Entry:
    emergency = row["scenario"] == Scenario.EMERGENCY
    return Entry(
        title=_title(row),
        item=_item(row),
        url=reverse("requests_app:meeting_create", args=[row["item_pk"]]),
        meta=[_label(Scenario, row["scenario"])],
        flags=[("danger", _("Emergency"))] if emergency else [],
        late=emergency,
    )


def _pre_reads(user: Any, now: datetime) -> QuerySet[Any]:
    return (
        Invitation.objects.filter(person=user, pre_read_opened_at=None, meeting__starts_at__gt=now)
        .exclude(meeting__item__status=ItemStatus.CLOSED)
        .order_by("meeting__starts_at", "pk")
    )


def _pre_read(row: Row, c: Context) -> Entry:
    when = formats.date_format(timezone.localtime(row["meeting__starts_at"], c.calendar.tz), "Y-m-d H:i")
    return Entry(
        title=_title(row),
        item=_item(row),
        url=reverse("requests_app:meeting_pre_read", args=[row["item_pk"], row["meeting_id"]]),
        meta=[f"{_label(MeetingForm, row['meeting__form'])} · {when}"],
    )


def _latest_minutes(item_ref: str) -> QuerySet[Minutes]:
    return Minutes.objects.filter(meeting__item=OuterRef(item_ref)).order_by("-meeting__starts_at", "-pk")


def _confirmations(user: Any, now: datetime) -> QuerySet[Any]:
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
    mine = Department.objects.filter(Q(head=user) | Q(confirmation_delegates=user)).values("pk")
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
        .order_by("item__submitted_at", "item_id", "department__name", "pk")
    )


def _confirmation(row: Row, c: Context) -> Entry:
    return Entry(
        title=_title(row),
        item=_item(row),
        url=reverse("requests_app:meeting_detail", args=[row["item_pk"], row["meeting_id"]]),
        meta=[
            _("For %(department)s, minutes version %(version)s")
            % {"department": row["department__name"], "version": row["minutes_version"]}
        ],
    )


def _minutes_to_revise(user: Any, now: datetime) -> QuerySet[Any]:
    """Open items whose latest minutes are objected to (the minutes' status: a department's
    latest word on their current version is an objection), until a revision issues them again."""
    latest = _latest_minutes("pk")
    return (
        CollaborationItem.objects.filter(_open_items(), coordinator=user)
        .annotate(
            minutes_status=Subquery(latest.values("status")[:1]),
            minutes_version=Subquery(latest.values("version")[:1]),
            meeting_id=Subquery(latest.values("meeting_id")[:1]),
        )
        .filter(minutes_status=MinutesStatus.OBJECTED)
        .order_by("submitted_at", "pk")
    )


def _minutes_to_revise_entry(row: Row, c: Context) -> Entry:
    return Entry(
        title=_title(row),
        item=_item(row),
        url=reverse("requests_app:minutes_edit", args=[row["item_pk"], row["meeting_id"]]),
        meta=[_("Minutes version %(version)s") % {"version": row["minutes_version"]}],
        flags=[("danger", _("objected"))],
    )


def _breakdowns(user: Any, now: datetime) -> QuerySet[Any]:
    return CollaborationItem.objects.filter(
        coordinator=user, status__in=[ItemStatus.CONSENSUS, ItemStatus.PLANNED]
    ).order_by("number", "pk")


def _breakdown(row: Row, c: Context) -> Entry:
    return Entry(
        title=_title(row),
        item=_item(row),
        url=reverse("tasks_app:task_sheet", args=[row["item_pk"]]),
        meta=[_label(ItemStatus, row["status"])],
    )


# --- stages 3-4 ------------------------------------------------------------------------------------


def _my_tasks(user: Any, now: datetime) -> QuerySet[Any]:
    """The person's open tasks: not done, so on live items (planned or executing) by the
    database's open-task guard (tasks_app 0008)."""
    return (
        Task.objects.filter(owner=user)
        .exclude(status=TaskStatus.DONE)
        .annotate(stale=report_missing(now), escalated=unanswered_escalation())
        .order_by("deadline", "pk")
    )


_TASK_COLUMNS = ("pk", "name", "deadline", "status", "percent_done", "stale", "escalated")


def _task_entry(row: Row, c: Context, *, url: str) -> Entry:
    # The tasks are the person's own: their region's calendar counts the days.
    deadline = row["deadline"]
    days = day_count(c.calendar).until(c.today, deadline)
    late = deadline < c.today
    flags = []
    if late:
        flags.append(("danger", _("late")))
    if row["stale"]:
        flags.append(("warn", _("report missing")))
    if row["escalated"]:
        flags.append(("danger", _("escalated")))
    return Entry(
        title=row["name"],
        item=_item(row),
        url=url,
        meta=[
            _("Deadline %(date)s") % {"date": f"{deadline:%Y-%m-%d}"},
            deadline_label(days, deadline, c.today),
            _label(TaskStatus, row["status"]),
        ],
        flags=flags,
        late=late,
        percent=row["percent_done"],
    )


def _my_task(row: Row, c: Context) -> Entry:
    return _task_entry(row, c, url=reverse("tasks_app:task_detail", args=[row["item_pk"], row["pk"]]))


def _reports_owed(user: Any, now: datetime) -> QuerySet[Any]:
    # A report is owed only while the item executes; the same test as "report missing".
    return _my_tasks(user, now).filter(item__status=ItemStatus.EXECUTING, stale=True)


def _report_owed(row: Row, c: Context) -> Entry:
    return _task_entry(row, c, url=reverse("tasks_app:task_report", args=[row["item_pk"], row["pk"]]))


def _open_problems(user: Any, now: datetime) -> QuerySet[Any]:
    return (
        Problem.objects.filter(owner=user, status=ProblemStatus.OPEN)
        .exclude(item__status=ItemStatus.CLOSED)
        .order_by("-blocking", "raised_at", "pk")
    )


def _risks(user: Any, now: datetime) -> QuerySet[Any]:
    """Risks and blockers raised on the items ``user`` coordinates and not handed on."""
    return _open_problems(user, now).filter(item__coordinator=user)


def _handed_on(user: Any, now: datetime) -> QuerySet[Any]:
    return _open_problems(user, now).exclude(item__coordinator=user)


def _problem(row: Row, c: Context) -> Entry:
    return Entry(
        title=row["task__name"],
        item=_item(row),
        url=reverse("tasks_app:progress", args=[row["item_pk"]]) + "#problems",
        meta=[row["description"]],
        flags=[("danger", _("blocking"))] if row["blocking"] else [],
        late=row["blocking"],
    )


# --- stages 5-6 ------------------------------------------------------------------------------------


def _reviews(user: Any, now: datetime) -> QuerySet[Any]:
    return (
        DeliverableVersion.objects.filter(decision="", deliverable__receiver=user)
        .exclude(deliverable__task__item__status=ItemStatus.CLOSED)
        .order_by("review_due_at", "pk")
    )


def _review(row: Row, c: Context) -> Entry:
    due_at = row["review_due_at"]
    overdue = due_at <= c.now
    due = formats.date_format(timezone.localtime(due_at, c.calendar.tz), "Y-m-d H:i")
    return Entry(
        title=f"{row['deliverable__name']} v{row['number']}",
        item=_item(row),
        url=deliverable_url(row["item_pk"], row["deliverable_id"]),
        meta=[_("Review due %(due)s") % {"due": due}],
        flags=[("danger" if overdue else "warn", review_clock_label(c.calendar, c.now, due_at))],
        late=overdue,
    )


def _deliverables() -> QuerySet[Deliverable]:
    return Deliverable.objects.exclude(task__item__status=ItemStatus.CLOSED).order_by("task__deadline", "pk")


def _revisions(user: Any, now: datetime) -> QuerySet[Any]:
    return _deliverables().filter(deliverer=user, status=DeliverableStatus.CHANGES_REQUESTED)


def _signatures(user: Any, now: datetime) -> QuerySet[Any]:
    signed_as = {
        role: Exists(Signature.objects.filter(deliverable=OuterRef("pk"), role=role, signer=user))
        for role in (SignerRole.DELIVERER, SignerRole.RECEIVER)
    }
    return (
        _deliverables()
        .filter(status=DeliverableStatus.ACCEPTED)
        .filter(
            (Q(deliverer=user) & ~signed_as[SignerRole.DELIVERER])
            | (Q(receiver=user) & ~signed_as[SignerRole.RECEIVER])
        )
    )


def _deliverable(row: Row, c: Context) -> Entry:
    return Entry(
        title=row["name"],
        item=_item(row),
        url=deliverable_url(row["item_pk"], row["pk"]),
        meta=[row["task__name"]],
    )


def _retrospectives(user: Any, now: datetime) -> QuerySet[Any]:
    return awaiting_retrospective(CollaborationItem.objects.filter(coordinator=user)).order_by("number", "pk")


def _retrospective(row: Row, c: Context) -> Entry:
    return Entry(
        title=_title(row), item=_item(row), url=reverse("reviews_app:retrospective", args=[row["item_pk"]])
    )


def _measures(user: Any, now: datetime) -> QuerySet[Any]:
    return ImprovementMeasure.objects.filter(owner=user, status=MeasureStatus.OPEN).order_by("due_date", "pk")


def _measure(row: Row, c: Context) -> Entry:
    late = row["due_date"] < c.today
    return Entry(
        title=row["text"],
        item=_item(row),
        url=reverse("reviews_app:improvement_log") + f"?mine=on&status=open#measure-{row['pk']}",
        meta=[_("Due %(date)s") % {"date": f"{row['due_date']:%Y-%m-%d}"}],
        flags=[("danger", _("overdue"))] if late else [],
        late=late,
    )


def _archives(user: Any, now: datetime) -> QuerySet[Any]:
    return ready_to_archive(CollaborationItem.objects.filter(coordinator=user)).order_by("number", "pk")


def _archive(row: Row, c: Context) -> Entry:
    return Entry(
        title=_title(row), item=_item(row), url=reverse("reviews_app:archive", args=[row["item_pk"]])
    )


_PROBLEM_COLUMNS = ("task__name", "description", "blocking")
_DELIVERABLE_COLUMNS = ("pk", "name", "task__name")

SOURCES: dict[str, Source] = {
    "schedule_meeting": Source(_meetings_to_schedule, "", ("scenario",), _meeting_to_schedule),
    "pre_reads": Source(
        _pre_reads, "meeting__item__", ("meeting_id", "meeting__starts_at", "meeting__form"), _pre_read
    ),
    "confirmations": Source(
        _confirmations, "item__", ("meeting_id", "minutes_version", "department__name"), _confirmation
    ),
    "revise_minutes": Source(
        _minutes_to_revise, "", ("meeting_id", "minutes_version"), _minutes_to_revise_entry
    ),
    "breakdown": Source(_breakdowns, "", ("status",), _breakdown),
    "tasks": Source(_my_tasks, "item__", _TASK_COLUMNS, _my_task, in_order=True),
    "reports_owed": Source(_reports_owed, "item__", _TASK_COLUMNS, _report_owed),
    "risks": Source(_risks, "item__", _PROBLEM_COLUMNS, _problem),
    "problems": Source(_handed_on, "item__", _PROBLEM_COLUMNS, _problem),
    "reviews": Source(
        _reviews,
        "deliverable__task__item__",
        ("number", "deliverable_id", "deliverable__name", "review_due_at"),
        _review,
    ),
    "revisions": Source(_revisions, "task__item__", _DELIVERABLE_COLUMNS, _deliverable),
    "signatures": Source(_signatures, "task__item__", _DELIVERABLE_COLUMNS, _deliverable),
    "retrospectives": Source(_retrospectives, "", (), _retrospective),
    "measures": Source(_measures, "retrospective__item__", ("pk", "text", "due_date"), _measure),
    "archives": Source(_archives, "", (), _archive),
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


def _unread(user: Any, now: datetime) -> QuerySet[Any]:
    return Notification.objects.filter(recipient=user, read_at=None).order_by("-created_at", "-pk")


def _coordinated(user: Any, now: datetime) -> QuerySet[Any]:
    """Items ``user`` coordinates that are not archived: without one, no coordinator's list can
    have a row (each reads the person's items, open ones only)."""
    return CollaborationItem.objects.filter(coordinator=user).exclude(status=ItemStatus.CLOSED)


def _confirming(user: Any, now: datetime) -> QuerySet[Any]:
    """Departments ``user`` heads or confirms minutes for: without one, no confirmation is theirs."""
    return Department.objects.filter(Q(head=user) | Q(confirmation_delegates=user))


# The lists only a coordinator, or a department's head or delegate, can have rows in. Everybody's
# lists are counted first, with these two roles; the others only for someone who has the role
# (most people have neither; the planner's time grows with the statement, about 1 ms a list).
_COORDINATOR_LISTS = {
    "risks",
    "schedule_meeting",
    "revise_minutes",
    "breakdown",
    "retrospectives",
    "archives",
}
_CONFIRMING_LISTS = {"confirmations"}
_UNREAD, _COORDINATES, _CONFIRMS = "unread", "coordinates", "confirms"
_EVERYBODYS = [key for key in ORDER if key not in _COORDINATOR_LISTS | _CONFIRMING_LISTS]
_COUNTED = {
    **{key: source.rows for key, source in SOURCES.items()},
    _UNREAD: _unread,
    _COORDINATES: _coordinated,
    _CONFIRMS: _confirming,
}
_NOTIFICATION_COLUMNS = ("pk", "title", "title_text", "created_at")


def _unread_top(user: Any, now: datetime) -> QuerySet[Any]:
    return _unread(user, now).values(*_NOTIFICATION_COLUMNS)[:TOP]


# The statements of the page, compiled for stand-in values once per connection.


def _counts_statement(keys: Sequence[str]) -> Counts:
    return cached(
        ("my_work.counts", *keys),
        lambda connection: Counts(connection, [_COUNTED[key](stand_in_user(), STAND_IN_NOW) for key in keys]),
    )


def _top_statement(key: str) -> Prepared:
    return cached(
        ("my_work.top", key),
        lambda connection: Prepared(connection, SOURCES[key].top(stand_in_user(), STAND_IN_NOW)),
    )


def _unread_statement() -> Prepared:
    return cached(
        "my_work.unread", lambda connection: Prepared(connection, _unread_top(stand_in_user(), STAND_IN_NOW))
    )


def _region_of(user: Any) -> Region | None:
    """The person's region (None without a person or a region), read with the person, who is
    kept on ``user``: the top bar shows the person's name, without a query of its own."""
    person = Person.objects.select_related("region").filter(user=user.pk).first()
    if person is None:
        return None
    user.person = person
    return person.region


def context_for(user: Any, now: datetime | None = None) -> Context:
    now = now or timezone.now()
    calendar = calendar_for(_region_of(user))
    return Context(user=user, now=now, today=timezone.localdate(now, calendar.tz), calendar=calendar)


def _section(key: str, total: int, c: Context) -> Section:
    source = SOURCES[key]
    rows = _top_statement(key).rows(c.user.pk, c.now) if total else []
    return Section(HANDOFF_BY_ENTRY[key], [source.entry(row, c) for row in rows], total)


def section_of(key: str, c: Context) -> Section:
    """The top of one list with its count."""
    (total,) = _counts_statement([key]).counts(c.user.pk, c.now)
    return _section(key, total, c)


def _counts(user: Any, now: datetime) -> dict[str, int]:
    """The number of rows of each list the person can have rows in, and of unread notifications:
    one statement, and a second for someone who coordinates or confirms."""
    keys = [*_EVERYBODYS, _UNREAD, _COORDINATES, _CONFIRMS]
    totals = dict(zip(keys, _counts_statement(keys).counts(user.pk, now), strict=True))
    if totals[_COORDINATES] or totals[_CONFIRMS]:
        keys = [
            key
            for key in ORDER
            if (key in _COORDINATOR_LISTS and totals[_COORDINATES])
            or (key in _CONFIRMING_LISTS and totals[_CONFIRMS])
        ]
        totals.update(zip(keys, _counts_statement(keys).counts(user.pk, now), strict=True))
    return totals


def my_work(user: Any, *, now: datetime | None = None) -> MyWork:
    """Everything waiting for ``user``, each entry one click from its action: one query for the
    counts (two for a coordinator or a department's head or delegate), one per list with rows
    and one for the unread notifications when there are some."""
    c = context_for(user, now)
    with without_parallel_workers():
        totals = _counts(user, c.now)
        unread_count = totals[_UNREAD]
        sections = [_section(key, totals[key], c) for key in ORDER if totals.get(key)]
        unread = _unread_statement().rows(user.pk, c.now) if unread_count else []
    return MyWork(
        sections=sections,
        notifications=[Notification(**row) for row in unread],
        unread_count=unread_count,
    )


def full_list(user: Any, key: str, *, now: datetime | None = None) -> tuple[Handoff, QuerySet[Any], Context]:
    """One whole list, for paging: its hand-off, its rows (values) and the context to read them."""
    c = context_for(user, now)
    return HANDOFF_BY_ENTRY[key], SOURCES[key].listing(user, c.now), c


def entries_of(key: str, rows: Any, c: Context) -> list[Entry]:
    return [SOURCES[key].entry(row, c) for row in rows]
