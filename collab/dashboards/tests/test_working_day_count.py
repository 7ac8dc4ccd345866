"""Working days by arithmetic (whole weeks plus the days that break the week's rule) agree with
the calendar's day-by-day walk, for every kind of calendar a region can have."""

import random
from datetime import date, timedelta

import pytest

from collab.dashboards.board_selectors import WorkingDayCount
from collab.lib.workdays import Calendar, NoticeDay, Override

CALENDARS = {
    "China, published years and the years after": Calendar(),
    "China with company overrides": Calendar(
        overrides={
            date(2026, 10, 10): Override(False, "The make-up Saturday given back"),
            date(2026, 9, 30): Override(False, "Company anniversary"),
            date(2026, 12, 26): Override(True, "Year-end closing"),
        }
    ),
    "China, a six-day week": Calendar(work_week={0, 1, 2, 3, 4, 5}),
    "China, an imported notice for 2027": Calendar(
        notices={
            2027: {
                date(2026, 12, 31): NoticeDay(False, "new_years_day"),
                date(2027, 2, 11): NoticeDay(False, "spring_festival"),
                date(2027, 2, 20): NoticeDay(True, "spring_festival"),
            }
        }
    ),
    "Germany": Calendar("DE", "Europe/Berlin"),
    "Bavaria, Sunday to Thursday": Calendar("DE-BY", "Europe/Berlin", work_week={6, 0, 1, 2, 3}),
}


@pytest.mark.parametrize("name", CALENDARS)
def test_the_arithmetic_agrees_with_the_walk(name: str) -> None:
    calendar = CALENDARS[name]
    count = WorkingDayCount(calendar)
    pick = random.Random(name)
    first_day = date(2023, 1, 1)
    for _ in range(300):
        a = first_day + timedelta(days=pick.randrange(6 * 365))
        b = a + timedelta(days=pick.randrange(-400, 400))
        assert count.between(a, b) == calendar.working_days_between(a, b), (a, b)
    # Around every day that breaks the rule, in the years the data covers.
    for year in (2025, 2026, 2027):
        for day in calendar.exceptions(year):
            for a, b in ((day - timedelta(days=1), day), (day, day + timedelta(days=9))):
                assert count.between(a, b) == calendar.working_days_between(a, b), (a, b)


def test_a_deadline_years_away_costs_a_few_lookups_not_a_walk() -> None:
    calendar = Calendar()
    count = WorkingDayCount(calendar)
    assert count.until(date(2026, 9, 30), date(2026, 10, 8)) == 1  # across National Day
    assert count.until(date(2026, 9, 30), date(2026, 9, 30)) == 0
    assert count.until(date(2026, 10, 8), date(2026, 9, 30)) == -1
    count.until(date(2026, 9, 30), date(2023, 1, 3))
    # Only the days some source names were looked at: about a hundred over four years, not 1,400.
    assert len(calendar._kinds) < 200
