"""The working-day calendar of a region, as every deadline in Collab computes it.

``calendar_for(region)`` builds a ``collab.lib.workdays.Calendar`` from the region's holiday
calendar, time zone and working hours plus the company's overrides, and the helpers below say in
the reader's language what kind of day a date is. No cache: one query per call, so an override
an admin just saved counts at once.
"""

from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

from django.conf import settings
from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Q, QuerySet, Value
from django.utils import translation
from django.utils.dates import WEEKDAYS
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collab.lib.workdays import (
    CHINA,
    COMPANY_DAY_OFF,
    DEFAULT_PERIODS,
    MONDAY_TO_FRIDAY,
    NOTICE,
    OFFICIAL,
    STATUTORY,
    WEEKEND,
    Calendar,
    DayKind,
    NoticeDay,
    Notices,
    Override,
    Period,
    parse_calendar_code,
)
from collab.org.models import CalendarOverride, HolidayNoticeDay, Region, work_week_days

# Translated names of the holiday keys of collab.lib.workdays. The msgids are those of
# tasks_app.rules.holiday_name, so both read the same in Chinese.
HOLIDAY_NAMES: dict[str, Promise] = {
    WEEKEND: gettext_lazy("weekend"),
    COMPANY_DAY_OFF: gettext_lazy("company day off"),
    "new_years_day": gettext_lazy("New Year's Day"),
    "spring_festival": gettext_lazy("Spring Festival"),
    "tomb_sweeping_day": gettext_lazy("Qingming Festival"),
    "labour_day": gettext_lazy("Labour Day"),
    "dragon_boat_festival": gettext_lazy("Dragon Boat Festival"),
    "mid_autumn_festival": gettext_lazy("Mid-Autumn Festival"),
    "national_day": gettext_lazy("National Day"),
}

# Django's language codes to the ``holidays`` package's, for the names of other countries' holidays.
_HOLIDAYS_LANGUAGES = {"zh-hans": "zh_CN", "zh-hant": "zh_TW", "en": "en_US"}


def working_periods(region: Region | None) -> tuple[Period, ...]:
    """The region's working hours as periods: morning and afternoon around the lunch break."""
    if region is None:
        return DEFAULT_PERIODS
    return ((region.workday_start, region.lunch_start), (region.lunch_end, region.workday_end))


# Rows of the one query of calendar_for: overrides and imported notice days side by side.
_OVERRIDE, _NOTICE_DAY = 0, 1


def calendar_for(region: Region | None) -> Calendar:
    """The working-day calendar of ``region``; None is the company default (China, TIME_ZONE).

    Overrides: the company-wide ones plus the region's own, which win on the same date. For a
    region on China's calendar, the days of the imported State Council notices too. One query
    (a UNION of both tables); the holiday data itself is cached for the process.
    """
    return RegionCalendars(region, all_regions=False).for_region(region)


# The one query of calendar_for compiled once per database connection and kind of calendar (all
# regions; the company default; a region with or without China's notices): building and
# compiling the UNION each request cost a millisecond for a query of a few rows. Compiled for a
# stand-in region id no row has; the real id is put in its place.
_STAND_IN_REGION = 2_147_480_519
_COMPILED: "WeakKeyDictionary[BaseDatabaseWrapper, dict[tuple[bool, bool, bool], _Compiled]]" = (
    WeakKeyDictionary()
)


class _Compiled(NamedTuple):
    compiler: Any
    sql: str
    params: tuple[Any, ...]
    slots: tuple[int, ...]  # where the region's id goes among the parameters


def _rows_query(region: Region | None, *, all_regions: bool, notices: bool) -> QuerySet[Any]:
    wanted = Q()
    if not all_regions:
        wanted = Q(region=None) if region is None else Q(region=None) | Q(region=region)
    # Both models have a default ordering, which a compound statement does not allow.
    rows = (
        CalendarOverride.objects.filter(wanted)
        .order_by()
        .values_list(Value(_OVERRIDE), "region_id", "date", "is_workday", "note")
    )
    if notices:
        notice_days = HolidayNoticeDay.objects.order_by().values_list(
            Value(_NOTICE_DAY), "notice__year", "date", "is_workday", "holiday"
        )
        rows = rows.union(notice_days, all=True)
    return rows


