"""Reads the State Council's yearly notice of public holidays into days off and make-up workdays.

Each November or December the General Office of the State Council publishes
《国务院办公厅关于YYYY年部分节假日安排的通知》: a preamble, then one numbered line per holiday such as

    二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。
    2月14日（周六）、2月28日（周六）上班。

``parse_notice`` turns that text into ``NoticeDay`` entries by date. Pure Python, no Django: it
reads full- and half-width punctuation, "周X" and "星期X", ranges across months ("5月31日至6月2日")
and across the new year ("2022年12月31日至2023年1月2日"), single days ("1月1日放假1天，不调休",
"6月10日放假，与周末连休") and the whole text pasted as one line. What it cannot read it does
not guess: each numbered line that names no holiday Collab knows, has no date, gives a weekday
that does not match its date, or a day count that does not match its range, is returned in
``problems`` with the reason, and contributes no day.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta

from collab.lib.workdays import NoticeDay, statutory_holidays

# The holiday names of the notices, to the keys of collab.lib.workdays.
HOLIDAY_KEYS = {
    "元旦": "new_years_day",
    "春节": "spring_festival",
    "清明节": "tomb_sweeping_day",
    "清明": "tomb_sweeping_day",
    "劳动节": "labour_day",
    "端午节": "dragon_boat_festival",
    "端午": "dragon_boat_festival",
    "中秋节": "mid_autumn_festival",
    "中秋": "mid_autumn_festival",
    "国庆节": "national_day",
    "国庆": "national_day",
}

# Why a line could not be read (the caller translates them).
UNKNOWN_HOLIDAY = "unknown_holiday"
NO_DATES = "no_dates"
WRONG_WEEKDAY = "wrong_weekday"
WRONG_COUNT = "wrong_count"
NO_YEAR = "no_year"

_NUMERALS = "一二三四五六七八九十"
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}

# A numbered holiday line: "二、春节：…". Names are short; the colon ends them.
_LINE = re.compile(rf"^\s*[{_NUMERALS}]+\s*[、.]\s*(?P<names>[^:]{{1,16}}?)\s*:\s*(?P<body>.*)$")
# Where a numbered line starts inside a text pasted as one line.
_LINE_START = re.compile(rf"(?<![\n{_NUMERALS}])(?=[{_NUMERALS}]{{1,2}}\s*、\s*[^:：。]{{1,16}}[:：])")
# A date with an optional year and month (both carried over from the date before) and an
# optional note in brackets: "2022年12月31日", "2月15日（农历腊月二十八、周日）", "23日".
_DATE = re.compile(
    r"(?:(?P<year>\d{4})\s*年\s*)?(?:(?P<month>\d{1,2})\s*月\s*)?(?P<day>\d{1,2})\s*日(?:\s*\((?P<note>[^)]*)\))?"
)
_WEEKDAY = re.compile(r"(?:周|星期|礼拜)(?P<day>[一二三四五六日天])")
_FIRST, _LAST = _DATE.pattern.replace("?P<", "?P<a_"), _DATE.pattern.replace("?P<", "?P<b_")
_RANGE = re.compile(rf"(?P<first>{_FIRST})\s*(?:至|到|-|~|—|–)\s*(?P<last>{_LAST})")
_COUNT = re.compile(r"共\s*(\d+)\s*天")
_TITLE_YEAR = re.compile(r"(?:关于|现将)\s*(\d{4})\s*年")


@dataclass(frozen=True)
class Problem:
    """A numbered line that was not read, and why (one of the reason constants)."""

    line: str
    reason: str
    detail: str = ""


@dataclass
class Notice:
    year: int | None
    days: dict[date, NoticeDay] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    # The holidays read, in the notice's order, by key: what the admin sees listed.
    holidays: list[str] = field(default_factory=list)
    # Statutory holidays of the year by law that the notice does not give off: a notice never
    # makes one a working day, so a line is missing (or the text is not the whole notice).
    missing: dict[date, str] = field(default_factory=dict)

    def days_in(self, year: int) -> dict[date, NoticeDay]:
        return {day: value for day, value in self.days.items() if day.year == year}


def normalise(text: str) -> str:
    """Full-width punctuation, digits and spaces to half-width; Chinese text unchanged."""
    text = unicodedata.normalize("NFKC", text)
    return text.replace("\u3000", " ")


def parse_notice(text: str, year: int | None = None) -> Notice:
    """The days off and make-up workdays of the notice ``text``.

    1. Normalise the width of punctuation and digits, and put each numbered line on its own line.
    2. The notice's year is ``year`` if given, else the one in the title or the preamble
       ("关于2026年部分节假日安排", "现将2026年元旦…").
    3. Per numbered line: the holiday named before the colon; in each sentence, the dates before
       "放假" are the days off (a range "A至B", or one day), the dates before "上班" the make-up
       workdays. Sentences without either ("鼓励…在除夕休息") are advice, not schedule.
    4. Check each date's weekday in brackets and the "共N天" count; a line that fails a check is
       a problem, and none of its days are kept.
    5. List the statutory holidays of the law the notice does not give off (``missing``).
    """
    if year is None:
        found = _TITLE_YEAR.search(normalise(text))
        year = int(found.group(1)) if found else None
    notice = Notice(year=year)
    for raw in _LINE_START.sub("\n", text).splitlines():
        match = _LINE.match(normalise(raw))
        if match is None:
            continue
        line = raw.strip()
        if year is None:
            notice.problems.append(Problem(line, NO_YEAR))
            continue
        key = _holiday_key(match.group("names"))
        if key is None:
            notice.problems.append(Problem(line, UNKNOWN_HOLIDAY, match.group("names")))
            continue
        try:
            days = _line_days(match.group("body"), year, key)
        except _Unreadable as error:
            notice.problems.append(Problem(line, error.reason, error.detail))
            continue
        notice.days.update(days)
        notice.holidays.append(key)
    if year is not None and notice.days:
        notice.missing = {
            day: key
            for day, key in statutory_holidays(year, observed=False).items()
            if not (day in notice.days and not notice.days[day].is_workday)
        }
    return notice


class _Unreadable(Exception):
    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason, self.detail = reason, detail


def _holiday_key(names: str) -> str | None:
    """The key of a line's holiday. "国庆节、中秋节" is one holiday: National Day, as the data names it."""
    keys = [HOLIDAY_KEYS.get(name.strip()) for name in re.split(r"[、,和与及]", names) if name.strip()]
    if not keys or None in keys:
        return None
    return "national_day" if "national_day" in keys else keys[0]


