"""The coordinator board's review clock counts working time by arithmetic (ArithmeticClock), and
gives the same answer as the calendar's day-by-day walk over holidays, make-up workdays,
weekends, custom working hours, other countries and daylight saving."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from collab.dashboards.coordinator_selectors import ArithmeticClock
from collab.lib.workdays import Calendar

CHINA = Calendar()
# A region with a long lunch and an evening shift, and a German region with daylight saving.
SHIFTS = Calendar(periods=[(time(8), time(11, 30)), (time(14), time(17)), (time(19), time(21))])
BERLIN = Calendar(country="DE", timezone="Europe/Berlin")


def _at(calendar: Calendar, text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(calendar.tz.key))


SPANS = [
    # (due, now): same day, over a weekend, over National Day with its make-up Saturday, over
    # Spring Festival 2026, across a year end, months overdue, from outside working hours.
    ("2026-09-30 15:00", "2026-09-30 17:30"),
    ("2026-09-25 15:00", "2026-09-28 10:00"),
    ("2026-09-30 15:00", "2026-10-12 09:30"),
    ("2026-09-29 11:00", "2026-10-10 16:00"),
    ("2026-02-13 16:00", "2026-02-27 10:00"),
    ("2025-12-30 12:30", "2026-01-06 13:15"),
    ("2026-03-02 09:00", "2026-09-30 18:00"),
    ("2026-06-06 22:00", "2026-06-15 07:00"),
    ("2026-05-29 18:00", "2026-06-03 12:00"),
]


@pytest.mark.parametrize("calendar", [CHINA, SHIFTS, BERLIN], ids=["china", "shifts", "berlin"])
@pytest.mark.parametrize(("due", "now"), SPANS)
def test_the_clock_adds_up_to_the_calendars_walk(calendar: Calendar, due: str, now: str) -> None:
    a, b = _at(calendar, due), _at(calendar, now)
    clock = ArithmeticClock(calendar)
    assert clock.working_time_between(a, b) == calendar.working_time_between(a, b)
    assert clock.working_time_between(b, a) == calendar.working_time_between(b, a)


def test_the_clock_does_not_walk_the_days_between() -> None:
    """Half a year overdue: the clock asks about each day once for the page (prefix sums shared
    by every row), and a second review over the same span asks nothing new."""
    asked: list[object] = []

    class Counting(Calendar):
        def is_working_day(self, d: object) -> bool:  # type: ignore[override]
            asked.append(d)
            return super().is_working_day(d)  # type: ignore[arg-type]

    calendar = Counting()
    clock = ArithmeticClock(calendar)
    clock.working_time_between(_at(calendar, "2026-03-02 09:00"), _at(calendar, "2026-09-30 18:00"))
    first = len(asked)
    clock.working_time_between(_at(calendar, "2026-03-03 09:00"), _at(calendar, "2026-09-30 17:00"))
    assert len(asked) - first <= 4  # the first and last day's periods only
