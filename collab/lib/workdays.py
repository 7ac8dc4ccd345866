"""Working days and working time: China's official schedule, other countries' calendars, overrides.

Pure Python with no Django import. The State Council publishes each year's schedule in the
preceding December; the chinesecalendar package carries the published years. A Saturday can be
a workday (补班) and a Thursday a holiday, so "is it a weekday" is not the question to ask.

For a year the package does not know yet, three sources follow in order:

1. the State Council's notice of that year, when an admin imported it (``notices``);
2. the statutory holidays of 《全国年节及纪念日放假办法》 (revised 2024, in force from 2025:
   元旦 1 day, 春节 4 days from 除夕, 清明 1, 劳动节 2, 端午 1, 中秋 1, 国庆 3; a holiday on a
   weekend is made up on a working day), computed by the ``holidays`` package, lunar dates
   included. Only the make-up workdays (调休补班) stay unknown: ``known=False`` and
   ``schedule=STATUTORY`` say so, and callers warn exactly that.

``day_kind`` answers for mainland China alone. A ``Calendar`` adds what a deadline needs: a
country (China through chinesecalendar, every other country through the ``holidays`` package), a
time zone, the working hours of a day and the company's own overrides (extra days off, extra
workdays). Every deadline in Collab is computed by a ``Calendar``.
"""

import functools
import logging
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import chinese_calendar
import holidays
from chinese_calendar.constants import Holiday

logger = logging.getLogger(__name__)

WEEKEND = "weekend"
# The reason of a holiday from another country's calendar; DayKind.name says which holiday it is.
PUBLIC_HOLIDAY = "public_holiday"
# The reason of a day that a company override made a day off.
COMPANY_DAY_OFF = "company_day_off"

CHINA = "CN"

# Where a day's official status comes from (``DayKind.schedule``, ``Calendar.year_schedule``).
OFFICIAL = "official"  # a published schedule: chinesecalendar for China, the holidays package elsewhere
NOTICE = "notice"  # China: the State Council's notice of the year, imported by an admin
STATUTORY = "statutory"  # China: statutory holidays by law, make-up workdays unknown
WEEKDAYS_ONLY = "weekdays"  # no holiday data at all: only the work week counts

MONDAY_TO_FRIDAY = frozenset(range(5))

# The statutory holidays as the holidays package names them in English, to our stable keys;
# " (observed)" marks the working day that makes up for a holiday on a weekend.
_STATUTORY_KEYS = {
    "New Year's Day": "new_years_day",
    "Chinese New Year's Eve": "spring_festival",
    "Chinese New Year (Spring Festival)": "spring_festival",
    "Tomb-Sweeping Day": "tomb_sweeping_day",
    "Labor Day": "labour_day",
    "Dragon Boat Festival": "dragon_boat_festival",
    "Mid-Autumn Festival": "mid_autumn_festival",
    "National Day": "national_day",
}

# chinese_calendar names a holiday by its English name ("National Day"); callers want a stable
# key ("national_day") to translate.
_HOLIDAY_KEYS = {holiday.value: holiday.name for holiday in Holiday}

# A calendar without a single working day in ten years is misconfigured (say, overrides that
# turn every day off); the day walks stop there instead of looping for ever.
_MAX_IDLE_DAYS = 3660


@dataclass(frozen=True)
class DayKind:
    day: date
    workday: bool
    # Why a day off is off: WEEKEND, a holiday key such as "national_day", PUBLIC_HOLIDAY (another
    # country's holiday, named in ``name``) or COMPANY_DAY_OFF; None on a workday.
    reason: str | None = None
    # On a make-up workday (a Saturday or Sunday worked in exchange), the holiday it pays for.
    makeup_for: str | None = None
    # False when the year's official schedule is not available: make-up workdays (and, without
    # statutory data, holidays too) could not be checked.
    known: bool = True
    # The holiday's name as the data source spells it, for holidays without a key (other countries).
    name: str | None = None
    # Set when a company override decided the day: the admin's note ("" when none was written).
    override_note: str | None = None
    # What the official calendar says about the day when an override changed it.
    official: "DayKind | None" = None
    # Where the official status comes from: OFFICIAL, NOTICE, STATUTORY or WEEKDAYS_ONLY.
    schedule: str = OFFICIAL
    # A day outside the work week that the official schedule makes a working day (调休补班).
    makeup: bool = False

    @property
    def is_makeup_workday(self) -> bool:
        return self.workday and self.makeup and self.override_note is None

    @property
    def is_holiday(self) -> bool:
        return self.reason is not None and self.reason not in (WEEKEND, COMPANY_DAY_OFF)

    @property
    def is_override(self) -> bool:
        return self.override_note is not None