def _line_days(body: str, year: int, key: str) -> dict[date, NoticeDay]:
    days: dict[date, NoticeDay] = {}
    context = _Context(year)
    for sentence in re.split(r"[。;]", body):
        if "放假" in sentence:
            head = sentence.split("放假", 1)[0]
            off = _days_off(head, context)
            count = _COUNT.search(sentence)
            if count and int(count.group(1)) != len(off):
                raise _Unreadable(WRONG_COUNT, f"{count.group(1)} ≠ {len(off)}")
            days.update({day: NoticeDay(False, key) for day in off})
        elif "上班" in sentence:
            head = sentence.split("上班", 1)[0]
            worked = [context.read(found) for found in _DATE.finditer(head)]
            if not worked:
                raise _Unreadable(NO_DATES)
            days.update({day: NoticeDay(True, key) for day in worked})
    if not any(not value.is_workday for value in days.values()):
        raise _Unreadable(NO_DATES)
    return days


def _days_off(head: str, context: "_Context") -> list[date]:
    span = _RANGE.search(head)
    if span is not None:
        first = context.read_parts(span, "a_")
        last = context.read_parts(span, "b_")
        if last < first:
            raise _Unreadable(NO_DATES, f"{first:%Y-%m-%d} > {last:%Y-%m-%d}")
        return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
    single = _DATE.search(head)
    if single is None:
        raise _Unreadable(NO_DATES)
    return [context.read(single)]


class _Context:
    """Year and month carried from one date of a line to the next ("2月10日至17日")."""

    def __init__(self, year: int) -> None:
        self.year, self.month = year, 0

    def read(self, found: re.Match[str]) -> date:
        return self._date(found.group("year"), found.group("month"), found.group("day"), found.group("note"))

    def read_parts(self, found: re.Match[str], prefix: str) -> date:
        parts = [found.group(prefix + name) for name in ("year", "month", "day", "note")]
        return self._date(*parts)

    def _date(self, year: str | None, month: str | None, day: str, note: str | None) -> date:
        if year is not None:
            self.year = int(year)
        if month is not None:
            self.month = int(month)
        try:
            result = date(self.year, self.month, int(day))
        except ValueError as error:  # no month yet, 2月30日
            raise _Unreadable(NO_DATES, f"{self.month}月{day}日") from error
        weekday = _WEEKDAY.search(note or "")
        if weekday is not None and _WEEKDAYS[weekday.group("day")] != result.weekday():
            raise _Unreadable(WRONG_WEEKDAY, f"{result:%Y-%m-%d} {weekday.group(0)}")
        return result
