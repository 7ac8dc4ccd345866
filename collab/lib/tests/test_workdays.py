import logging
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from collab.lib import workdays
from collab.lib.workdays import (
    COMPANY_DAY_OFF,
    NOTICE,
    OFFICIAL,
    PUBLIC_HOLIDAY,
    STATUTORY,
    WEEKDAYS_ONLY,
    WEEKEND,
    Calendar,
    DayKind,
    NoticeDay,
    Override,
    day_kind,
    is_supported_calendar,
    is_workday,
)

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
]

# 2027: no published schedule yet. The statutory holidays of the law (revised 2024) count, lunar
# dates included; only make-up workdays are unknown.
STATUTORY_2027 = [
    (date(2027, 1, 1), False, "new_years_day"),  # Friday, 元旦
    (date(2027, 2, 5), False, "spring_festival"),  # Friday, 除夕
    (date(2027, 2, 6), False, "spring_festival"),  # Saturday, 正月初一
    (date(2027, 2, 8), False, "spring_festival"),  # Monday, 初三
    (date(2027, 2, 9), False, "spring_festival"),  # Tuesday, made up for 初一 on a Saturday
    (date(2027, 2, 10), False, "spring_festival"),  # Wednesday, made up for 初二 on a Sunday
    (date(2027, 2, 11), True, None),  # Thursday: the notice may add days, the law does not
    (date(2027, 4, 5), False, "tomb_sweeping_day"),  # Monday, 清明
    (date(2027, 5, 1), False, "labour_day"),
    (date(2027, 5, 2), False, "labour_day"),  # 劳动节 is 2 days since 2025
    (date(2027, 6, 9), False, "dragon_boat_festival"),  # Wednesday, 五月初五
    (date(2027, 9, 15), False, "mid_autumn_festival"),  # Wednesday, 八月十五
    (date(2027, 10, 1), False, "national_day"),
    (date(2027, 10, 3), False, "national_day"),
    (date(2027, 10, 6), True, None),  # Wednesday
    (date(2027, 10, 9), False, WEEKEND),  # a Saturday: no make-up workday is invented
]


@pytest.mark.parametrize(("day", "workday", "reason", "makeup_for", "known"), DAYS)
def test_day_kind(day: date, workday: bool, reason: str | None, makeup_for: str | None, known: bool) -> None:
    kind = day_kind(day)
    assert kind == DayKind(
        day=day, workday=workday, reason=reason, makeup_for=makeup_for, known=known, makeup=bool(makeup_for)
    )
    assert is_workday(day) is workday


@pytest.mark.parametrize(("day", "workday", "reason"), STATUTORY_2027)
def test_a_year_without_a_schedule_counts_the_statutory_holidays(
    day: date, workday: bool, reason: str | None
) -> None:
    kind = day_kind(day)
    assert (kind.workday, kind.reason, kind.known, kind.schedule) == (workday, reason, False, STATUTORY)
    assert not kind.is_makeup_workday


def test_a_make_up_saturday_is_a_make_up_workday_and_a_holiday_is_a_holiday() -> None:
    assert day_kind(date(2026, 10, 10)).is_makeup_workday
    assert not day_kind(date(2026, 10, 9)).is_makeup_workday  # an ordinary Friday
    assert day_kind(date(2026, 10, 1)).is_holiday
    assert not day_kind(date(2026, 10, 11)).is_holiday  # a plain Sunday is a weekend, not a holiday


# The Calendar: China by default, other countries, time zones, working hours and overrides.

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def cst(*args: int) -> datetime:
    """A wall-clock moment in Shanghai."""
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


def cest(*args: int) -> datetime:
    """A wall-clock moment in Berlin."""
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