def _holiday_key(name: str | None) -> str | None:
    if name is None:
        return None
    return _HOLIDAY_KEYS.get(name, name.lower().replace(" ", "_").replace("-", "_"))


@functools.cache
def is_published(year: int) -> bool:
    """Whether chinesecalendar carries the State Council's schedule of ``year``."""
    try:
        chinese_calendar.get_holiday_detail(date(year, 7, 1))
    except NotImplementedError:
        return False
    return True


@functools.lru_cache(maxsize=4096)
def _holiday_detail(d: date) -> tuple[bool, str | None]:
    """chinesecalendar's word on ``d``, kept for the process (the package's data is fixed): the
    package checks every date against the first and last of all its holidays (30 µs a call), and
    one page asks about hundreds of days (a timeline's year, the years of My work's deadlines)."""
    return chinese_calendar.get_holiday_detail(d)


def day_kind(d: date, notice: Mapping[date, "NoticeDay"] | None = None) -> DayKind:
    """Whether ``d`` is a working day in mainland China (Monday to Friday offices) and, if not, why.

    ``notice`` is the imported State Council notice of ``d``'s year, used when chinesecalendar
    does not carry that year; without it the statutory holidays count and make-up days are unknown.
    """
    weekend = d.weekday() >= 5
    try:
        is_off, holiday_name = _holiday_detail(d)
    except NotImplementedError:  # a year outside the published schedules
        return _notice_day(d, notice) if notice is not None else statutory_day(d)
    key = _holiday_key(holiday_name)
    if not is_off:
        # The package names the holiday a make-up workday belongs to; an ordinary weekday has none.
        return DayKind(day=d, workday=True, makeup_for=key if weekend else None, makeup=weekend)
    # A holiday that falls on a weekend is reported as the holiday: it says more.
    return DayKind(day=d, workday=False, reason=key or WEEKEND)


class NoticeDay(NamedTuple):
    """One day the State Council's notice names: a holiday (调休放假) or a make-up workday (上班)."""

    is_workday: bool
    holiday: str  # the key of the holiday it belongs to, e.g. "spring_festival"


# The imported notices: by the notice's year, its days (which may reach into the year before).
Notices = Mapping[int, Mapping[date, NoticeDay]]
# What counts of the imported notices for one year (``Calendar._notice_key``): the notice of the
# year as sorted (day, NoticeDay) pairs or None, and the next year's days falling in this year.
NoticeKey = tuple[tuple[tuple[date, NoticeDay], ...] | None, tuple[tuple[date, NoticeDay], ...]] | None


def _notice_day(d: date, notice: Mapping[date, NoticeDay]) -> DayKind:
    weekend = d.weekday() >= 5
    named = notice.get(d)
    if named is None:
        return DayKind(day=d, workday=not weekend, reason=WEEKEND if weekend else None, schedule=NOTICE)
    if named.is_workday:
        return DayKind(
            day=d,
            workday=True,
            makeup_for=named.holiday if weekend else None,
            makeup=weekend,
            schedule=NOTICE,
        )
    return DayKind(day=d, workday=False, reason=named.holiday, schedule=NOTICE)


