"""Deadline warnings, stale-report warnings and the escalation ladder (预警与上报).

Planned as Alert rows with a due moment, polled by a beat sweep and claimed with a conditional
UPDATE (healthchecks' sendalerts): no ETA task per deadline, nothing sent twice when two beats
or workers run, and a changed deadline or a new report simply cancels the unsent rows and plans
new ones. All times follow the owner's region calendar: working days, China's holidays and
make-up workdays, the region's time zone.

The ladder: step 0 reminds the owner; if nothing happens, step 1 tells the coordinator, then
step 2 the owner's department head. Each step waits one working day, or two working hours when
the item is an emergency.
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, IntegerField, Q
from django.db.models.functions import Mod
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_noop

from collab.audit.texts import Date, Text
from collab.bulk import insert_rows
from collab.lib.workdays import Calendar
from collab.notify.handoffs import HANDOFF
from collab.notify.models import Urgency
from collab.notify.services import Event, Recipient, notify_many, urgency_for_item
from collab.org.calendar import RegionCalendars, calendar_for
from collab.org.models import Region, name_of
from requests_app.models import CollaborationItem, ItemStatus, ReportCadence, Scenario
from tasks_app.health_facts import sweep_changes_facts, sweep_lock_items, sweep_store_facts
from tasks_app.models import Alert, AlertKind, Task, TaskStatus

DEADLINE_KINDS = (AlertKind.DUE_SOON, AlertKind.DUE_TODAY, AlertKind.OVERDUE)
MORNING = time(9, 0)
DAY_BEFORE = time(10, 0)
LAST_STEP = 2
# Warnings claimed and sent per transaction of the sweep: a batch's queries are a fixed cost, so
# larger batches spread it; its rows stay locked (by this sweep only) until it commits.
BATCH = 1000
# A task whose result is delivered (under review or signed) gets no warning: see _quiet.
QUIET_STATUSES = (TaskStatus.DELIVERED, TaskStatus.DONE)


def _region(task: Task) -> Any:
    person = getattr(task.owner, "person", None)
    return person.region if person is not None else None


def _working_day_after(calendar: Any, day: date) -> date:
    day += timedelta(days=1)
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    return day


def _working_day_before(calendar: Any, day: date) -> date:
    day -= timedelta(days=1)
    while not calendar.is_working_day(day):
        day -= timedelta(days=1)
    return day


def _working_clock(calendar: Any, day: date, clock: time) -> datetime:
    return calendar.in_working_time(calendar.at(day, clock), start=True)


def _cadence_after(task: Task, since: datetime, calendar: Any = None) -> datetime:
    """One report cadence after ``since`` in the owner's calendar, inside their working hours."""
    calendar = calendar or calendar_for(_region(task))
    cadence = task.item.cadence
    if cadence == ReportCadence.HOURS_4:
        return calendar.add_working_hours(since, 4)
    days = {ReportCadence.DAILY.value: 1, ReportCadence.TWICE_WEEKLY.value: 2, ReportCadence.WEEKLY.value: 5}[
        cadence
    ]
    # A report made at 21:00 is not missed at 21:00 a day later but at the next working hour.
    return calendar.in_working_time(calendar.add_working_days(since, days))


def _quiet(task: Task) -> bool:
    """No warning about a task whose result is delivered (under review or signed), nor about an
    item out of execution: the owner has nothing to report; a request for changes replans them.
    ``LIVE`` says the same of an alert's task in SQL."""
    return task.status in QUIET_STATUSES or task.item.status != ItemStatus.EXECUTING


LIVE = Q(task__item__status=ItemStatus.EXECUTING) & ~Q(task__status__in=QUIET_STATUSES)