CHINA_2026 = [
    # (date, workday, reason, make-up workday for)
    (date(2026, 2, 13), True, None, None),  # Friday before the Spring Festival
    (date(2026, 2, 14), True, None, "spring_festival"),  # Saturday, make-up workday
    *[(date(2026, 2, day), False, "spring_festival", None) for day in range(15, 24)],
    (date(2026, 2, 24), True, None, None),  # Tuesday, back to work
    (date(2026, 2, 28), True, None, "spring_festival"),  # Saturday, make-up workday
    (date(2026, 3, 1), False, WEEKEND, None),
    (date(2026, 9, 19), False, WEEKEND, None),  # Saturday
    (date(2026, 9, 20), True, None, "national_day"),  # Sunday, make-up workday
    (date(2026, 9, 30), True, None, None),
    *[(date(2026, 10, day), False, "national_day", None) for day in range(1, 8)],
    (date(2026, 10, 8), True, None, None),
    (date(2026, 10, 10), True, None, "national_day"),  # Saturday, make-up workday
]


@pytest.mark.parametrize(("day", "workday", "reason", "makeup_for"), CHINA_2026)
def test_the_calendar_follows_chinas_official_schedule(
    day: date, workday: bool, reason: str | None, makeup_for: str | None
) -> None:
    kind = Calendar().day_kind(day)
    assert (kind.workday, kind.reason, kind.makeup_for, kind.known) == (workday, reason, makeup_for, True)
    assert Calendar().is_working_day(day) is workday


ADD_WORKING_DAYS = [
    # (start, working days, result)
    (cst(2026, 9, 30, 15), 1, cst(2026, 10, 8, 15)),  # across National Day
    (cst(2026, 2, 13, 16), 1, cst(2026, 2, 14, 16)),  # onto the make-up Saturday
    (cst(2026, 2, 14, 16), 1, cst(2026, 2, 24, 16)),  # from the make-up Saturday across the Spring Festival
    (cst(2026, 2, 27, 10), 1, cst(2026, 2, 28, 10)),  # the second make-up Saturday
    (cst(2026, 9, 18, 10), 1, cst(2026, 9, 20, 10)),  # Friday to the make-up Sunday, Saturday is off
    (cst(2026, 9, 30, 15), 3, cst(2026, 10, 10, 15)),  # Thursday, Friday, then the make-up Saturday
    (cst(2026, 9, 30, 22), 1, cst(2026, 10, 8, 22)),  # the wall-clock time is kept, even at night
    (cst(2026, 9, 30, 15), 0, cst(2026, 9, 30, 15)),
    (cst(2026, 10, 3, 10), 0, cst(2026, 10, 8, 9)),  # from a holiday: the next working day's start
    (cst(2026, 10, 3, 10), 1, cst(2026, 10, 9, 9)),  # ... then one working day more
    (cst(2026, 10, 8, 15), -1, cst(2026, 9, 30, 15)),  # back across National Day
    (cst(2026, 10, 4, 10), -1, cst(2026, 9, 29, 18)),  # back from a holiday: from the previous day's end
    (datetime(2026, 9, 30, 7, tzinfo=UTC), 1, cst(2026, 10, 8, 15)),  # 07:00 UTC is 15:00 in Shanghai
]


@pytest.mark.parametrize(("start", "days", "result"), ADD_WORKING_DAYS)
def test_it_adds_working_days(start: datetime, days: int, result: datetime) -> None:
    moved = Calendar().add_working_days(start, days)
    assert moved == result
    assert moved.tzinfo == SHANGHAI and moved.utcoffset() == timedelta(hours=8)
    assert (moved.hour, moved.minute) == (result.hour, result.minute)  # wall-clock, not only the instant


