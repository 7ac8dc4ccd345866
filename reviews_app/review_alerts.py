"""Review reminders and escalations: the receiver reviews within one working day (1个工作日内审核).

Polled by a beat sweep, like tasks_app.alerts: each DeliverableVersion waiting for review carries
``review_due_at`` (indexed) and two claim columns. A reminder goes to the receiver two working
hours before the due moment; when it passes, the receiver's department head is told. Each is
claimed with a conditional UPDATE on ``reminder_sent_at`` / ``overdue_sent_at``, so a duplicated
beat, a second worker or a restart sends nothing twice. Times follow the receiver's calendar.
"""

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_noop

from collab.audit.texts import DateTime, Text
from collab.lib.workdays import Calendar
from collab.notify.models import Urgency
from collab.notify.services import notify
from collab.org.models import display_name
from requests_app.models import ItemStatus, Scenario
from reviews_app.delivery_services import review_calendar
from reviews_app.models import DeliverableVersion

REMIND_WORKING_HOURS = 2
# The reminder comes two working hours before the due moment, which can be many calendar days
# earlier across a long holiday (Spring Festival, National Day plus weekends): versions due within
# this horizon are the candidates; the exact moment is computed on each one's calendar.
REMINDER_HORIZON = timedelta(days=21)


def _waiting() -> Any:
    # Unreviewed versions of items in execution; the review_due_at index narrows the scan.
    return DeliverableVersion.objects.filter(
        decision="", deliverable__task__item__status=ItemStatus.EXECUTING
    )


def _with_people(queryset: Any) -> Any:
    return queryset.select_related(
        "deliverable__task__item__coordinator",
        "deliverable__deliverer",
        "deliverable__receiver__person__region",
        "deliverable__receiver__person__department__head",
    )


def remind_at(version: DeliverableVersion, calendar: Calendar) -> datetime:
    """The moment of the receiver's reminder: two working hours before the review is due."""
    return calendar.add_working_hours(version.review_due_at, -REMIND_WORKING_HOURS)


def sweep_reviews(*, now: datetime | None = None, limit: int = 500) -> int:
    """Sends every due review reminder and escalation once; returns how many were sent."""
    now = now or timezone.now()
    calendars: dict[Any, Calendar] = {}

    def calendar_of(version: DeliverableVersion) -> Calendar:
        receiver = version.deliverable.receiver
        region_id = getattr(getattr(receiver, "person", None), "region_id", None)
        if region_id not in calendars:
            calendars[region_id] = review_calendar(receiver)
        return calendars[region_id]

    sent = 0
    reminders = _with_people(
        _waiting().filter(
            reminder_sent_at=None, review_due_at__gt=now, review_due_at__lte=now + REMINDER_HORIZON
        )
    ).order_by("review_due_at", "pk")[:limit]
    for version in reminders:
        if remind_at(version, calendar_of(version)) > now:
            continue
        with transaction.atomic():
            # The claim: only the sweep whose UPDATE changed the row sends.
            if DeliverableVersion.objects.filter(pk=version.pk, reminder_sent_at=None, decision="").update(
                reminder_sent_at=now
            ):
                _remind(version, calendar_of(version))
                sent += 1
    overdue = _with_people(_waiting().filter(overdue_sent_at=None, review_due_at__lte=now)).order_by(
        "review_due_at", "pk"
    )[:limit]
    for version in overdue:
        with transaction.atomic():
            if DeliverableVersion.objects.filter(pk=version.pk, overdue_sent_at=None, decision="").update(
                overdue_sent_at=now
            ):
                _escalate(version, calendar_of(version))
                sent += 1
    return sent


def _url(version: DeliverableVersion) -> str:
    deliverable = version.deliverable
    return reverse("reviews_app:deliverable_detail", args=[deliverable.task.item_id, deliverable.pk])


def _due_text(version: DeliverableVersion, calendar: Calendar) -> DateTime:
    return DateTime(timezone.localtime(version.review_due_at, calendar.tz), "Y-m-d H:i")


def _remind(version: DeliverableVersion, calendar: Calendar) -> None:
    deliverable = version.deliverable
    item = deliverable.task.item

    def render() -> tuple[Text, Text]:
        return (
            Text(
                gettext_noop('Your review of "%(deliverable)s" (version %(number)s) is due at %(due)s'),
                deliverable=deliverable.name,
                number=version.number,
                due=_due_text(version, calendar),
            ),
            Text(
                gettext_noop(
                    "Accept it or request changes on the deliverable's page; %(person)s waits for it."
                ),
                person=display_name(deliverable.deliverer),
            ),
        )

    notify(
        recipients=[deliverable.receiver],
        kind="review.reminder",
        render=render,
        url=_url(version),
        item=item,
        dedupe=f"review:{version.pk}:reminder",
        urgency=Urgency.INSTANT if item.scenario == Scenario.EMERGENCY else Urgency.NORMAL,
    )


def escalation_recipient(version: DeliverableVersion) -> Any:
    """The receiver's department head; the coordinator when there is none, or when the receiver
    heads the department (an escalation to oneself reaches nobody new)."""
    receiver = version.deliverable.receiver
    department = getattr(getattr(receiver, "person", None), "department", None)
    head = department.head if department is not None else None
    if head is None or head.pk == receiver.pk:
        return version.deliverable.task.item.coordinator
    return head


def _escalate(version: DeliverableVersion, calendar: Calendar) -> None:
    deliverable = version.deliverable
    item = deliverable.task.item

    def render() -> tuple[Text, Text]:
        receiver = display_name(deliverable.receiver)
        return (
            Text(
                gettext_noop('Escalated: %(receiver)s has not reviewed "%(deliverable)s" (due %(due)s)'),
                receiver=receiver,
                deliverable=deliverable.name,
                due=_due_text(version, calendar),
            ),
            Text(
                gettext_noop(
                    "%(topic)s: version %(number)s waits for review by %(receiver)s, "
                    "who was to review it within one working day."
                ),
                topic=item.topic,
                number=version.number,
                receiver=receiver,
            ),
        )

    notify(
        recipients=[escalation_recipient(version)],
        kind="review.overdue",
        render=render,
        url=_url(version),
        item=item,
        dedupe=f"review:{version.pk}:overdue",
        urgency=Urgency.INSTANT if item.scenario == Scenario.EMERGENCY else Urgency.NORMAL,
    )
