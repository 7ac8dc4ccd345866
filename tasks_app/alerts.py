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

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_noop

from collab.audit.texts import Date, Text
from collab.notify.handoffs import handoff_event
from collab.notify.services import Event, notify_all, urgency_for_item
from collab.org.calendar import RegionCalendars, calendar_for
from collab.org.models import display_name
from requests_app.models import ItemStatus, ReportCadence, Scenario
from tasks_app.health_facts import health_refresh_after_sweep
from tasks_app.models import Alert, AlertKind, Task, TaskStatus

DEADLINE_KINDS = (AlertKind.DUE_SOON, AlertKind.DUE_TODAY, AlertKind.OVERDUE)
MORNING = time(9, 0)
DAY_BEFORE = time(10, 0)
LAST_STEP = 2
# A task whose result is delivered (under review or signed) gets no warning: see _quiet.
QUIET_STATUSES = (TaskStatus.DELIVERED, TaskStatus.DONE)
# The relations a warning is rendered, addressed and followed up with: the owner, the
# coordinator and the department heads with their regions (each region's calendar).
SENT_WITH = (
    "task__item__coordinator__person__region",
    "task__owner__person__region",
    "task__owner__person__department__head__person__region",
    "task__department__head__person__region",
)


def _region(task: Task) -> Any:
    person = getattr(task.owner, "person", None)
    return person.region if person is not None else None


def _calendar(region: Any, calendars: RegionCalendars | None) -> Any:
    """The region's calendar: from the sweep's calendars (loaded once), else its own query."""
    return calendars.for_region(region) if calendars is not None else calendar_for(region)


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


def escalation_delay_after(
    task: Task, moment: datetime, recipient: Any = None, *, calendars: RegionCalendars | None = None
) -> datetime:
    """When the next step goes out: the owner's working day (two working hours in an emergency)
    to act, then inside the working hours of the person it goes to, in their region."""
    calendar = _calendar(_region(task), calendars)
    if task.item.scenario == Scenario.EMERGENCY:
        due = calendar.add_working_hours(moment, 2)
    else:
        due = calendar.in_working_time(calendar.add_working_days(moment, 1))
    person = getattr(recipient, "person", None)
    if person is None or person.region_id == getattr(_region(task), "pk", None):
        return due
    return _calendar(person.region, calendars).in_working_time(due)


def _pending(task: Task, kinds: tuple[str, ...]) -> Any:
    return Alert.objects.filter(task=task, kind__in=kinds, sent_at=None, cancelled_at=None)


def _quiet(task: Task) -> bool:
    """No warning about a task whose result is delivered (under review or signed), nor about an
    item out of execution: the owner has nothing to report; a request for changes replans them.
    ``LIVE`` says the same of an alert's task in SQL."""
    return task.status in QUIET_STATUSES or task.item.status != ItemStatus.EXECUTING


LIVE = Q(task__item__status=ItemStatus.EXECUTING) & ~Q(task__status__in=QUIET_STATUSES)


def cancel_alerts(task: Task, kinds: tuple[str, ...] = tuple(AlertKind.values)) -> None:
    _pending(task, kinds).update(cancelled_at=timezone.now())


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
    Alert.objects.create(task=task, kind=AlertKind.REPORT_MISSING, due_at=_cadence_after(task, since))


def plan_alerts(task: Task, *, new: bool = False) -> None:
    """``plan_deadline_alerts`` and ``plan_report_alert`` in one go: one UPDATE cancels what is
    pending (nothing for a ``new`` task), one calendar, one INSERT."""
    if not new:
        cancel_alerts(task, (*DEADLINE_KINDS, AlertKind.REPORT_MISSING))
    if _quiet(task):
        return
    calendar = calendar_for(_region(task))
    report = Alert(
        task=task,
        kind=AlertKind.REPORT_MISSING,
        due_at=_cadence_after(task, task.last_reported_at or timezone.now(), calendar),
    )
    Alert.objects.bulk_create([*_deadline_alerts(task, calendar), report])