def cancel_alerts(task: Task, kinds: tuple[str, ...] = tuple(AlertKind.values)) -> None:
    """Cancels the task's pending warnings (not sent, not cancelled) of ``kinds``: one UPDATE,
    written out rather than compiled for every write that re-plans a warning (every report)."""
    table = connection.ops.quote_name(Alert._meta.db_table)
    marks = ", ".join(["%s"] * len(kinds))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET cancelled_at = %s WHERE task_id = %s AND kind IN ({marks})"  # noqa: S608
            " AND sent_at IS NULL AND cancelled_at IS NULL",
            [connection.ops.adapt_datetimefield_value(timezone.now()), task.pk, *kinds],
        )


def plan_deadline_alerts(task: Task) -> None:
    """(Re)plans the warnings of the task's deadline: the working day before, the morning of the
    day, and the first working morning after it (then daily while overdue)."""
    cancel_alerts(task, DEADLINE_KINDS)
    if _quiet(task):
        return
    Alert.objects.bulk_create(_deadline_alerts(task, calendar_for(_region(task))))


def _deadline_alerts(task: Task, calendar: Any) -> list[Alert]:
    now = timezone.now()
    # Fixed clocks, moved into the region's working hours when its day starts later.
    planned = [
        (
            AlertKind.DUE_SOON,
            _working_clock(calendar, _working_day_before(calendar, task.deadline), DAY_BEFORE),
        ),
        (AlertKind.OVERDUE, _working_clock(calendar, _working_day_after(calendar, task.deadline), MORNING)),
    ]
    if calendar.is_working_day(task.deadline):
        planned.append((AlertKind.DUE_TODAY, _working_clock(calendar, task.deadline, MORNING)))
    return [
        Alert(task=task, kind=kind, due_at=due, deadline=task.deadline)
        for kind, due in planned
        # A warning whose moment has passed is not sent late, except "overdue", which is still true.
        if due > now or kind == AlertKind.OVERDUE
    ]


def plan_report_alert(task: Task, *, since: datetime) -> None:
    """(Re)plans "report missing" one cadence after ``since`` and drops its pending escalation."""
    cancel_alerts(task, (AlertKind.REPORT_MISSING,))
    if _quiet(task):
        return
    due = _cadence_after(task, since)
    insert_rows(Alert, ("task_id", "kind", "due_at"), [(task.pk, AlertKind.REPORT_MISSING, due)])


def plan_alerts(task: Task, *, new: bool = False, calendar: Calendar | None = None) -> None:
    """``plan_deadline_alerts`` and ``plan_report_alert`` in one go: one UPDATE cancels what is
    pending (nothing for a ``new`` task), one calendar (``calendar``: the owner's, when the caller
    has built it already), one INSERT."""
    if not new:
        cancel_alerts(task, (*DEADLINE_KINDS, AlertKind.REPORT_MISSING))
    if _quiet(task):
        return
    calendar = calendar or calendar_for(_region(task))
    report = Alert(
        task=task,
        kind=AlertKind.REPORT_MISSING,
        due_at=_cadence_after(task, task.last_reported_at or timezone.now(), calendar),
    )
    Alert.objects.bulk_create([*_deadline_alerts(task, calendar), report])


def sweep_parts() -> int:
    """How many sweeps share a wave of due warnings (``sweep_alerts(part=…)``, started together
    by the beat task): ``COLLAB_ALERT_SWEEP_PARTS`` (2) on PostgreSQL, where each runs in a
    worker process of its own and the two cores overlap one sweep's Python with the other's
    database work; 1 on SQLite, which has one writer at a time."""
    if connection.vendor != "postgresql":
        return 1
    return max(1, settings.COLLAB_ALERT_SWEEP_PARTS)


