"""Asking before a person commits someone to a weekend or a holiday.

A date on a day off is allowed (a launch may be planned for a Saturday), but it is asked about
BEFORE anything is saved: the form comes back with one question per such date that names the
day, why it is off and the calendar's next working day, and two buttons, "keep" and "move".
The question is stateless: the confirmation step posts back, as hidden fields, which dates the
person saw, so a date changed to another day off is asked about again.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.http import QueryDict
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _

from collab.lib.workdays import Calendar
from collab.org.calendar import calendar_for, holiday_label

KEEP, MOVE = "keep", "move"
# The buttons that submit the forms this guards: the step posts the one that was pressed again.
ACTIONS = ("submit", "save", "change")


@dataclass(frozen=True)
class DayOff:
    field: str  # the posted name of the date input, e.g. "deadline" or "milestones-1-due_date"
    what: str  # what the date is for, in the reader's language: 'Milestone "测试完成"'
    day: date
    reason: str  # "weekend", "National Day", a company day off...
    next_working_day: date

    @property
    def token(self) -> str:
        """What the step posts back: this field, set to this day, was seen and kept."""
        return f"{self.field}={self.day:%Y-%m-%d}"

    @property
    def question(self) -> str:
        return _(
            "%(what)s: %(date)s (%(weekday)s) is not a working day (%(reason)s). Keep it, or move it "
            "to the next working day, %(next)s (%(next_weekday)s)?"
        ) % {
            "what": self.what,
            "date": f"{self.day:%Y-%m-%d}",
            "weekday": WEEKDAYS[self.day.weekday()],
            "reason": self.reason,
            "next": f"{self.next_working_day:%Y-%m-%d}",
            "next_weekday": WEEKDAYS[self.next_working_day.weekday()],
        }


# (posted field name, what the date is for, the date or None when it did not parse)
Committed = tuple[str, str, date | None]


def days_off(dates: Iterable[Committed], calendar: Calendar | None = None) -> list[DayOff]:
    """The committed dates (field, what, day) that fall on a day off, with the next working day."""
    calendar = calendar or calendar_for(None)
    found = []
    for field, what, day in dates:
        if day is None:
            continue
        kind = calendar.day_kind(day)
        if not kind.workday:
            reason = holiday_label(kind.reason, kind.name)
            found.append(DayOff(field, what, day, reason, calendar.next_working_day(day)))
    return found


def row_dates(formset: Any, field: str, what: Callable[[dict[str, Any]], str]) -> list[Committed]:
    """The dates of a formset's filled rows, each with the posted name of its input."""
    return [
        (form.add_prefix(field), what(form.cleaned_data), form.cleaned_data.get(field))
        for form in formset.forms
        if form.has_changed() and not form.cleaned_data.get("DELETE")
    ]


def answered(data: QueryDict) -> QueryDict:
    """The posted data as the form expects it after the person answered the question.

    1. The button that first submitted the form (say "submit" rather than "save draft") is
       pressed again: the step carried it in ``day_off_action``, not as a live field, so pressing
       an ordinary button of the form instead does what that button says.
    2. With "move", every date that was asked about is set to the next working day; the
       calendar, not this module, decides which day that is.
    """
    if data.get("day_off") not in (KEEP, MOVE):
        return data
    answer = data.copy()
    action = data.get("day_off_action", "")
    if action in ACTIONS:
        answer[action] = "1"
    if data.get("day_off") == MOVE:
        calendar = calendar_for(None)
        for token in data.getlist("day_off_seen"):
            field, _sep, iso = token.partition("=")
            try:
                day = date.fromisoformat(iso)
            except ValueError:
                continue  # a tampered token: the date is simply asked about again
            if data.get(field) == iso:
                answer[field] = f"{calendar.next_working_day(day):%Y-%m-%d}"
    return answer


def unconfirmed(data: QueryDict, found: list[DayOff]) -> list[DayOff]:
    """The days off the person has not yet chosen to keep."""
    kept = set(data.getlist("day_off_seen")) if data.get("day_off") == KEEP else set()
    return [d for d in found if d.token not in kept]


def question(data: QueryDict, dates: Iterable[Committed]) -> dict[str, Any] | None:
    """The context of the confirmation step (``requests_app/_day_off.html``), or None when no
    committed date falls on a day off the person has not already chosen to keep."""
    pending = unconfirmed(data, days_off(dates))
    if not pending:
        return None
    return {"days_off": pending, "day_off_action": next((a for a in ACTIONS if a in data), "")}