ADD_WORKING_HOURS: list[tuple[datetime, float | timedelta, datetime]] = [
    # (start, working hours, result); 2026-09-28 is a Monday
    (cst(2026, 9, 28, 10), 2, cst(2026, 9, 28, 12)),  # a morning filled exactly ends at 12:00, not 13:00
    (cst(2026, 9, 28, 10), 3, cst(2026, 9, 28, 14)),  # across lunch
    (cst(2026, 9, 28, 12, 30), 1, cst(2026, 9, 28, 14)),  # starting at lunch
    (cst(2026, 9, 28, 11), timedelta(minutes=90), cst(2026, 9, 28, 13, 30)),
    (cst(2026, 9, 28, 9), 8, cst(2026, 9, 28, 18)),  # a full working day
    (cst(2026, 9, 28, 17), 2, cst(2026, 9, 29, 10)),  # across the night
    (cst(2026, 9, 28, 22), 1, cst(2026, 9, 29, 10)),  # from the evening
    (cst(2026, 9, 30, 17), 2, cst(2026, 10, 8, 10)),  # across National Day
    (cst(2026, 2, 13, 17), 2, cst(2026, 2, 14, 10)),  # onto the make-up Saturday
    (cst(2026, 2, 14, 17), 2, cst(2026, 2, 24, 10)),  # across the Spring Festival
    (cst(2026, 10, 3, 10), 1.5, cst(2026, 10, 8, 10, 30)),  # from a holiday
    (cst(2026, 9, 28, 22), 0, cst(2026, 9, 28, 22)),  # nothing to add, nothing moves
    (cst(2026, 10, 8, 10), -2, cst(2026, 9, 30, 17)),  # back across National Day
    (cst(2026, 9, 28, 14), -2, cst(2026, 9, 28, 11)),  # back across lunch
]


@pytest.mark.parametrize(("start", "hours", "result"), ADD_WORKING_HOURS)
def test_it_adds_working_hours(start: datetime, hours: float | timedelta, result: datetime) -> None:
    calendar = Calendar()
    moved = calendar.add_working_hours(start, hours)
    assert moved == result
    assert moved.tzinfo == SHANGHAI
    amount = hours if isinstance(hours, timedelta) else timedelta(hours=hours)
    assert calendar.working_time_between(start, moved) == amount


WORKING_TIME_BETWEEN = [
    (cst(2026, 9, 30, 15), cst(2026, 10, 8, 15), timedelta(hours=8)),  # one working day over the holiday
    (cst(2026, 9, 28, 10), cst(2026, 9, 28, 14), timedelta(hours=3)),  # lunch does not count
    (cst(2026, 9, 28, 12), cst(2026, 9, 28, 13), timedelta(0)),
    (cst(2026, 9, 28, 18), cst(2026, 9, 29, 9), timedelta(0)),  # nor the night
    (cst(2026, 10, 1), cst(2026, 10, 8), timedelta(0)),  # nor the holiday
    (cst(2026, 10, 9, 17), cst(2026, 10, 12, 10), timedelta(hours=10)),  # Fri 1 h + make-up Sat 8 h + Mon 1 h
    (cst(2026, 9, 28, 14), cst(2026, 9, 28, 10), -timedelta(hours=3)),  # backwards is negative
    (
        datetime(2026, 9, 28, 1, tzinfo=UTC),
        cst(2026, 9, 28, 10),
        timedelta(hours=1),
    ),  # 01:00 UTC is 09:00 here
]


@pytest.mark.parametrize(("start", "end", "elapsed"), WORKING_TIME_BETWEEN)
def test_it_measures_working_time_between_two_moments(
    start: datetime, end: datetime, elapsed: timedelta
) -> None:
    assert Calendar().working_time_between(start, end) == elapsed


WORKING_TIME = [
    (cst(2026, 9, 28, 9), True),  # a working period includes its start
    (cst(2026, 9, 28, 8, 59), False),
    (cst(2026, 9, 28, 11, 59), True),
    (cst(2026, 9, 28, 12), False),  # ... and excludes its end
    (cst(2026, 9, 28, 12, 59), False),
    (cst(2026, 9, 28, 13), True),
    (cst(2026, 9, 28, 18), False),
    (cst(2026, 10, 1, 10), False),  # National Day
    (cst(2026, 10, 10, 10), True),  # the make-up Saturday
    (cst(2026, 10, 11, 10), False),  # an ordinary Sunday
    (datetime(2026, 10, 10, 2, tzinfo=UTC), True),  # 10:00 in Shanghai
]