def sweep_alerts(
    *, now: datetime | None = None, batch_size: int = BATCH, part: tuple[int, int] | None = None
) -> int:
    """Sends every due warning once; returns how many were sent by this sweep.

    ``part`` (k, n): only the warnings of the items whose id is k modulo n, so that n sweeps
    started together (``tasks_app.tasks``) share the wave without meeting: each claims and locks
    its own items' warnings, none waits for or skips the other's items.

    Batch after batch of ``batch_size`` warnings, each in its own transaction, until none is due.
    A batch costs the same number of queries whatever its size, and no model instance per
    warning (at 200,000 warnings due at once, instances were most of the CPU):

    1. Claim: lock the oldest due rows (PostgreSQL: SKIP LOCKED, so a second sweep at the same
       moment takes the next rows instead of waiting; SQLite: the transaction holds the write
       lock from its start), read with their task and item as values and whether the task
       still wants warnings (``LIVE``, in SQL): one query (``claim``). The people they go to in
       one more; the regions and their calendars in two more (each region's moments computed
       once: ``_Clock``).
    2. Lock the warnings' items, skipping those a writer holds: their warnings wait for the
       next batch or sweep (``tasks_app.health_facts.sweep_lock_items``; no deadlock with a
       writer that holds an item and waits for its warnings).
    3. Mark the warnings sent, and cancel those no longer true (task delivered, item out of
       execution, a deadline that is not passed in the owner's region).
    4. Render each message and deadline once per language (``notify_many``).
    5. Tell everyone at once (``notify_many``: one INSERT of notifications, one of deliveries)
       and plan the next steps with one INSERT (``collab.bulk.insert_rows``: no instances).
    6. Store the health facts the batch changed (an escalation sent, a "report missing"
       cancelled), in its transaction (``sweep_store_facts``: grouped queries over the
       batch's items, one UPDATE).

    A failure rolls the whole batch back, claims included: the next sweep sends it again, and
    the notifications' keys (``alert:<id>``) make that once per person (at least once, never twice).
    """
    now = now or timezone.now()
    sent = 0
    while True:
        claimed, sent_now = _sweep_batch(now, batch_size, part)
        sent += sent_now
        # A short batch: nothing else was due (or another sweep holds the rest).
        if claimed < batch_size:
            return sent


def claim(now: datetime, size: int, part: tuple[int, int] | None = None) -> Any:
    """The claim of a batch, as values of ``_Due``: the oldest due warnings with their task,
    item and the people's ids, locked (only the warnings' rows) and skipping those another
    sweep holds; of ``part``'s items only (see ``sweep_alerts``)."""
    due = Alert.objects.select_for_update(skip_locked=True, of=("self",)).filter(
        sent_at=None,
        cancelled_at=None,
        due_at__lte=now,  # the partial index alert_due_unsent
    )
    if part is not None:
        # Written as "not one of the other parts": the planner guesses that an expression equals
        # a value for 0.5 % of the rows, and planned a hash join of every task then a sort of
        # the whole wave (0.8 s a claim); "not one of" it guesses true for 99.5 %, and reads
        # the index in order as without parts.
        index, parts = part
        others = [other for other in range(parts) if other != index]
        due = due.alias(part=Mod("task__item_id", parts, output_field=IntegerField())).exclude(
            part__in=others
        )
    return (
        due.annotate(live=ExpressionWrapper(LIVE, output_field=BooleanField()))
        # In the index's order alone: a morning's thousands due at 09:00 are equal, and sorting
        # them by id too would read them all for each batch.
        .order_by("due_at")
        .values_list(*_Due._fields)[:size]
    )


