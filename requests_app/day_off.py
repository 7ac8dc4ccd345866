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
from typing import Any, NamedTuple

from django.http import QueryDict
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _

from collab.lib.workdays import Calendar
from collab.org.calendar import calendar_for, calendar_of, holiday_label

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
    def move_token(self) -> str:
        """What the step posts back for "move": this field goes to the day the question named,
        found in the date's own calendar (which the next request does not know again)."""
        return f"{self.field}={self.day:%Y-%m-%d}>{self.next_working_day:%Y-%m-%d}"

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


class Committed(NamedTuple):
    """A date a person commits to: the posted field, what it is for, the day (None when it did
    not parse) and the calendar that judges it.

    The rule, one for every date and for the hint beside it: a date that is someone's deadline
    (a task's, a to-do's, an improvement measure's) is judged by that person's region calendar
    (``calendar_of(owner)``, as ``tasks_app.rules.deadline_warnings`` judges a task's hint); a
    date of the item as a whole (a milestone) by the company calendar (``calendar`` None).
    """

    field: str
    what: str
    day: date | None
    calendar: Calendar | None = None


def days_off(dates: Iterable[Committed]) -> list[DayOff]:
    """The committed dates that fall on a day off of their calendar, with its next working day."""
    company: Calendar | None = None  # read when a date has no calendar of its own
    found = []
    for field, what, day, own in dates:
        if day is None:
            continue
        calendar = own or company or (company := calendar_for(None))
        kind = calendar.day_kind(day)
        if not kind.workday:
            reason = holiday_label(kind.reason, kind.name)
            found.append(DayOff(field, what, day, reason, calendar.next_working_day(day)))
    return found


def row_dates(
    formset: Any,
    field: str,
    what: Callable[[dict[str, Any]], str],
    owner: str = "",
) -> list[Committed]:
    """The dates of a formset's filled rows, each with the posted name of its input; with
    ``owner``, each judged by the calendar of the person that row's ``owner`` field names."""
    return [
        Committed(
            form.add_prefix(field),
            what(form.cleaned_data),
            form.cleaned_data.get(field),
            calendar_of(form.cleaned_data.get(owner)) if owner else None,
        )
        for form in formset.forms
        if form.has_changed() and not form.cleaned_data.get("DELETE")
    ]


def answered(data: QueryDict) -> QueryDict:
    """The posted data as the form expects it after the person answered the question.

    1. The button that first submitted the form (say "submit" rather than "save draft") is
       pressed again: the step carried it in ``day_off_action``, not as a live field, so pressing
       an ordinary button of the form instead does what that button says.
    2. With "move", every date that was asked about is set to the next working day the
       question named (``DayOff.move_token``); the date's calendar, not this module, decided it.
       A tampered day is only a posted date: the form checks it, and a day off is asked again.
    """
    if data.get("day_off") not in (KEEP, MOVE):
        return data
    answer = data.copy()
    action = data.get("day_off_action", "")
    if action in ACTIONS:
        answer[action] = "1"
    if data.get("day_off") == MOVE:
        for token in data.getlist("day_off_move"):
            field, _sep, days = token.partition("=")
            iso, _arrow, target = days.partition(">")
            try:
                date.fromisoformat(target)
            except ValueError:
                continue  # a tampered token: the date is simply asked about again
            if data.get(field) == iso:
                answer[field] = target
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
