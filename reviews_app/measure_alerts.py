"""Overdue improvement measures: the owner is told once (the hand-off "measure assigned or
overdue → its owner").

Polled by a beat sweep, like tasks_app.alerts and review_alerts: an open measure carries its
``due_date`` and the claim column ``overdue_told_at`` (a partial index holds the open, untold
ones by due date). A measure becomes overdue at the start of its owner's first working time
after the due day, in the owner's region calendar; the sweep then claims it with a conditional
UPDATE, so a duplicated beat, a second worker or a restart tells nobody twice.

Measures outlive their item: the improvement log follows them after the item is archived, so an
archived item's measures are told too, and the notice leads to the log, not to the item.
"""

from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from collab.audit.texts import Date, Text
from collab.lib.workdays import Calendar
from collab.notify.handoffs import tell
from collab.org.calendar import calendar_for
from reviews_app.models import ImprovementMeasure, MeasureStatus
from reviews_app.retro_services import log_url

# The earliest time zone runs 14 hours ahead of UTC: a due day that ended there may have ended
# for an owner; the exact moment is computed on each owner's calendar.
AHEAD_OF_UTC = timedelta(hours=14)


def overdue_from(measure: ImprovementMeasure, calendar: Calendar) -> datetime:
    """The moment ``measure`` becomes overdue: its owner's first working time after the due day."""
    return calendar.in_working_time(calendar.at(measure.due_date + timedelta(days=1), time.min), start=True)


def sweep_overdue_measures(*, now: datetime | None = None, limit: int = 500) -> int:
    """Tells the owner of every measure that became overdue, once; returns how many were told."""
    now = now or timezone.now()
    latest_day_on_earth = (now.astimezone(UTC) + AHEAD_OF_UTC).date()
    candidates = (
        ImprovementMeasure.objects.filter(
            status=MeasureStatus.OPEN, overdue_told_at=None, due_date__lt=latest_day_on_earth
        )
        .select_related("owner__person__region", "retrospective__item")
        .order_by("due_date", "pk")[:limit]
    )
    calendars: dict[Any, Calendar] = {}
    told = 0
    for measure in candidates:
        person = getattr(measure.owner, "person", None)
        region = person.region if person is not None else None
        key = getattr(region, "pk", None)
        if key not in calendars:
            calendars[key] = calendar_for(region)
        if overdue_from(measure, calendars[key]) > now:
            continue
        with transaction.atomic():
            # The claim: only the sweep whose UPDATE changed the row tells.
            claimed = ImprovementMeasure.objects.filter(
                pk=measure.pk, status=MeasureStatus.OPEN, overdue_told_at=None
            ).update(overdue_told_at=now)
            if claimed:
                _tell_overdue(measure)
                told += 1
    return told


def _tell_overdue(measure: ImprovementMeasure) -> None:
    item = measure.retrospective.item

    def render() -> tuple[Text, Text]:
        return (
            Text(
                gettext_noop("Your improvement measure of %(number)s %(topic)s is overdue (due %(due)s)"),
                number=item.number or "",
                topic=item.topic,
                due=Date(measure.due_date, "Y-m-d"),
            ),
            Text(
                gettext_noop(
                    "%(measure)s. Carry it out and mark it done in the improvement log, saying how."
                ),
                measure=measure.text,
            ),
        )

    tell(
        "improvement.assigned",
        recipients=[measure.owner],
        render=render,
        url=log_url(measure),
        item=item,
        dedupe=f"improvement:{measure.pk}:overdue",
    )