def _compiled(connection: BaseDatabaseWrapper, shape: tuple[bool, bool, bool]) -> _Compiled:
    all_regions, regional, notices = shape
    stand_in = Region(pk=_STAND_IN_REGION) if regional else None
    compiler = _rows_query(stand_in, all_regions=all_regions, notices=notices).query.get_compiler(
        connection=connection
    )
    sql, params = compiler.as_sql()
    slots = tuple(n for n, value in enumerate(params) if type(value) is int and value == _STAND_IN_REGION)
    if str(_STAND_IN_REGION) in sql or len(slots) != int(regional):
        raise ValueError("the stand-in region is not a parameter of its own")
    return _Compiled(compiler, sql, tuple(params), slots)


def _calendar_rows(region: Region | None, *, all_regions: bool) -> Iterable[Any]:
    """The rows of overrides and notice days ``RegionCalendars`` reads: one query."""
    notices = all_regions or _is_china(region)
    shape = (all_regions, region is not None and not all_regions, notices)
    connection = connections[router.db_for_read(CalendarOverride)]
    per_connection = _COMPILED.setdefault(connection, {})
    compiled = per_connection.get(shape)
    if compiled is None:
        compiled = per_connection[shape] = _compiled(connection, shape)
    params = list(compiled.params)
    for slot in compiled.slots:
        params[slot] = region.pk if region is not None else None
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, params)
        fetched = cursor.fetchall()
    return compiled.compiler.results_iter(results=[fetched])


class RegionCalendars:
    """The working-day calendars one page needs, from one query whatever the number of regions.

    The rules of ``calendar_for`` for each region: company-wide overrides plus the region's own
    (which win on the same date), the imported notices for China, the region's work week.
    ``RegionCalendars(region, all_regions=False)`` loads only what ``region`` needs.
    """

    def __init__(self, region: Region | None = None, *, all_regions: bool = True) -> None:
        rows = _calendar_rows(region, all_regions=all_regions)
        self._company: dict[date, Override] = {}
        self._regional: dict[int, dict[date, Override]] = {}
        self._notices: dict[int, dict[date, NoticeDay]] = {}
        for source, owner, day, is_workday, text in rows:
            if source == _NOTICE_DAY:
                self._notices.setdefault(owner, {})[day] = NoticeDay(is_workday, text)
            elif owner is None:
                self._company[day] = Override(is_workday, text)
            else:
                self._regional.setdefault(owner, {})[day] = Override(is_workday, text)
        self._built: dict[int | None, Calendar] = {}

    def for_region(self, region: Region | None) -> Calendar:
        key = region.pk if region is not None else None
        if key not in self._built:
            regional = self._regional.get(key, {}) if key is not None else {}
            self._built[key] = _calendar(region, {**self._company, **regional}, self._notices)
        return self._built[key]

    def for_user(self, user: Any) -> Calendar:
        person = getattr(user, "person", None)
        return self.for_region(person.region if person is not None else None)


def calendar_of(user: Any) -> Calendar:
    """The calendar of a person's region (the company default for someone without one)."""
    person = getattr(user, "person", None) if user is not None else None
    return calendar_for(person.region if person is not None else None)


def official_calendar_for(region: Region | None) -> Calendar:
    """The region's calendar without the company's overrides: what the law and the notices say.

    No query unless a year without published data is looked at (then one, for the notices).
    """

    def notices() -> dict[int, dict[date, NoticeDay]]:
        loaded: dict[int, dict[date, NoticeDay]] = {}
        for year, day, is_workday, holiday in HolidayNoticeDay.objects.values_list(
            "notice__year", "date", "is_workday", "holiday"
        ):
            loaded.setdefault(year, {})[day] = NoticeDay(is_workday, holiday)
        return loaded

    return _calendar(region, {}, notices)


def _is_china(region: Region | None) -> bool:
    return region is None or parse_calendar_code(region.holiday_calendar) == (CHINA, None)


def _calendar(
    region: Region | None, overrides: dict[date, Override], notices: Notices | Callable[[], Notices]
) -> Calendar:
    return Calendar(
        country=region.holiday_calendar if region is not None else CHINA,
        timezone=region.timezone if region is not None else settings.TIME_ZONE,
        periods=working_periods(region),
        overrides=overrides,
        language=_HOLIDAYS_LANGUAGES.get(translation.get_language() or settings.LANGUAGE_CODE),
        label=region.code if region is not None else "default",
        work_week=work_week_days(region.work_week) if region is not None else MONDAY_TO_FRIDAY,
        notices=notices,
    )


def year_warning(calendar: Calendar, year: int) -> str | None:
    """What a person must know about ``year`` in this calendar, or None when its schedule is known."""
    schedule = calendar.year_schedule(year)
    return None if schedule in (OFFICIAL, NOTICE) else schedule_warning(schedule, year)