@pytest.mark.parametrize(("moment", "working"), WORKING_TIME)
def test_it_knows_working_time(moment: datetime, working: bool) -> None:
    assert Calendar().is_working_time(moment) is working


def test_the_same_instant_is_working_time_in_berlin_but_a_holiday_in_shanghai() -> None:
    shanghai, berlin = Calendar(), Calendar("DE", "Europe/Berlin")
    national_day = datetime(2026, 10, 1, 8, tzinfo=UTC)  # 16:00 in Shanghai, 10:00 in Berlin
    assert not shanghai.is_working_time(national_day)
    assert berlin.is_working_time(national_day)
    make_up_saturday = datetime(2026, 10, 10, 2, tzinfo=UTC)  # 10:00 in Shanghai, 04:00 in Berlin
    assert shanghai.is_working_time(make_up_saturday)
    assert not berlin.is_working_time(make_up_saturday)


def test_german_unity_day_is_a_holiday_in_germany_named_by_the_holidays_package() -> None:
    kind = Calendar("DE", "Europe/Berlin").day_kind(date(2026, 10, 3))
    assert (kind.workday, kind.reason, kind.name, kind.known) == (
        False,
        PUBLIC_HOLIDAY,
        "German Unity Day",
        True,
    )
    assert kind.is_holiday
    assert Calendar("DE", "Europe/Berlin", language="de").day_kind(date(2026, 10, 3)).name == (
        "Tag der Deutschen Einheit"
    )
    # Without Chinese names for Germany, English is the next best.
    assert Calendar("DE", language="zh_CN").day_kind(date(2026, 10, 3)).name == "German Unity Day"
    # In China the same day is National Day, and 10 October a make-up workday Germany does not have.
    assert Calendar().day_kind(date(2026, 10, 3)).reason == "national_day"
    assert not Calendar("DE").is_working_day(date(2026, 10, 10))


def test_results_are_in_the_calendars_time_zone() -> None:
    berlin = Calendar("DE", "Europe/Berlin")
    # Christmas Eve (Thursday) + 1 working day skips Christmas Day (Friday) and the weekend.
    assert berlin.add_working_days(cest(2026, 12, 24, 15), 1) == cest(2026, 12, 28, 15)
    # A moment handed in from Shanghai comes back in Berlin time.
    moved = berlin.add_working_days(cst(2026, 10, 2, 21), 1)  # Friday 15:00 in Berlin
    assert moved == cest(2026, 10, 5, 15) and moved.tzinfo == BERLIN
    assert moved.utcoffset() == timedelta(hours=2)


def test_a_subdivision_has_its_own_holidays() -> None:
    assert not Calendar("DE-BY", "Europe/Berlin").is_working_day(date(2026, 1, 6))  # Epiphany in Bavaria
    assert Calendar("DE", "Europe/Berlin").is_working_day(date(2026, 1, 6))


def test_working_time_counts_real_hours_across_a_daylight_saving_change() -> None:
    # A night shift on the Sunday summer time starts: 02:00-03:00 does not exist in Berlin.
    night = Calendar(
        "DE",
        "Europe/Berlin",
        periods=[(time(1), time(5))],
        overrides={date(2026, 3, 29): (True, "inventory")},
    )
    start = cest(2026, 3, 29, 1)
    assert night.working_time_between(start, cest(2026, 3, 29, 5)) == timedelta(hours=3)
    assert night.add_working_hours(start, 2) == cest(2026, 3, 29, 4)