@functools.lru_cache(maxsize=128)
def statutory_holidays(year: int, *, observed: bool = True) -> dict[date, str]:
    """China's statutory holidays of ``year`` by law as {date: holiday key}, with the working days
    that make up for those falling on a weekend (the law's 补假) unless ``observed`` is False.
    The ``holidays`` package computes the lunar dates (除夕 and 春节, 清明, 端午, 中秋); days it
    adds from a published schedule ("Day off (substituted ...)") are left out: they belong to
    the notice.
    """
    calendar = holidays.country_holidays(CHINA, years=year, language="en_US")
    days: dict[date, str] = {}
    for day, names in calendar.items():
        for name in names.split("; "):
            if name.endswith(" (observed)") and not observed:
                continue
            key = _STATUTORY_KEYS.get(name.removesuffix(" (observed)"))
            if key is not None:
                days[day] = key
    return days


def statutory_day(d: date) -> DayKind:
    """A day of a year without a published schedule: weekends and statutory holidays by law."""
    key = statutory_holidays(d.year).get(d)
    if key is not None:
        return DayKind(day=d, workday=False, reason=key, known=False, schedule=STATUTORY)
    weekend = d.weekday() >= 5
    return DayKind(
        day=d, workday=not weekend, reason=WEEKEND if weekend else None, known=False, schedule=STATUTORY
    )


def is_workday(d: date) -> bool:
    return day_kind(d).workday


class Override(NamedTuple):
    """A company's decision about one date: an extra day off or an extra workday."""

    is_workday: bool
    note: str = ""


Period = tuple[time, time]
# The wall-clock time of a proposed meeting or deadline a number of days ahead: mid-morning,
# after people have read their messages.
SUGGESTED_CLOCK = time(10)
DEFAULT_PERIODS: tuple[Period, ...] = ((time(9), time(12)), (time(13), time(18)))


def parse_calendar_code(code: str) -> tuple[str, str | None]:
    """Splits a holiday calendar code such as "DE-BY" into country and subdivision."""
    country, _, subdivision = code.strip().upper().partition("-")
    return country, subdivision or None


def is_supported_calendar(code: str) -> bool:
    """Whether ``code`` ("CN", "HK", "DE-BY") names a holiday calendar Collab can read."""
    country, subdivision = parse_calendar_code(code)
    if country == CHINA and subdivision is None:
        return True
    try:
        holidays.country_holidays(country, subdiv=subdivision)
    except NotImplementedError:
        return False
    return True


@functools.cache
def _languages(country: str) -> tuple[str, ...]:
    return tuple(holidays.country_holidays(country).supported_languages)


@functools.lru_cache(maxsize=512)
def _country_holidays(country: str, subdivision: str | None, year: int, language: str | None) -> Any:
    """One year of another country's holidays, or None for a country the package does not know.

    Cached for the process: the rules of a published package version do not change while it runs.
    ``expand=False`` keeps the object read-only (a lookup of another year does not populate it),
    so threads can share it.
    """
    try:
        languages = _languages(country)
    except NotImplementedError:
        return None
    # Names in the reader's language if the package has it, else English, else the country's own.
    chosen = next((lang for lang in (language, "en_US") if lang in languages), None)
    try:
        return holidays.country_holidays(
            country, subdiv=subdivision, years=year, language=chosen, expand=False
        )
    except NotImplementedError:  # an unknown subdivision
        return None


@functools.lru_cache(maxsize=64)
def _china_named_days(year: int) -> frozenset[date]:
    """The days of ``year`` mainland China's data names: chinesecalendar's holidays and make-up
    workdays, and the statutory holidays (the law's, for a year the package does not carry)."""
    from chinese_calendar.constants import holidays as china_holidays
    from chinese_calendar.constants import workdays as china_workdays

    days = {d for d in (*china_holidays, *china_workdays) if d.year == year}
    return frozenset(days | set(statutory_holidays(year)))


# (label, country, year) already logged as unknown: once per process is enough.
_warned: set[tuple[str, str, int]] = set()