@contextmanager
def _without_collector() -> Iterator[None]:
    """A batch makes hundreds of thousands of short-lived objects and no reference cycles; the
    cyclic collector's passes it triggers walk the whole process's heap, a third of the batch's
    CPU in the profile. Paused for the batch, back to what it was after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _sweep_batch(now: datetime, size: int, part: tuple[int, int] | None = None) -> tuple[int, int]:
    """One batch of the sweep: (warnings claimed, warnings sent). A batch that could do nothing
    (the item of every warning it claimed held by a writer) counts as none claimed: the sweep
    stops there, and the next one sends them."""
    with _without_collector(), transaction.atomic():
        _commit_without_waiting()
        claimed = [_Due(*row) for row in claim(now, size, part)]
        count = len(claimed)
        if not claimed:
            return 0, 0
        # The warnings' items, locked for their health facts (below) and so that no row the
        # batch writes waits for a writer holding one: the warnings of a held item wait.
        stored = sweep_lock_items(due.task__item_id for due in claimed)
        if len(stored) < len({due.task__item_id for due in claimed}):
            claimed = [due for due in claimed if due.task__item_id in stored]
            if not claimed:
                return 0, 0
        people = _people(claimed)
        clock = _Clock(now)
        live = {due.pk for due in claimed if due.live and _still_true(due, people, clock)}
        changing = {
            due.task__item_id
            for due in claimed
            if sweep_changes_facts(due.kind, due.step, sent=due.pk in live)
        }
        warnings = [due for due in claimed if due.pk in live]
        Alert.objects.filter(pk__in=[due.pk for due in warnings]).update(sent_at=now)
        if len(warnings) < len(claimed):
            Alert.objects.filter(pk__in=[due.pk for due in claimed if due.pk not in live]).update(
                cancelled_at=now
            )
        texts = _Texts(warnings, people)
        notify_many([_event(due, people, texts) for due in warnings])
        _plan_follow_ups(warnings, people, clock)
        sweep_store_facts({pk: stored[pk] for pk in changing})
    return count, len(warnings)


def _commit_without_waiting() -> None:
    """PostgreSQL: the batch's commit does not wait for its WAL to reach the disk (a few ms of
    each batch; the sweep is idempotent). A crash of the database in the next moment (at most
    about three WAL-writer delays, 0.6 s; not a crash of the worker) loses the last batches
    whole, their marks and notifications together: the warnings are due and unsent again and
    the next sweep sends them, once per person (the notifications' keys, ``alert:<id>``). A
    delivery a worker sent in that moment would go out a second time. Not for SQLite, which has
    no such setting."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


class _Due(NamedTuple):
    """A claimed warning as the sweep reads it: the alert, its task and item, and the people it
    may go to by id. The field names are the lookups (``values_list(*_Due._fields)``)."""

    pk: int
    kind: str
    step: int
    deadline: date | None
    task_id: int
    task__name: str
    task__deadline: date
    task__percent_done: int
    task__item_id: int
    task__item__topic: str
    task__item__scenario: str
    task__owner_id: int
    task__item__coordinator_id: int
    # The head of the owner's department, and of the task's (for an owner without one).
    task__owner__person__department__head_id: int | None
    task__department__head_id: int | None
    # Whether the task still wants warnings (``LIVE``).
    live: bool


class _Someone(NamedTuple):
    """One person a warning is about or goes to."""

    recipient: Recipient
    name: str
    has_person: bool
    region_id: int | None


def _people(loaded: list[_Due]) -> dict[int, _Someone]:
    """Everyone the warnings name (owners, coordinators, department heads), with one query."""
    ids: set[int | None] = set()
    for due in loaded:
        ids.update((due.task__owner_id, due.task__item__coordinator_id))
        ids.update((due.task__owner__person__department__head_id, due.task__department__head_id))
    rows = (
        get_user_model()
        .objects.filter(pk__in=[pk for pk in ids if pk is not None])
        .values_list(
            "pk",
            "email",
            "first_name",
            "last_name",
            "username",
            "person__language",
            "person__department_id",
            "person__region_id",
        )
    )
    people = {}
    for pk, email, first, last, username, language, department_id, region_id in rows:
        # A person's language is never empty: a user without one has no person.
        recipient = Recipient(pk, email, language or settings.LANGUAGE_CODE, department_id)
        people[pk] = _Someone(recipient, name_of(first, last, username), language is not None, region_id)
    return people


class _Clock:
    """The moments one batch needs, each computed once per region: every warning of the batch is
    sent at the same ``now``, so its owner's day, the next working morning and an escalation's
    delay depend only on the regions."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.calendars = RegionCalendars()
        self.regions = {region.pk: region for region in Region.objects.all()}
        self.cache: dict[tuple[Any, ...], Any] = {}

    def calendar(self, region_id: int | None) -> Calendar:
        return self.calendars.for_region(self.regions.get(region_id) if region_id is not None else None)

    def today(self, region_id: int | None) -> date:
        key = ("today", region_id)
        if key not in self.cache:
            self.cache[key] = timezone.localtime(self.now, self.calendar(region_id).tz).date()
        return self.cache[key]

    def next_morning(self, region_id: int | None) -> datetime:
        """A late task's next reminder: the next working morning in the owner's region."""
        key = ("morning", region_id)
        if key not in self.cache:
            calendar = self.calendar(region_id)
            self.cache[key] = _working_clock(
                calendar, _working_day_after(calendar, self.today(region_id)), MORNING
            )
        return self.cache[key]

    def escalation(self, region_id: int | None, emergency: bool, recipient: _Someone) -> datetime:
        """When the next step goes out: the owner's working day (two working hours in an
        emergency) to act, then inside the working hours of the person it goes to, in their
        region."""
        theirs = (
            recipient.region_id if recipient.has_person and recipient.region_id != region_id else region_id
        )
        key = ("escalation", region_id, emergency, theirs)
        if key not in self.cache:
            calendar = self.calendar(region_id)
            if emergency:
                due = calendar.add_working_hours(self.now, 2)
            else:
                due = calendar.in_working_time(calendar.add_working_days(self.now, 1))
            self.cache[key] = due if theirs == region_id else self.calendar(theirs).in_working_time(due)
        return self.cache[key]


def _still_true(due: _Due, people: dict[int, _Someone], clock: _Clock) -> bool:
    """What SQL (``LIVE``) did not check: an overdue warning needs the deadline passed in the
    owner's region."""
    if due.kind == AlertKind.OVERDUE:
        return clock.today(people[due.task__owner_id].region_id) > due.task__deadline
    return True