def test_working_hours_are_configurable() -> None:
    calendar = Calendar(periods=[(time(8, 30), time(12)), (time(13, 30), time(17, 30))])
    assert calendar.add_working_hours(cst(2026, 9, 28, 11), 2) == cst(2026, 9, 28, 14, 30)
    assert calendar.working_time_between(cst(2026, 9, 28), cst(2026, 9, 29)) == timedelta(hours=7, minutes=30)
    assert calendar.add_working_days(cst(2026, 10, 3, 10), 0) == cst(2026, 10, 8, 8, 30)
    assert not calendar.is_working_time(cst(2026, 9, 28, 13))


@pytest.mark.parametrize(
    "periods",
    [
        [(time(13), time(12))],  # ends before it starts
        [(time(9), time(13)), (time(12), time(18))],  # overlapping
        [(time(13), time(18)), (time(9), time(12))],  # out of order
        [(time(9), time(9))],  # no working time
    ],
)
def test_it_refuses_impossible_working_hours(periods: list[tuple[time, time]]) -> None:
    with pytest.raises(ValueError):
        Calendar(periods=periods)


def test_it_refuses_a_moment_without_time_zone() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        Calendar().add_working_days(datetime(2026, 9, 30, 15), 1)  # noqa: DTZ001 - naive on purpose


def test_a_company_day_off_moves_deadlines() -> None:
    calendar = Calendar(overrides={date(2026, 9, 29): Override(False, "Company anniversary")})
    kind = calendar.day_kind(date(2026, 9, 29))
    assert (kind.workday, kind.reason, kind.override_note) == (False, COMPANY_DAY_OFF, "Company anniversary")
    assert kind.is_override and not kind.is_holiday
    assert kind.official == DayKind(day=date(2026, 9, 29), workday=True)
    assert calendar.add_working_days(cst(2026, 9, 28, 15), 1) == cst(2026, 9, 30, 15)
    assert calendar.working_time_between(cst(2026, 9, 28, 18), cst(2026, 9, 30, 9)) == timedelta(0)


def test_an_extra_workday_counts_as_working_time() -> None:
    calendar = Calendar(overrides={date(2026, 10, 11): (True, "Release weekend")})  # a plain tuple will do
    kind = calendar.day_kind(date(2026, 10, 11))
    assert (kind.workday, kind.override_note, kind.official) == (
        True,
        "Release weekend",
        DayKind(day=date(2026, 10, 11), workday=False, reason=WEEKEND),
    )
    assert not kind.is_makeup_workday  # not the State Council's make-up day, the company's
    assert calendar.add_working_days(cst(2026, 10, 10, 15), 1) == cst(2026, 10, 11, 15)
    assert calendar.is_working_time(cst(2026, 10, 11, 10))


def test_an_override_wins_over_a_public_holiday() -> None:
    calendar = Calendar(
        overrides={date(2026, 10, 5): Override(True, "On call"), date(2026, 10, 3): Override(False, "")}
    )
    working = calendar.day_kind(date(2026, 10, 5))
    assert working.workday and working.official is not None and working.official.reason == "national_day"
    # An extra day off on a holiday is still that holiday.
    off = calendar.day_kind(date(2026, 10, 3))
    assert (off.workday, off.reason, off.override_note) == (False, "national_day", "")


def test_a_year_without_a_schedule_counts_statutory_holidays_and_overrides() -> None:
    calendar = Calendar(overrides={date(2027, 10, 8): Override(False, "Bridge day")})
    assert not calendar.is_year_known(2027)
    assert (calendar.year_schedule(2027), calendar.year_schedule(2026)) == (STATUTORY, OFFICIAL)
    assert calendar.is_year_known(2026)
    # 2026-12-31 (Thursday) + 2 working days: 1 January 2027 is New Year's Day by law.
    assert Calendar().add_working_days(cst(2026, 12, 31, 11), 2) == cst(2027, 1, 5, 11)
    # 30 September + 1: National Day 1-3 October and the two days made up for its weekend.
    assert Calendar().add_working_days(cst(2027, 9, 30, 15), 1) == cst(2027, 10, 6, 15)
    kind = calendar.day_kind(date(2027, 10, 8))
    assert (kind.workday, kind.reason, kind.known) == (False, COMPANY_DAY_OFF, False)
    assert calendar.add_working_days(cst(2027, 10, 7, 15), 1) == cst(2027, 10, 11, 15)  # Friday off, weekend
    assert calendar.working_time_between(cst(2027, 9, 30, 18), cst(2027, 10, 6, 9)) == timedelta(0)


