from datetime import date

import pytest

from collab.lib.workdays import WEEKEND, DayKind, day_kind, is_workday

DAYS = [
    # (date, workday, reason, make-up workday for, known)
    (date(2026, 10, 1), False, "national_day", None, True),  # Thursday, National Day
    (date(2026, 10, 3), False, "national_day", None, True),  # a Saturday inside the holiday
    (date(2026, 10, 7), False, "national_day", None, True),  # Wednesday, the holiday's last day
    (date(2026, 10, 8), True, None, None, True),  # Thursday, back to work
    (date(2026, 10, 10), True, None, "national_day", True),  # Saturday, make-up workday (补班)
    (date(2026, 10, 11), False, WEEKEND, None, True),  # an ordinary Sunday
    (date(2026, 2, 14), True, None, "spring_festival", True),  # Saturday, make-up workday
    (date(2026, 2, 16), False, "spring_festival", None, True),  # Monday, Spring Festival
    (date(2026, 1, 1), False, "new_years_day", None, True),
    (date(2026, 4, 5), False, "tomb_sweeping_day", None, True),
    (date(2026, 5, 1), False, "labour_day", None, True),
    (date(2026, 6, 19), False, "dragon_boat_festival", None, True),
    (date(2026, 9, 25), False, "mid_autumn_festival", None, True),
    (date(2026, 9, 16), True, None, None, True),  # an ordinary Wednesday
    (date(2027, 10, 1), True, None, None, False),  # a Friday of a year not yet published
    (date(2027, 10, 2), False, WEEKEND, None, False),  # a Saturday: weekends still count
]


@pytest.mark.parametrize(("day", "workday", "reason", "makeup_for", "known"), DAYS)
def test_day_kind(day: date, workday: bool, reason: str | None, makeup_for: str | None, known: bool) -> None:
    kind = day_kind(day)
    assert kind == DayKind(day=day, workday=workday, reason=reason, makeup_for=makeup_for, known=known)
    assert is_workday(day) is workday


def test_a_make_up_saturday_is_a_make_up_workday_and_a_holiday_is_a_holiday() -> None:
    assert day_kind(date(2026, 10, 10)).is_makeup_workday
    assert not day_kind(date(2026, 10, 9)).is_makeup_workday  # an ordinary Friday
    assert day_kind(date(2026, 10, 1)).is_holiday
    assert not day_kind(date(2026, 10, 11)).is_holiday  # a plain Sunday is a weekend, not a holiday