def holiday_label(key: str | None, name: str | None = None) -> str:
    """The name of a holiday or day off, in the reader's language where Collab has it."""
    if name:  # another country's holiday, named by the holidays package
        return name
    label = HOLIDAY_NAMES.get(key or "")
    return str(label) if label is not None else _("public holiday")


def day_label(kind: DayKind) -> str:
    """A short label of the day: "working day", "National Day", "make-up workday for …"."""
    if kind.workday:
        if kind.is_override:
            return _("extra working day")
        if kind.makeup_for is not None:
            return _("make-up workday for %(holiday)s") % {"holiday": holiday_label(kind.makeup_for)}
        if kind.is_makeup_workday:
            return _("make-up workday")
        return _("working day")
    return holiday_label(kind.reason, kind.name)


def describe_day(kind: DayKind) -> list[str]:
    """What kind of day ``kind.day`` is and why, as whole sentences for a person to read."""
    values = {"date": f"{kind.day:%Y-%m-%d}", "weekday": WEEKDAYS[kind.day.weekday()]}
    lines: list[str] = []
    if kind.is_override:
        values["note"] = kind.override_note or _("no note")
        if kind.workday:
            lines.append(
                _("%(date)s (%(weekday)s) is a working day by a company override: %(note)s.") % values
            )
        else:
            lines.append(_("%(date)s (%(weekday)s) is a day off by a company override: %(note)s.") % values)
        if kind.official is not None:
            lines.append(
                _("Without the override: %(official)s") % {"official": describe_day(kind.official)[0]}
            )
    elif kind.workday and kind.makeup_for is not None:
        values["holiday"] = holiday_label(kind.makeup_for)
        lines.append(
            _("%(date)s (%(weekday)s) is a working day: a make-up workday for %(holiday)s.") % values
        )
    elif kind.workday and kind.is_makeup_workday:
        lines.append(_("%(date)s (%(weekday)s) is a working day: a make-up workday.") % values)
    elif kind.workday:
        lines.append(_("%(date)s (%(weekday)s) is a working day.") % values)
    elif kind.reason == WEEKEND:
        lines.append(_("%(date)s (%(weekday)s) is not a working day: weekend.") % values)
    else:
        values["holiday"] = holiday_label(kind.reason, kind.name)
        lines.append(_("%(date)s (%(weekday)s) is not a working day: public holiday, %(holiday)s.") % values)
    if not kind.known:
        lines.append(schedule_warning(kind.schedule, kind.day.year))
    return lines


def schedule_warning(schedule: str, year: int) -> str:
    """The warning for a year whose official schedule is not known in full."""
    if schedule == STATUTORY:
        return _(
            "The State Council has not published the holiday schedule of %(year)s yet: weekends and "
            "the statutory holidays of %(year)s are counted, but its make-up workdays (调休补班) are "
            "unknown until an admin imports the notice or the holiday data is updated."
        ) % {"year": year}
    return _(
        "The official holidays of %(year)s are unknown for this calendar: only the work week and "
        "company overrides are counted."
    ) % {"year": year}


def unknown_day_suffix(kind: DayKind) -> str:
    """A day's label with what is not known about it, for lists such as the overrides."""
    label = day_label(kind)
    if kind.known:
        return label
    if kind.schedule == STATUTORY:
        return _("%(label)s (make-up workdays of this year unknown)") % {"label": label}
    return _("%(label)s (holidays of this year unknown)") % {"label": label}


def working_hours_label(periods: tuple[Period, ...]) -> str:
    """Working periods as "09:00-12:00, 13:00-18:00"."""
    return ", ".join(f"{_clock(start)}-{_clock(end)}" for start, end in periods if start != end)


def working_time_label(span: timedelta) -> str:
    """A length of working time as hours and minutes: "7 h 05 min", "7小时05分"."""
    minutes = max(int(span.total_seconds() // 60), 0)
    return _("%(hours)d h %(minutes)02d min") % {"hours": minutes // 60, "minutes": minutes % 60}


def review_clock_label(calendar: Calendar, now: datetime, due: datetime) -> str:
    """The one wording of a review's working-day clock, wherever it shows (the deliverable's
    page, the boards, "my work"): the working time left on ``calendar`` until ``due``, or the
    working time it is overdue by. Working time only: a week of holidays does not count."""
    if due > now:
        return _("%(duration)s of working time left") % {
            "duration": working_time_label(calendar.working_time_between(now, due))
        }
    return _("Overdue by %(duration)s of working time") % {
        "duration": working_time_label(calendar.working_time_between(due, now))
    }


def _clock(moment: time) -> str:
    return f"{moment:%H:%M}"
