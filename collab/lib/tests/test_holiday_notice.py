"""The State Council's notice parser, on the real texts of several years and on odd pastes."""

from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest

from collab.lib.holiday_notice import (
    NO_DATES,
    NO_YEAR,
    UNKNOWN_HOLIDAY,
    WRONG_COUNT,
    WRONG_WEEKDAY,
    parse_notice,
)
from collab.lib.workdays import NoticeDay, day_kind

NOTICES = Path(__file__).parent / "notices"

# The COVID-19 extension of the 2020 Spring Festival came by a second notice (国办发明电〔2020〕1号):
# 31 January to 2 February off, so Friday 31 January and the make-up Saturday 1 February changed
# (2 February is a Sunday either way).
EXTENSION_2020 = {date(2020, 1, 31), date(2020, 2, 1)}


def read(year: int) -> str:
    return (NOTICES / f"{year}.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("year", [2020, 2022, 2023, 2024, 2025, 2026])
def test_a_real_notice_reproduces_the_librarys_calendar_day_for_day(year: int) -> None:
    notice = parse_notice(read(year))
    assert (notice.year, notice.problems) == (year, [])
    day, differences = date(year, 1, 1), []
    while day.year == year:
        official = day_kind(day)
        named = notice.days.get(day)
        weekend = day.weekday() >= 5
        workday = named.is_workday if named is not None else not weekend
        if workday != official.workday:
            differences.append(day)
        if named is not None and official.workday == named.is_workday:
            # Each day carries the holiday the library names; in a joint "国庆节、中秋节" line
            # the library names the festival's own day Mid-Autumn Festival.
            library = official.makeup_for if named.is_workday else official.reason
            joint = named.holiday == "national_day" and library == "mid_autumn_festival"
            assert library == named.holiday or joint, day
        day += timedelta(days=1)
    assert set(differences) == (EXTENSION_2020 if year == 2020 else set())


def test_a_holiday_across_the_new_year_keeps_the_previous_years_day() -> None:
    notice = parse_notice(read(2023))
    assert notice.days[date(2022, 12, 31)] == NoticeDay(False, "new_years_day")
    assert chinese_calendar.is_holiday(date(2022, 12, 31))
    assert set(notice.days_in(2022)) == {date(2022, 12, 31)}


def test_a_notice_without_a_holiday_line_names_the_statutory_days_it_leaves_working() -> None:
    assert parse_notice(read(2026)).missing == {}
    notice = parse_notice(read(2026).replace("六、中秋节：9月25日（周五）至27日（周日）放假，共3天。", ""))
    assert notice.missing == {date(2026, 9, 25): "mid_autumn_festival"}
    assert notice.problems == []


def test_advice_is_not_schedule() -> None:
    # 2024: "鼓励各单位…安排职工在除夕（2月9日）休息" is advice; 9 February stays a working day.
    assert date(2024, 2, 9) not in parse_notice(read(2024)).days


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # full- and half-width punctuation, 星期X and 周X
        ("一、元旦：1月1日（周三）放假1天，不调休。", {date(2025, 1, 1): False}),
        ("一、元旦:1月1日(星期三)放假1天,不调休。", {date(2025, 1, 1): False}),
        (
            "五、端午节：5月31日（周六）至6月2日（周一）放假，共3天。",
            {
                date(2025, 5, 31): False,
                date(2025, 6, 1): False,
                date(2025, 6, 2): False,
            },
        ),
        ("五、端午节：6月2日放假，与周末连休。", {date(2025, 6, 2): False}),
        (
            "四、劳动节：5月1日至5日放假调休，共5天。4月27日（礼拜日）上班。",
            {
                **{date(2025, 5, day): False for day in range(1, 6)},
                date(2025, 4, 27): True,
            },
        ),
        (
            "一、元旦：2024年12月31日至2025年1月1日放假调休，共2天。",
            {
                date(2024, 12, 31): False,
                date(2025, 1, 1): False,
            },
        ),
    ],
)
def test_it_reads_each_way_a_line_is_written(line: str, expected: dict[date, bool]) -> None:
    notice = parse_notice(line, year=2025)
    assert notice.problems == []
    assert {day: value.is_workday for day, value in notice.days.items()} == expected


def test_a_notice_pasted_as_one_line_reads_the_same() -> None:
    text = read(2026)
    one_line = " ".join(line.strip() for line in text.splitlines())
    assert parse_notice(one_line).days == parse_notice(text).days


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("三、植树节：3月12日放假，共1天。", UNKNOWN_HOLIDAY),
        ("三、清明节：放假安排另行通知。", NO_DATES),
        ("三、清明节：4月4日（周一）至6日放假，共3天。", WRONG_WEEKDAY),  # 4 April 2026 is a Saturday
        ("三、清明节：4月4日至6日放假，共4天。", WRONG_COUNT),
        ("三、清明节：4月4日至6日放假，共3天。4月11日（周日）上班。", WRONG_WEEKDAY),
        ("三、清明节：2月30日放假，共1天。", NO_DATES),
    ],
)
def test_a_line_it_cannot_read_is_listed_and_contributes_nothing(line: str, reason: str) -> None:
    notice = parse_notice(
        f"国务院办公厅关于2026年部分节假日安排的通知\n{line}\n一、元旦：1月1日放假，共1天。"
    )
    assert [(problem.line, problem.reason) for problem in notice.problems] == [(line, reason)]
    assert set(notice.days) == {date(2026, 1, 1)}


def test_without_a_year_nothing_is_read() -> None:
    notice = parse_notice("一、元旦：1月1日放假，共1天。")
    assert (notice.year, notice.days, [problem.reason for problem in notice.problems]) == (
        None,
        {},
        [NO_YEAR],
    )
    assert parse_notice("一、元旦：1月1日放假，共1天。", year=2027).days == {
        date(2027, 1, 1): NoticeDay(False, "new_years_day")
    }


def test_text_that_is_no_notice_gives_no_days_and_no_problems() -> None:
    notice = parse_notice("Hello, this is not a notice.\n节假日期间，各地区要妥善安排好值班。", year=2027)
    assert (notice.days, notice.problems) == ({}, [])