def _recipient(due: _Due, step: int, people: dict[int, _Someone]) -> _Someone:
    """Who step ``step`` of the warning's ladder goes to: the owner, the coordinator, then the
    head of the owner's department (of the task's, for an owner without one), else the
    coordinator."""
    if step == 0:
        return people[due.task__owner_id]
    coordinator = people[due.task__item__coordinator_id]
    if step == 1:
        return coordinator
    owner = people[due.task__owner_id]
    head = (
        due.task__owner__person__department__head_id
        if owner.recipient.department_id is not None
        else due.task__department__head_id
    )
    return people[head] if head is not None else coordinator


class _Texts:
    """What a batch's warnings say, prepared once per batch: the link to the progress page
    (``reverse`` once, with a marker where the item's id goes: no other part of the URL is that
    number) and each deadline as a stored date."""

    marker = str(2**31 - 1)

    def __init__(self, warnings: list[_Due], people: dict[int, _Someone]) -> None:
        self.url_before, self.url_after = reverse("tasks_app:progress", args=[self.marker]).split(self.marker)
        self.deadlines = {
            day: Date(day, "MONTH_DAY_FORMAT").as_json() for day in {due.task__deadline for due in warnings}
        }

    def url(self, due: _Due) -> str:
        return f"{self.url_before}{due.task__item_id}{self.url_after}#task-{due.task_id}"


def _title(kind: str, step: int) -> str:
    if kind == AlertKind.DUE_SOON:
        return gettext_noop('"%(task)s" is due tomorrow (%(deadline)s)')
    if kind == AlertKind.DUE_TODAY:
        return gettext_noop('"%(task)s" is due today')
    if kind == AlertKind.OVERDUE and step == 0:
        return gettext_noop('"%(task)s" is late: it was due %(deadline)s')
    if kind == AlertKind.OVERDUE:
        return gettext_noop('Escalated: "%(task)s" of %(owner)s is late (due %(deadline)s)')
    if step == 0:
        return gettext_noop('Please report the progress of "%(task)s"')
    return gettext_noop('Escalated: %(owner)s has not reported on "%(task)s"')