def sweep_alerts(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Sends every due warning once; returns how many were sent by this sweep.

    Batch after batch of ``batch_size`` warnings, each in its own transaction, until none is due.
    A batch costs the same number of queries whatever its size:

    1. Claim: lock the oldest due rows (PostgreSQL: SKIP LOCKED, so a second sweep at the same
       moment takes the next rows instead of waiting; SQLite: the transaction holds the write
       lock from its start) and mark them sent.
    2. Load the claimed rows whose task still wants warnings (``LIVE``, in SQL) with everything
       they are sent with, in one query; the calendars of every region in one more.
    3. Cancel the claimed rows that are no longer true (task delivered, item out of execution, a
       deadline that is not passed in the owner's region).
    4. Tell everyone at once (``notify_all``) and plan the next steps with one INSERT.

    A failure rolls the whole batch back, claims included: the next sweep sends it again, and
    the notifications' keys (``alert:<id>``) make that once per person (at least once, never twice).
    """
    now = now or timezone.now()
    sent = 0
    while True:
        claimed, sent_now = _sweep_batch(now, batch_size)
        sent += sent_now
        # A short batch: nothing else was due (or another sweep holds the rest).
        if claimed < batch_size:
            return sent


def _sweep_batch(now: datetime, size: int) -> tuple[int, int]:
    """One batch of the sweep: (warnings claimed, warnings sent)."""
    with transaction.atomic():
        claimed = list(
            Alert.objects.select_for_update(skip_locked=True)
            .filter(sent_at=None, cancelled_at=None, due_at__lte=now)  # the partial index alert_due_unsent
            .order_by("due_at", "pk")
            .values_list("pk", flat=True)[:size]
        )
        if not claimed:
            return 0, 0
        Alert.objects.filter(pk__in=claimed).update(sent_at=now)
        loaded = Alert.objects.filter(LIVE, pk__in=claimed).select_related(*SENT_WITH)
        calendars = RegionCalendars()
        alerts = [alert for alert in loaded if _still_true(alert, now, calendars)]
        gone = set(claimed) - {alert.pk for alert in alerts}
        if gone:
            Alert.objects.filter(pk__in=gone).update(sent_at=None, cancelled_at=now)
        notify_all([_event(alert) for alert in alerts])
        _plan_follow_ups(alerts, now, calendars)
    health_refresh_after_sweep(claimed)
    return len(claimed), len(alerts)


def _still_true(alert: Alert, now: datetime, calendars: RegionCalendars) -> bool:
    """What SQL (``LIVE``) did not check: an overdue warning needs the deadline passed in the
    owner's region."""
    task = alert.task
    if alert.kind == AlertKind.OVERDUE:
        return timezone.localtime(now, _calendar(_region(task), calendars).tz).date() > task.deadline
    return True


def _recipient(alert: Alert) -> Any:
    task = alert.task
    if alert.step == 0:
        return task.owner
    if alert.step == 1:
        return task.item.coordinator
    department = getattr(getattr(task.owner, "person", None), "department", None) or task.department
    return department.head or task.item.coordinator


def _event(alert: Alert) -> Event:
    """What the warning tells whom: the owner's own report reminder is a hand-off (report due
    or missing); the other warnings and every escalation are not."""
    task, item = alert.task, alert.task.item
    recipient = _recipient(alert)

    def render() -> tuple[Text, Text]:
        values = {
            "task": task.name,
            "topic": item.topic,
            "owner": display_name(task.owner),
            "deadline": Date(task.deadline, "MONTH_DAY_FORMAT"),
            "percent": task.percent_done,
        }
        if alert.kind == AlertKind.DUE_SOON:
            title = gettext_noop('"%(task)s" is due tomorrow (%(deadline)s)')
        elif alert.kind == AlertKind.DUE_TODAY:
            title = gettext_noop('"%(task)s" is due today')
        elif alert.kind == AlertKind.OVERDUE and alert.step == 0:
            title = gettext_noop('"%(task)s" is late: it was due %(deadline)s')
        elif alert.kind == AlertKind.OVERDUE:
            title = gettext_noop('Escalated: "%(task)s" of %(owner)s is late (due %(deadline)s)')
        elif alert.step == 0:
            title = gettext_noop('Please report the progress of "%(task)s"')
        else:
            title = gettext_noop('Escalated: %(owner)s has not reported on "%(task)s"')
        body = Text(gettext_noop("%(topic)s. Now %(percent)s%% done; deadline %(deadline)s."), **values)
        # Only the placeholders the title names: a stored text keeps what it shows.
        return Text(title, **{k: v for k, v in values.items() if f"%({k})s" in title}), body

    url = reverse("tasks_app:progress", args=[item.pk]) + f"#task-{task.pk}"
    if alert.kind == AlertKind.REPORT_MISSING and alert.step == 0:
        return handoff_event(
            "alert.report_missing",
            recipients=[recipient],
            render=render,
            url=url,
            item=item,
            dedupe=f"alert:{alert.pk}",
        )
    return Event(
        recipients=[recipient],
        kind=f"alert.{alert.kind}",
        render=render,
        url=url,
        item=item,
        dedupe=f"alert:{alert.pk}",
        urgency="instant"
        if alert.step > 0 and item.scenario == Scenario.EMERGENCY
        else urgency_for_item(item),
    )


def _plan_follow_ups(alerts: list[Alert], now: datetime, calendars: RegionCalendars) -> None:
    """The next rows of the sent warnings, with one INSERT: a late task's reminder every working
    morning while it stays late, and each ladder's next step unless it is planned already."""
    first_overdue = {a.task_id for a in alerts if a.kind == AlertKind.OVERDUE and a.step == 0}
    # (task, deadline) whose lateness already went up to the coordinator.
    escalated = set(
        Alert.objects.filter(
            task_id__in=first_overdue, kind=AlertKind.OVERDUE, step=1, cancelled_at=None
        ).values_list("task_id", "deadline")
        if first_overdue
        else []
    )
    follow: list[Alert] = []
    for alert in alerts:
        task = alert.task
        if alert.kind == AlertKind.OVERDUE and alert.step == 0:
            calendar = _calendar(_region(task), calendars)
            today = timezone.localtime(now, calendar.tz).date()
            follow.append(
                Alert(
                    task=task,
                    kind=AlertKind.OVERDUE,
                    deadline=task.deadline,
                    due_at=_working_clock(calendar, _working_day_after(calendar, today), MORNING),
                )
            )
            if (task.pk, task.deadline) in escalated:
                continue
        if alert.kind in (AlertKind.OVERDUE, AlertKind.REPORT_MISSING) and alert.step < LAST_STEP:
            step = Alert(task=task, kind=alert.kind, step=alert.step + 1, deadline=alert.deadline)
            step.due_at = escalation_delay_after(task, now, _recipient(step), calendars=calendars)
            follow.append(step)
            if step.kind == AlertKind.OVERDUE and step.step == 1:
                escalated.add((task.pk, step.deadline))
    Alert.objects.bulk_create(follow)
