"""Working days in mainland China: weekends, public holidays and make-up workdays (调休).

Pure Python with no Django import. The State Council publishes each year's schedule in the
preceding December; the chinesecalendar package carries the published years. A Saturday can be
a workday (补班) and a Thursday a holiday, so "is it a weekday" is not the question to ask.

For a year the package does not know yet, the answer falls back to Monday-Friday and says so
(``known=False``): callers warn that the holidays of that year could not be checked, instead of
silently treating 1 October 2027 as a working day.
"""

from dataclasses import dataclass
from datetime import date

import chinese_calendar
from chinese_calendar.constants import Holiday

WEEKEND = "weekend"

# chinese_calendar names a holiday by its English name ("National Day"); callers want a stable
# key ("national_day") to translate.
_HOLIDAY_KEYS = {holiday.value: holiday.name for holiday in Holiday}


@dataclass(frozen=True)
class DayKind:
    day: date
    workday: bool
    # Why a day off is off: WEEKEND or a holiday key such as "national_day"; None on a workday.
    reason: str | None = None
    # On a make-up workday (a Saturday or Sunday worked in exchange), the holiday it pays for.
    makeup_for: str | None = None
    # False when the year's official schedule is not available and only weekends were checked.
    known: bool = True

    @property
    def is_makeup_workday(self) -> bool:
        return self.workday and self.day.weekday() >= 5

    @property
    def is_holiday(self) -> bool:
        return self.reason is not None and self.reason != WEEKEND


def _holiday_key(name: str | None) -> str | None:
    if name is None:
        return None
    return _HOLIDAY_KEYS.get(name, name.lower().replace(" ", "_").replace("-", "_"))


def day_kind(d: date) -> DayKind:
    """Whether ``d`` is a working day in mainland China and, if not, why."""
    weekend = d.weekday() >= 5
    try:
        is_off, holiday_name = chinese_calendar.get_holiday_detail(d)
    except NotImplementedError:  # a year outside the published schedules
        return DayKind(day=d, workday=not weekend, reason=WEEKEND if weekend else None, known=False)
    key = _holiday_key(holiday_name)
    if not is_off:
        # The package names the holiday a make-up workday belongs to; an ordinary weekday has none.
        return DayKind(day=d, workday=True, makeup_for=key if weekend else None)
    # A holiday that falls on a weekend is reported as the holiday: it says more.
    return DayKind(day=d, workday=False, reason=key or WEEKEND)


def is_workday(d: date) -> bool:
    return day_kind(d).workday