BODY = gettext_noop("%(topic)s. Now %(percent)s%% done; deadline %(deadline)s.")
# Each title and the values it names: a stored text keeps what it shows.
TITLES = {
    (kind, step): (title, [name for name in ("task", "owner", "deadline") if f"%({name})s" in title])
    for kind in AlertKind.values
    for step in range(LAST_STEP + 1)
    for title in [_title(kind, step)]
}


@cache
def _urgency(kind: str, step: int, scenario: str) -> str:
    """How urgently a warning goes out, by the item's scenario: the owner's own report reminder
    is a hand-off (report due or missing), an emergency's escalation is instant, the rest as
    the scenario says."""
    item = CollaborationItem(scenario=scenario)  # only its scenario is read
    if kind == AlertKind.REPORT_MISSING and step == 0:
        return HANDOFF["alert.report_missing"].urgency(item)
    return Urgency.INSTANT if step > 0 and scenario == Scenario.EMERGENCY else urgency_for_item(item)


def _event(due: _Due, people: dict[int, _Someone], texts: _Texts) -> Event:
    """What the warning tells whom."""
    title, named = TITLES[due.kind, due.step]

    def render() -> tuple[Text, Text]:
        # The parameters as stored (``param_json``): names and the topic are text, the deadline
        # a date shown in the reader's format.
        values = {
            "task": due.task__name,
            "topic": due.task__item__topic,
            "owner": people[due.task__owner_id].name,
            "deadline": texts.deadlines[due.task__deadline],
            "percent": due.task__percent_done,
        }
        return Text.stored(title, {name: values[name] for name in named}), Text.stored(BODY, values)

    return Event(
        recipients=[_recipient(due, due.step, people).recipient],
        kind=f"alert.{due.kind}",
        render=render,
        url=texts.url(due),
        item=due.task__item_id,
        dedupe=f"alert:{due.pk}",
        urgency=_urgency(due.kind, due.step, due.task__item__scenario),
    )


def _plan_follow_ups(warnings: list[_Due], people: dict[int, _Someone], clock: _Clock) -> None:
    """The next rows of the sent warnings, with one INSERT: a late task's reminder every working
    morning while it stays late, and each ladder's next step unless it is planned already."""
    first_overdue = {due.task_id for due in warnings if due.kind == AlertKind.OVERDUE and due.step == 0}
    # (task, deadline) whose lateness already went up to the coordinator.
    escalated = set(
        Alert.objects.filter(
            task_id__in=first_overdue, kind=AlertKind.OVERDUE, step=1, cancelled_at=None
        ).values_list("task_id", "deadline")
        if first_overdue
        else []
    )
    follow: list[tuple[int, str, int, date | None, datetime]] = []
    for due in warnings:
        region_id = people[due.task__owner_id].region_id
        if due.kind == AlertKind.OVERDUE and due.step == 0:
            follow.append(
                (due.task_id, AlertKind.OVERDUE, 0, due.task__deadline, clock.next_morning(region_id))
            )
            if (due.task_id, due.task__deadline) in escalated:
                continue
        if due.kind in (AlertKind.OVERDUE, AlertKind.REPORT_MISSING) and due.step < LAST_STEP:
            step = due.step + 1
            emergency = due.task__item__scenario == Scenario.EMERGENCY
            moment = clock.escalation(region_id, emergency, _recipient(due, step, people))
            follow.append((due.task_id, due.kind, step, due.deadline, moment))
            if due.kind == AlertKind.OVERDUE and step == 1:
                escalated.add((due.task_id, due.deadline))
    insert_rows(Alert, ("task_id", "kind", "step", "deadline", "due_at"), follow)