def test_an_imported_notice_decides_a_year_the_library_lacks() -> None:
    notice = {
        date(2027, 2, 11): NoticeDay(False, "spring_festival"),
        date(2027, 2, 20): NoticeDay(True, "spring_festival"),
    }
    calendar = Calendar(notices={2027: notice})
    assert calendar.year_schedule(2027) == NOTICE and calendar.is_year_known(2027)
    assert calendar.day_kind(date(2027, 2, 11)).reason == "spring_festival"
    saturday = calendar.day_kind(date(2027, 2, 20))
    assert saturday.is_makeup_workday and saturday.makeup_for == "spring_festival"
    # A day the notice does not name is an ordinary day: the notice lists every holiday.
    assert calendar.day_kind(date(2027, 1, 1)).workday
    # The library's data wins once a release carries the year.
    published = Calendar(notices={2026: {date(2026, 3, 3): NoticeDay(False, "spring_festival")}})
    assert published.year_schedule(2026) == OFFICIAL and published.is_working_day(date(2026, 3, 3))
    # Notices are China's: another country ignores them.
    assert Calendar("DE", notices={2027: notice}).year_schedule(2027) == OFFICIAL


def test_calendars_share_a_worked_out_year_only_when_its_sources_agree() -> None:
    """A year's official days are worked out once per process and setting: a calendar with
    another notice, work week or language still reads its own, in any order."""
    saturday, new_years_eve = date(2027, 2, 20), date(2027, 12, 31)
    makeup = {2027: {saturday: NoticeDay(True, "spring_festival")}}
    other = {2027: {date(2027, 2, 11): NoticeDay(False, "spring_festival")}}
    spill = {2028: {new_years_eve: NoticeDay(False, "new_years_day")}}
    for _ in range(2):
        assert not Calendar().is_working_day(saturday)  # statutory: make-up days unknown
        assert Calendar(notices=makeup).day_kind(saturday).is_makeup_workday
        assert not Calendar(notices=other).is_working_day(saturday)  # this notice does not name it
        assert Calendar(notices=other).day_kind(date(2027, 2, 11)).reason == "spring_festival"
        assert Calendar().is_working_day(new_years_eve)
        assert Calendar(notices=spill).day_kind(new_years_eve).reason == "new_years_day"
        assert Calendar(work_week={0, 1, 2, 3, 4, 5}).is_working_day(date(2027, 3, 6))
        assert not Calendar().is_working_day(date(2027, 3, 6))
        german = Calendar("DE", language="de").day_kind(date(2026, 12, 25)).name
        english = Calendar("DE", language="en_US").day_kind(date(2026, 12, 25)).name
        assert (german, english) == ("Erster Weihnachtstag", "Christmas Day")