class Calendar:
    """Working days and working hours of one place: country, time zone, hours, overrides.

    - ``country`` is a holiday calendar code: "CN" (mainland China's official schedule with its
      make-up workdays, from chinesecalendar) or any code of the ``holidays`` package, with an
      optional subdivision ("HK", "DE", "DE-BY", "US-CA").
    - ``timezone`` is an IANA name; every result is an aware datetime in it.
    - ``periods`` are the working hours of a working day in local wall-clock time, in order and
      not overlapping, e.g. 09:00-12:00 and 13:00-18:00.
    - ``overrides`` maps a date to ``Override(is_workday, note)`` (or a plain ``(bool, str)``).
      An override wins over the official calendar, also in a year whose data is unknown.
    - ``language`` picks holiday names of other countries ("zh_CN", "en_US") when the package
      has them; ``label`` names the calendar (a region code) in the log.
    - ``work_week`` is the set of weekdays (0 = Monday) the offices work, Monday to Friday by
      default, whatever the holiday data counts as rest days. A day of the work week is a working
      day unless it is a holiday; a day outside it is off unless the official schedule makes it
      a make-up workday (China's 调休补班) or an override does. A make-up day inside the work week
      is an ordinary working day, never called a make-up day.
    - ``notices`` maps a year to the days of the State Council's notice an admin imported
      (or is a function returning that map, called the first time a year without published
      data is looked at: most lookups never need it)
      (China only); used for a year chinesecalendar does not carry.

    A year whose official schedule is unknown says so with ``known=False`` and a warning is
    logged once per label and year. For China a year chinesecalendar lacks still counts the
    statutory holidays of the law (``schedule=STATUTORY``): only its make-up workdays are unknown.
    Another country with no data for the year (or no data at all) falls back to the work week
    plus overrides (``schedule=WEEKDAYS_ONLY``).
    """

    def __init__(
        self,
        country: str = CHINA,
        timezone: str = "Asia/Shanghai",
        periods: tuple[Period, ...] | list[Period] = DEFAULT_PERIODS,
        overrides: Mapping[date, Override | tuple[bool, str]] | None = None,
        *,
        language: str | None = None,
        label: str = "",
        work_week: frozenset[int] | set[int] = MONDAY_TO_FRIDAY,
        notices: Notices | Callable[[], Notices] | None = None,
    ) -> None:
        self.country, self.subdivision = parse_calendar_code(country)
        self.tz = ZoneInfo(timezone)
        self.periods = _checked_periods(periods)
        self.overrides = {day: Override(*value) for day, value in (overrides or {}).items()}
        self.language = language
        self.label = label or country
        if not work_week or not set(work_week) <= set(range(7)):
            raise ValueError("A work week needs at least one weekday, each from 0 (Monday) to 6.")
        self.work_week = frozenset(work_week)
        self._notices = notices if self.is_china else None
        self._kinds: dict[date, DayKind] = {}
        self._official_years: dict[int, dict[date, DayKind]] = {}
        self._exceptions: dict[int, dict[date, int]] = {}

    def __repr__(self) -> str:
        return f"<Calendar {self.label}: {self.country} {self.tz.key}>"

    # Days

    def day_kind(self, d: date) -> DayKind:
        """Whether ``d`` is a working day here and why: holiday, weekend, make-up day, override."""
        kind = self._kinds.get(d)
        if kind is None:
            kind = self._kinds[d] = self._day_kind(d)
        return kind

    def is_working_day(self, d: date) -> bool:
        return self.day_kind(d).workday

    @property
    def notices(self) -> Notices:
        """The imported notices by year (loaded on first use when given as a function)."""
        if callable(self._notices):
            self._notices = self._notices()
        return self._notices or {}

    @property
    def is_china(self) -> bool:
        return self.country == CHINA and self.subdivision is None

    def is_year_known(self, year: int) -> bool:
        """Whether the official schedule of ``year`` is known, make-up workdays included."""
        return self.year_schedule(year) in (OFFICIAL, NOTICE)

    def year_schedule(self, year: int) -> str:
        """Where the days of ``year`` come from: OFFICIAL, NOTICE, STATUTORY or WEEKDAYS_ONLY."""
        return self._official(date(year, 7, 1)).schedule

    def _day_kind(self, d: date) -> DayKind:
        official = self._official(d)
        if not official.known:
            self._warn_unknown(official)
        override = self.overrides.get(d)
        if override is None:
            return official
        if override.is_workday:
            kind = replace(official, workday=True, reason=None, name=None, makeup_for=None, makeup=False)
        else:
            # An extra day off on a day already off keeps the official reason: it says more.
            kind = (
                official if not official.workday else replace(official, workday=False, reason=COMPANY_DAY_OFF)
            )
        return replace(kind, override_note=override.note, official=official)

    def _official(self, d: date) -> DayKind:
        """The day by the official data, then adjusted to this calendar's work week.

        Read from the whole year's days, worked out once per process for each setting of the
        calendar (country, language, work week) and each imported notice of the year: a page
        asks about hundreds of days (a timeline's year) and each answer took 5 µs to work out.
        """
        days = self._official_years.get(d.year)
        if days is None:
            days = self._official_years[d.year] = _official_year(
                self.country,
                self.subdivision,
                None if self.is_china else self.language,
                self.work_week,
                d.year,
                self._notice_key(d.year),
            )
        return days[d]

    def official_day(self, d: date) -> DayKind:
        """What the official data says about ``d`` here, without the company's overrides."""
        return self._official(d)

    def days_key(self, start: date, end: date) -> Hashable:
        """Everything that decides ``day_kind`` of the days from ``start`` to ``end``: two
        calendars with equal keys say the same of each of those days (for caches of what is
        drawn from them)."""
        return (
            self.country,
            self.subdivision,
            None if self.is_china else self.language,
            self.work_week,
            tuple(self._notice_key(year) for year in range(start.year, end.year + 1)),
            tuple(sorted((d, o) for d, o in self.overrides.items() if start <= d <= end)),
        )

    def _notice_key(self, year: int) -> NoticeKey:
        """The imported notice's days that count for ``year``: none for a published year or
        another country; else the notice of the year (None when none was imported) and the days
        of the next year's notice that fall in this year (元旦 from 31 December)."""
        if not self.is_china or is_published(year):
            return None
        notices = self.notices
        own = notices.get(year)
        spill = tuple(sorted((d, day) for d, day in notices.get(year + 1, {}).items() if d.year == year))
        return (None if own is None else tuple(sorted(own.items())), spill)

    def _warn_unknown(self, kind: DayKind) -> None:
        key = (self.label, self.country, kind.day.year)
        if key in _warned:
            return
        _warned.add(key)
        if kind.schedule == STATUTORY:
            logger.warning(
                "Working-day calendar %s (%s): the State Council's schedule of %s is not published; "
                "counting weekends, statutory holidays and company overrides; make-up workdays are unknown.",
                self.label,
                self.country,
                kind.day.year,
            )
            return
        logger.warning(
            "Working-day calendar %s (%s): the official holidays of %s are unknown; "
            "counting only the work week and company overrides.",
            self.label,
            self.country,
            kind.day.year,
        )

    # Moments

    def localize(self, moment: datetime) -> datetime:
        """``moment`` in this calendar's time zone; a naive moment is refused."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{moment!r} has no time zone; working time needs an aware moment.")
        return moment.astimezone(self.tz)

    def at(self, d: date, t: time) -> datetime:
        """The aware moment of wall-clock ``t`` on ``d`` here.

        A wall-clock time skipped by a daylight-saving change (02:30 on the last Sunday of March
        in Berlin) becomes the same instant as the time before the change would have been,
        i.e. 03:30 summer time.
        """
        return datetime.combine(d, t, tzinfo=self.tz).astimezone(UTC).astimezone(self.tz)

    def working_intervals(self, d: date) -> list[tuple[datetime, datetime]]:
        """The working periods of ``d`` as aware (start, end) moments; empty on a day off."""
        if not self.is_working_day(d):
            return []
        return [(self.at(d, start), self.at(d, end)) for start, end in self.periods]

    def is_working_time(self, moment: datetime) -> bool:
        """Whether ``moment`` falls in working hours of a working day (start included, end not)."""
        local = self.localize(moment)
        return any(start <= local < end for start, end in self.working_intervals(local.date()))

    def add_working_days(self, moment: datetime, n: int) -> datetime:
        """The moment ``n`` working days after ``moment``, at the same wall-clock time.

        1. ``moment`` is read in the calendar's time zone: its local date and wall-clock time.
        2. If that date is not a working day, the count starts from the start of the next
           working day (its first working period): Saturday 10:00 + 1 working day is Tuesday
           09:00 when Monday is a working day, and Saturday + 0 is Monday 09:00.
        3. Then the date moves to the n-th next working day, keeping the wall-clock time:
           Wednesday 2026-09-30 15:00 + 1 is Thursday 2026-10-08 15:00 (National Day lies
           between), Friday 2026-02-13 16:00 + 1 is the make-up Saturday 2026-02-14 16:00. The
           time is kept even outside working hours: Wednesday 22:00 + 1 is Thursday 22:00.
        4. A negative ``n`` mirrors this: from a day off the count starts at the end of the
           previous working day (its last working period), then moves back |n| working days.

        The result is aware in the calendar's time zone.
        """
        local = self.localize(moment)
        day, wall = local.date(), local.time()
        step = 1 if n >= 0 else -1
        if not self.is_working_day(day):
            day = self._next_working_day(day, step)
            wall = self.periods[0][0] if step > 0 else self.periods[-1][1]
        for _ in range(abs(n)):
            day = self._next_working_day(day, step)
        if day == local.date():  # no move: + 0 on a working day
            return local
        return self.at(day, wall)

    def add_working_hours(self, moment: datetime, hours: float | timedelta) -> datetime:
        """The earliest moment by which ``hours`` of working time have passed since ``moment``.

        Working time is the working periods of working days (09:00-12:00 and 13:00-18:00 by
        default): the walk skips lunch, nights and days off. Work that fills a period exactly
        ends at the period's end (Monday 10:00 + 2 hours is Monday 12:00, not 13:00). Zero hours
        is ``moment`` itself; negative hours walk back to the latest moment that leaves that
        much working time before ``moment``. The result is aware in the calendar's time zone.
        """
        remaining = hours if isinstance(hours, timedelta) else timedelta(hours=hours)
        local = self.localize(moment)
        if not remaining:
            return local
        if remaining > timedelta(0):
            for start, end in self._intervals_after(local):
                begin = max(start, local)
                if remaining <= end - begin:
                    return (begin.astimezone(UTC) + remaining).astimezone(self.tz)
                remaining -= end - begin
        else:
            remaining = -remaining
            for start, end in self._intervals_before(local):
                finish = min(end, local)
                if remaining <= finish - start:
                    return (finish.astimezone(UTC) - remaining).astimezone(self.tz)
                remaining -= finish - start
        raise AssertionError("unreachable: the interval walks end only by raising")  # pragma: no cover

    def in_working_time(self, moment: datetime, *, start: bool = False) -> datetime:
        """``moment`` when it falls in working hours of a working day, else the start of the next
        working period. The end of a period counts as inside (a deadline at 18:00 is the close of
        business, not the next morning) unless ``start``: nothing starts at 12:00 when lunch does.
        The result is aware in the calendar's time zone.
        """
        local = self.localize(moment)
        intervals = self.working_intervals(local.date())
        if any(begin <= local < end or (local == end and not start) for begin, end in intervals):
            return local
        begin, _end = next(self._intervals_after(local))
        return max(begin, local)

    def suggest(
        self,
        after: datetime,
        *,
        working_days: int = 0,
        working_hours: float = 0,
        clock: time = SUGGESTED_CLOCK,
    ) -> datetime:
        """A moment to propose to people (a meeting, a default deadline) that falls in working time.

        1. With ``working_days``: the n-th working day after ``after``'s (a day off counts from
           the next working day), at wall-clock ``clock`` (10:00 by default).
        2. Else: ``working_hours`` of working time after ``after``, rounded up to the full hour.
        3. Either is moved into working hours if it falls outside them or on the end of a period
           (a region whose day starts at 10:30, the lunch break): the next period's start.

        Monday 21:00 + 1 working day is Tuesday 10:00; Friday 17:30 + 2 working hours is Monday
        11:00 (10:30 rounded up); 30 September 2026 + 1 working day is 8 October 10:00.
        """
        local = self.localize(after)
        if working_days > 0:
            day = local.date()
            if not self.is_working_day(day):
                day = self._next_working_day(day, 1)
            for _ in range(working_days):
                day = self._next_working_day(day, 1)
            return self.in_working_time(self.at(day, clock), start=True)
        moment = self.add_working_hours(local, working_hours)
        if moment.time() != time(moment.hour):  # up to the next full hour of the local clock
            hour = self.at(moment.date(), time(moment.hour))
            moment = (hour.astimezone(UTC) + timedelta(hours=1)).astimezone(self.tz)
        return self.in_working_time(moment, start=True)

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """The working time from ``a`` to ``b``: working periods of working days, overlapped.

        Negative when ``b`` is before ``a``, like ``b - a``.
        """
        if b < a:
            return -self.working_time_between(b, a)
        start, end = self.localize(a), self.localize(b)
        total = timedelta(0)
        day = start.date()
        while day <= end.date():
            for begin, finish in self.working_intervals(day):
                # Aware datetimes subtract as instants only across time zones; UTC makes a day with
                # a daylight-saving change count its real length.
                overlap = min(finish, end).astimezone(UTC) - max(begin, start).astimezone(UTC)
                if overlap > timedelta(0):
                    total += overlap
            day += timedelta(days=1)
        return total

    def exceptions(self, year: int) -> dict[date, int]:
        """The days of ``year`` that break the work week's rule: +1 for a working day outside the
        work week (a make-up workday, an extra working day), -1 for a day off inside it (a
        holiday, a company day off). Every other day is a working day exactly when its weekday
        is in the work week, so working days over any span are counted by arithmetic: whole
        weeks times the work week, plus these (``working_days_between`` walks day by day).

        Only the days some source names can break the rule: the official data of the year
        (chinesecalendar's holidays and make-up days, the notices, the statutory holidays;
        another country's holidays and weekend workdays) and the overrides. Each is asked of
        ``day_kind``, so the rules stay in one place.
        """
        found = self._exceptions.get(year)
        if found is None:
            named = {d for d in self.overrides if d.year == year}
            if self.is_china:
                named |= _china_named_days(year)
                for notice_year in (year, year + 1):  # a notice may name days of the year before
                    named |= {d for d in self.notices.get(notice_year, {}) if d.year == year}
            else:
                official = _country_holidays(self.country, self.subdivision, year, self.language)
                if official is not None:
                    named |= {d for d in official if d.year == year}
                    named |= {d for d in getattr(official, "weekend_workdays", ()) if d.year == year}
            found = {}
            for d in sorted(named):
                change = int(self.is_working_day(d)) - int(d.weekday() in self.work_week)
                if change:
                    found[d] = change
            self._exceptions[year] = found
        return found

    # Walks

    def next_working_day(self, day: date) -> date:
        """The first working day after ``day`` (holidays, make-up workdays and overrides count)."""
        return self._next_working_day(day, 1)

    def working_day_after(self, day: date, n: int) -> date:
        """The n-th working day after ``day`` (n >= 0); + 0 is ``day`` itself when it is a working
        day, else the next one. A day off counts from the next working day, as in
        ``add_working_days``: Wednesday 2026-09-30 + 1 is Thursday 2026-10-08 (National Day lies
        between), Saturday + 1 is Tuesday when Monday is a working day."""
        if n < 0:
            raise ValueError("working_day_after counts forward; n must not be negative.")
        if not self.is_working_day(day):
            day = self._next_working_day(day, 1)
        for _ in range(n):
            day = self._next_working_day(day, 1)
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days lie after ``start`` up to and including ``end`` (0 when ``end``
        is not after ``start``): the n for which ``working_day_after(start, n)`` reaches ``end``,
        or the day before it when ``end`` is a day off. Monday to the next Monday is 5; Wednesday
        2026-09-30 to Thursday 2026-10-08 is 1."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count

    def _next_working_day(self, day: date, step: int) -> date:
        for _ in range(_MAX_IDLE_DAYS):
            day += timedelta(days=step)
            if self.is_working_day(day):
                return day
        raise ValueError(f"{self!r} has no working day within {_MAX_IDLE_DAYS} days of {day}.")

    def _intervals_after(self, local: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals that end after ``local``, in order, for as long as asked."""
        day, idle = local.date(), 0
        while idle < _MAX_IDLE_DAYS:
            found = [(start, end) for start, end in self.working_intervals(day) if end > local]
            idle = 0 if found else idle + 1
            yield from found
            day += timedelta(days=1)
        raise ValueError(f"{self!r} has no working time within {_MAX_IDLE_DAYS} days of {day}.")

    def _intervals_before(self, local: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals that start before ``local``, latest first, for as long as asked."""
        day, idle = local.date(), 0
        while idle < _MAX_IDLE_DAYS:
            found = [(start, end) for start, end in self.working_intervals(day) if start < local]
            idle = 0 if found else idle + 1
            yield from reversed(found)
            day -= timedelta(days=1)
        raise ValueError(f"{self!r} has no working time within {_MAX_IDLE_DAYS} days of {day}.")


@functools.lru_cache(maxsize=256)
def _official_year(
    country: str,
    subdivision: str | None,
    language: str | None,
    work_week: frozenset[int],
    year: int,
    notice_key: NoticeKey,
) -> dict[date, DayKind]:
    """Every day of ``year`` by the official data, adjusted to the work week (``Calendar._official``).
    Shared by every calendar of the same setting: read only."""
    first = date(year, 1, 1)
    own, spill = notice_key if notice_key is not None else (None, ())
    notice, spilled = (dict(own) if own is not None else None), dict(spill)
    days = {}
    for n in range((date(year, 12, 31) - first).days + 1):
        d = first + timedelta(days=n)
        if country == CHINA and subdivision is None:
            kind = _china_day(d, notice_key is None, notice, spilled)
        else:
            kind = _other_country_day(country, subdivision, language, d)
        days[d] = _in_work_week(kind, work_week)
    return days


def _in_work_week(kind: DayKind, work_week: frozenset[int]) -> DayKind:
    in_week = kind.day.weekday() in work_week
    if not kind.workday and kind.reason == WEEKEND and in_week:
        return replace(kind, workday=True, reason=None)  # the offices work that weekday
    if kind.workday and not kind.makeup and not in_week:
        return replace(kind, workday=False, reason=WEEKEND)  # their rest day
    if kind.makeup and in_week:
        return replace(kind, makeup=False, makeup_for=None)  # an ordinary working day here
    return kind


def _china_day(
    d: date, published: bool, notice: Mapping[date, NoticeDay] | None, spilled: Mapping[date, NoticeDay]
) -> DayKind:
    if published:
        return day_kind(d)
    # A notice can name a day of the year before (元旦 from 31 December): it counts while
    # that year is not published either.
    spill = spilled.get(d)
    if spill is not None:
        return _notice_day(d, {d: spill})
    return day_kind(d, notice)


def _other_country_day(country: str, subdivision: str | None, language: str | None, d: date) -> DayKind:
    calendar = _country_holidays(country, subdivision, d.year, language)
    known = calendar is not None and calendar.start_year <= d.year <= calendar.end_year
    weekend = d.weekday() >= 5
    if not known:
        return DayKind(
            day=d,
            workday=not weekend,
            reason=WEEKEND if weekend else None,
            known=False,
            schedule=WEEKDAYS_ONLY,
        )
    name = calendar.get(d)
    if name:
        return DayKind(day=d, workday=False, reason=PUBLIC_HOLIDAY, name=name)
    if d in calendar.weekend_workdays:
        return DayKind(day=d, workday=True, makeup=True)
    return DayKind(day=d, workday=not weekend, reason=WEEKEND if weekend else None)


def _checked_periods(periods: tuple[Period, ...] | list[Period]) -> tuple[Period, ...]:
    """Working periods without empty ones; refuses periods out of order or overlapping."""
    kept = tuple((start, end) for start, end in periods if start != end)
    if not kept:
        raise ValueError("A working day needs at least one working period.")
    previous_end: time | None = None
    for start, end in kept:
        if start > end:
            raise ValueError(f"A working period cannot end ({end}) before it starts ({start}).")
        if previous_end is not None and start < previous_end:
            raise ValueError(f"Working periods must be in order and not overlap ({start} < {previous_end}).")
        previous_end = end
    return kept