def test_a_regions_work_week_decides_its_weekends_and_make_up_days() -> None:
    six_days = Calendar(work_week={0, 1, 2, 3, 4, 5})
    # A Saturday is a working day here; the State Council's make-up Saturday is nothing special.
    assert six_days.is_working_day(date(2026, 10, 17))
    makeup = six_days.day_kind(date(2026, 10, 10))
    assert makeup.workday and not makeup.is_makeup_workday and makeup.makeup_for is None
    assert not six_days.is_working_day(date(2026, 10, 3))  # National Day stays a holiday
    # A make-up Sunday still is one for an office that works Saturdays.
    assert six_days.day_kind(date(2026, 9, 20)).is_makeup_workday
    # Sunday to Thursday, in a country whose holiday package counts other rest days.
    gulf = Calendar("AE", "Asia/Dubai", work_week={6, 0, 1, 2, 3})
    assert gulf.is_working_day(date(2026, 10, 11))  # a Sunday
    assert not gulf.is_working_day(date(2026, 10, 16))  # a Friday
    four_days = Calendar("DE", work_week={0, 1, 2, 3})
    assert not four_days.is_working_day(date(2026, 10, 9))  # Friday is this office's rest day
    with pytest.raises(ValueError, match="at least one weekday"):
        Calendar(work_week=set())


def test_an_unknown_year_is_logged_once_per_calendar_and_year(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workdays, "_warned", set())
    with caplog.at_level(logging.WARNING, logger="collab.lib.workdays"):
        for _ in range(2):  # a calendar is built per request: the second must not log again
            calendar = Calendar(label="cn-east")
            calendar.add_working_days(cst(2027, 3, 1, 10), 20)
        Calendar(label="cn-north").is_working_day(date(2027, 3, 1))
        Calendar(label="cn-east").is_working_day(date(2026, 3, 2))  # a known year says nothing
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2
    assert "cn-east" in messages[0] and "2027" in messages[0]
    assert "cn-north" in messages[1]


def test_an_unknown_country_falls_back_to_weekdays() -> None:
    calendar = Calendar("XX", "UTC")
    kind = calendar.day_kind(date(2026, 10, 1))
    assert (kind.workday, kind.known, kind.schedule) == (True, False, WEEKDAYS_ONLY)
    assert not Calendar("DE").is_year_known(1985)  # before the holidays package's German data starts


@pytest.mark.parametrize(
    ("code", "supported"),
    [("CN", True), ("cn", True), ("DE-BY", True), ("HK", True), ("XX", False), ("DE-ZZ", False)],
)
def test_it_knows_which_holiday_calendars_exist(code: str, supported: bool) -> None:
    assert is_supported_calendar(code) is supported


def test_a_calendar_without_working_days_fails_loudly_instead_of_looping() -> None:
    start = date(2026, 1, 1)
    all_off = {start + timedelta(days=offset): Override(False, "closed") for offset in range(-4000, 4000)}
    calendar = Calendar(overrides=all_off)
    with pytest.raises(ValueError, match="no working"):
        calendar.add_working_days(cst(2026, 1, 1, 10), 1)
    with pytest.raises(ValueError, match="no working"):
        calendar.add_working_hours(cst(2026, 1, 1, 10), 1)


# Proposed times: inside working hours on a working day.

SUGGESTIONS = [
    # (after, working days, working hours, proposed)
    (cst(2026, 11, 30, 21), 1, 0, cst(2026, 12, 1, 10)),  # Monday night: Tuesday 10:00, not 21:00
    (cst(2026, 9, 30, 21), 1, 0, cst(2026, 10, 8, 10)),  # across National Day
    (cst(2026, 10, 9, 16), 1, 0, cst(2026, 10, 10, 10)),  # onto the make-up Saturday
    (cst(2026, 10, 11, 10), 0, 0, cst(2026, 10, 12, 9)),  # a Sunday: the next working morning
    (cst(2026, 12, 31, 11), 1, 0, cst(2027, 1, 4, 10)),  # 1 January 2027 is a holiday by law
    (cst(2026, 12, 1, 21), 0, 2, cst(2026, 12, 2, 11)),  # an emergency at night: 2 working hours
    (cst(2026, 11, 27, 17, 30), 0, 2, cst(2026, 11, 30, 11)),  # Friday evening: Monday, full hour
    (cst(2026, 12, 1, 10), 0, 2, cst(2026, 12, 1, 13)),  # 12:00 starts lunch: the afternoon
    (cst(2026, 12, 1, 10, 20), 0, 2, cst(2026, 12, 1, 14)),  # 13:20, up to the full hour
]


@pytest.mark.parametrize(("after", "days", "hours", "proposed"), SUGGESTIONS)
def test_a_suggestion_falls_in_working_time(
    after: datetime, days: int, hours: float, proposed: datetime
) -> None:
    calendar = Calendar()
    suggested = calendar.suggest(after, working_days=days, working_hours=hours)
    assert suggested == proposed
    assert calendar.is_working_time(suggested)


def test_a_suggestion_follows_the_regions_hours_and_zone() -> None:
    late_start = Calendar("DE", "Europe/Berlin", periods=[(time(10, 30), time(13)), (time(14), time(19))])
    # Tuesday 21:00 in Shanghai is 14:00 in Berlin: + 1 working day at 10:00 is before its day starts.
    suggested = late_start.suggest(cst(2026, 12, 1, 21), working_days=1)
    assert suggested == datetime(2026, 12, 2, 10, 30, tzinfo=BERLIN)


def test_in_working_time_keeps_a_moment_inside_and_moves_one_outside() -> None:
    calendar = Calendar()
    assert calendar.in_working_time(cst(2026, 12, 1, 10, 15)) == cst(2026, 12, 1, 10, 15)
    assert calendar.in_working_time(cst(2026, 12, 1, 18)) == cst(2026, 12, 1, 18)  # close of business
    assert calendar.in_working_time(cst(2026, 12, 1, 18), start=True) == cst(2026, 12, 2, 9)
    assert calendar.in_working_time(cst(2026, 12, 1, 12, 30)) == cst(2026, 12, 1, 13)
    assert calendar.in_working_time(cst(2026, 10, 1, 10)) == cst(2026, 10, 8, 9)


WORKING_DAY_AFTER = [
    # (day, n, result) in China's 2026 calendar
    (date(2026, 9, 16), 0, date(2026, 9, 16)),  # + 0 on a working day is the day itself
    (date(2026, 10, 3), 0, date(2026, 10, 8)),  # + 0 on a holiday is the next working day
    (date(2026, 9, 30), 1, date(2026, 10, 8)),  # National Day lies between
    (date(2026, 10, 9), 1, date(2026, 10, 10)),  # the make-up Saturday is a working day
    (date(2026, 10, 10), 1, date(2026, 10, 12)),  # an ordinary Sunday is not
    (date(2026, 9, 12), 1, date(2026, 9, 15)),  # Saturday + 1 is Tuesday
]


@pytest.mark.parametrize(("day", "n", "result"), WORKING_DAY_AFTER)
def test_it_finds_the_nth_working_day_after_a_date(day: date, n: int, result: date) -> None:
    assert Calendar().working_day_after(day, n) == result


WORKING_DAYS_BETWEEN = [
    (date(2026, 9, 7), date(2026, 9, 14), 5),  # Monday to the next Monday
    (date(2026, 9, 14), date(2026, 9, 21), 6),  # Sunday 20 September is a make-up workday
    (date(2026, 9, 30), date(2026, 10, 8), 1),  # across National Day
    (date(2026, 9, 30), date(2026, 10, 10), 3),  # up to the make-up Saturday
    (date(2026, 9, 16), date(2026, 9, 16), 0),
    (date(2026, 9, 16), date(2026, 9, 1), 0),  # an end before the start
]


@pytest.mark.parametrize(("start", "end", "count"), WORKING_DAYS_BETWEEN)
def test_it_counts_working_days_between_two_dates(start: date, end: date, count: int) -> None:
    calendar = Calendar()
    assert calendar.working_days_between(start, end) == count
    if count and calendar.is_working_day(end):
        assert calendar.working_day_after(start, count) == end  # the two are inverses


def test_working_day_after_refuses_to_count_back() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        Calendar().working_day_after(date(2026, 9, 16), -1)
