"""Region calendars: overrides from the database, the admin's year view, the workdays command."""

from datetime import UTC, date, datetime, time, timedelta
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction
from django.db.models.sql.compiler import SQLCompiler
from django.test import Client
from django.urls import reverse

from collab.lib.workdays import COMPANY_DAY_OFF, DEFAULT_PERIODS, NOTICE, OFFICIAL
from collab.org.calendar import RegionCalendars, _calendar_rows, _is_china, _rows_query, calendar_for
from collab.org.models import CalendarOverride, Region
from collab.org.services import holiday_notice_confirm
from collab.testing import EXAMPLE_NOTICE_2027, Org, client_for

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def berlin(org: Org) -> Region:
    return Region.objects.create(
        code="de-berlin", name="柏林", timezone="Europe/Berlin", holiday_calendar="DE"
    )


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("workdays", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# calendar_for


def test_the_company_default_is_china_in_the_configured_time_zone(org: Org) -> None:
    calendar = calendar_for(None)
    assert (calendar.country, calendar.tz.key, calendar.periods) == (
        "CN",
        settings.TIME_ZONE,
        DEFAULT_PERIODS,
    )
    assert calendar.add_working_days(datetime(2026, 9, 30, 15, tzinfo=SHANGHAI), 1) == datetime(
        2026, 10, 8, 15, tzinfo=SHANGHAI
    )


def test_a_region_brings_its_country_time_zone_and_working_hours(org: Org, berlin: Region) -> None:
    Region.objects.filter(pk=berlin.pk).update(
        workday_start=time(8), lunch_start=time(12), lunch_end=time(12, 30), workday_end=time(16, 30)
    )
    berlin.refresh_from_db()
    calendar = calendar_for(berlin)
    assert (calendar.country, calendar.tz.key, calendar.label) == ("DE", "Europe/Berlin", "de-berlin")
    assert calendar.periods == ((time(8), time(12)), (time(12, 30), time(16, 30)))
    assert not calendar.is_working_day(date(2026, 10, 3))  # German Unity Day
    # The same instant: National Day in Shanghai, a Thursday morning in Berlin.
    moment = datetime(2026, 10, 1, 8, tzinfo=UTC)
    assert calendar.is_working_time(moment)
    assert not calendar_for(org.region).is_working_time(moment)


@pytest.mark.parametrize("hour", [9, 12, 13, 18])
def test_the_system_checks_pass_at_the_hour_of_a_default_working_time(hour: int) -> None:
    # `check --deploy` failed CI at 18:00 UTC: Django warns of a fixed time default (W161) only
    # while the clock is within ten seconds of it.
    with time_machine.travel(datetime(2026, 12, 7, hour, 0, 3, tzinfo=UTC), tick=False):
        assert Region.check() == []
    region = Region(code="x", name="x")
    assert (region.workday_start, region.lunch_start, region.lunch_end, region.workday_end) == (
        time(9),
        time(12),
        time(13),
        time(18),
    )


def test_company_overrides_apply_to_every_region_and_a_regions_own_wins(org: Org, berlin: Region) -> None:
    CalendarOverride.objects.create(date=date(2026, 9, 29), is_workday=False, note="Company anniversary")
    CalendarOverride.objects.create(region=berlin, date=date(2026, 9, 29), is_workday=True, note="Trade fair")
    CalendarOverride.objects.create(region=berlin, date=date(2026, 10, 10), is_workday=False, note="")
    shanghai = calendar_for(org.region).day_kind(date(2026, 9, 29))
    assert (shanghai.workday, shanghai.reason, shanghai.override_note) == (
        False,
        COMPANY_DAY_OFF,
        "Company anniversary",
    )
    assert calendar_for(None).day_kind(date(2026, 9, 29)).override_note == "Company anniversary"
    berlin_day = calendar_for(berlin).day_kind(date(2026, 9, 29))
    assert (berlin_day.workday, berlin_day.override_note) == (True, "Trade fair")
    # Berlin's override stays in Berlin.
    assert calendar_for(org.region).is_working_day(date(2026, 10, 10))


def test_a_changed_override_counts_at_once(org: Org) -> None:
    start = datetime(2026, 9, 28, 15, tzinfo=SHANGHAI)
    assert calendar_for(org.region).add_working_days(start, 1) == datetime(2026, 9, 29, 15, tzinfo=SHANGHAI)
    override = CalendarOverride.objects.create(region=org.region, date=date(2026, 9, 29), note="Move")
    assert calendar_for(org.region).add_working_days(start, 1) == datetime(2026, 9, 30, 15, tzinfo=SHANGHAI)
    CalendarOverride.objects.filter(pk=override.pk).delete()
    assert calendar_for(org.region).add_working_days(start, 1) == datetime(2026, 9, 29, 15, tzinfo=SHANGHAI)


def test_calendar_for_costs_one_query(org: Org, django_assert_num_queries: Any) -> None:
    CalendarOverride.objects.create(date=date(2026, 9, 29), note="Company anniversary")
    CalendarOverride.objects.create(region=org.region, date=date(2026, 9, 30), note="Offsite")
    with django_assert_num_queries(1):
        calendar = calendar_for(org.region)
    with django_assert_num_queries(0):
        assert calendar.working_time_between(
            datetime(2026, 9, 28, 18, tzinfo=SHANGHAI), datetime(2026, 10, 9, 9, tzinfo=SHANGHAI)
        ) == timedelta(hours=8)  # only 8 October remains


def test_calendar_for_compiles_its_query_once_and_reads_what_was_saved_since(
    org: Org, berlin: Region, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The query is compiled once per connection and kind of calendar; what it reads is the
    database's of the moment, the same rows as the query built afresh."""
    holiday_notice_confirm(actor=None, text=EXAMPLE_NOTICE_2027)
    CalendarOverride.objects.create(date=date(2026, 9, 29), note="Company anniversary")
    CalendarOverride.objects.create(region=org.region, date=date(2026, 9, 30), note="Offsite")
    CalendarOverride.objects.create(region=berlin, date=date(2026, 10, 1), is_workday=True, note="Fair")
    kinds: list[tuple[Region | None, bool]] = [
        (None, False),
        (org.region, False),
        (berlin, False),
        (None, True),
    ]
    for region, all_regions in kinds:  # compiled here, if not already
        assert sorted(map(tuple, _calendar_rows(region, all_regions=all_regions)), key=repr) == sorted(
            _rows_query(region, all_regions=all_regions, notices=all_regions or _is_china(region)), key=repr
        )
    compiled = 0
    as_sql = SQLCompiler.as_sql

    def counted(self: SQLCompiler, *args: Any, **kwargs: Any) -> Any:
        nonlocal compiled
        compiled += 1
        return as_sql(self, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "as_sql", counted)
    CalendarOverride.objects.create(region=org.region, date=date(2026, 10, 9), note="Stocktaking")
    compiled = 0
    shanghai = calendar_for(org.region)
    assert not shanghai.is_working_day(date(2026, 10, 9)) and not shanghai.is_working_day(date(2026, 9, 29))
    assert shanghai.year_schedule(2027) == NOTICE
    assert calendar_for(berlin).day_kind(date(2026, 10, 1)).override_note == "Fair"
    assert calendar_for(berlin).is_working_day(date(2026, 10, 9))  # Shanghai's override stays there
    assert calendar_for(None).is_working_day(date(2026, 9, 30))
    assert RegionCalendars().for_region(org.region).is_working_day(date(2026, 10, 8))
    assert compiled == 0


def test_a_date_has_at_most_one_override_per_region_and_one_company_wide(org: Org) -> None:
    CalendarOverride.objects.create(date=date(2026, 9, 29))
    CalendarOverride.objects.create(region=org.region, date=date(2026, 9, 29))
    for region in (None, org.region):
        with pytest.raises(IntegrityError), transaction.atomic():
            CalendarOverride.objects.create(region=region, date=date(2026, 9, 29), is_workday=True)


def test_the_2027_statutory_calendar_still_applies_overrides(org: Org) -> None:
    CalendarOverride.objects.create(date=date(2027, 10, 8), note="Bridge day")
    CalendarOverride.objects.create(date=date(2027, 10, 9), is_workday=True, note="Expected make-up day")
    calendar = calendar_for(org.region)
    kind = calendar.day_kind(date(2027, 10, 1))
    assert (kind.workday, kind.reason, kind.known) == (False, "national_day", False)
    assert not calendar.is_working_day(date(2027, 10, 8))
    saturday = calendar.day_kind(date(2027, 10, 9))
    assert saturday.workday and saturday.is_override and not saturday.is_makeup_workday
    assert calendar.is_working_day(date(2027, 10, 6))  # after the statutory days: a Wednesday


# The admin


def test_the_year_view_shows_holidays_make_up_days_and_overrides(admin_client: Client, org: Org) -> None:
    CalendarOverride.objects.create(region=org.region, date=date(2026, 12, 31), note="Year-end closing")
    response = admin_client.get(reverse("admin:org_region_calendar", args=[org.region.pk, 2026]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "National Day" in page and "Spring Festival" in page
    assert "make-up workday for National Day" in page  # 20 September and 10 October
    assert "09-20" in page and "10-10" in page and "10-01–10-07" in page
    assert "Year-end closing" in page and "company override" in page
    assert "has not published" not in page and "are unknown for this calendar" not in page
    october = response.context["months"][9]
    # 31 days: National Day 1-7, six weekend days, 18 working days of which one make-up Saturday.
    assert (october["holidays"], october["weekends"], october["workdays"], october["makeup_days"]) == (
        7,
        6,
        18,
        1,
    )


def test_the_year_view_names_another_countrys_holidays(admin_client: Client, berlin: Region) -> None:
    response = admin_client.get(reverse("admin:org_region_calendar", args=[berlin.pk, 2026]))
    assert response.status_code == 200
    assert "German Unity Day" in response.content.decode()


def test_the_year_view_warns_when_the_years_holidays_are_unknown(admin_client: Client, org: Org) -> None:
    response = admin_client.get(reverse("admin:org_region_calendar", args=[org.region.pk, 2027]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "The State Council has not published the holiday schedule of 2027 yet" in page
    assert "make-up workdays (调休补班) are unknown" in page
    assert "Monday" not in page.split("wd-months")[0]  # no "Monday to Friday" fallback is claimed
    january = response.context["months"][0]
    assert january["holidays"] == 1 and january["makeup_days"] == 0  # 1 January by law
    february = response.context["months"][1]
    assert february["holidays"] == 6  # 除夕 to 初三 (5-8 Feb) and the two days made up for the weekend


def test_the_company_default_calendar_has_a_year_view(admin_client: Client, org: Org) -> None:
    response = admin_client.get(reverse("admin:org_region_default_calendar", args=[2026]))
    assert response.status_code == 200
    assert "National Day" in response.content.decode()


def test_the_year_view_costs_a_bounded_number_of_queries(
    admin_client: Client, org: Org, berlin: Region, django_assert_max_num_queries: Any
) -> None:
    for day in range(1, 20):
        CalendarOverride.objects.create(region=org.region, date=date(2026, 3, day), note=f"note {day}")
    with django_assert_max_num_queries(8):
        admin_client.get(reverse("admin:org_region_calendar", args=[org.region.pk, 2026]))


@pytest.mark.parametrize("year", [1900, 3000])
def test_the_year_view_refuses_years_outside_the_data(admin_client: Client, org: Org, year: int) -> None:
    assert (
        admin_client.get(reverse("admin:org_region_calendar", args=[org.region.pk, year])).status_code == 404
    )


def test_a_missing_region_has_no_year_view(admin_client: Client, org: Org) -> None:
    assert admin_client.get(reverse("admin:org_region_calendar", args=[9999, 2026])).status_code == 404


def test_a_non_staff_user_cannot_reach_the_year_view(org: Org) -> None:
    response = client_for(org.coordinator).get(
        reverse("admin:org_region_calendar", args=[org.region.pk, 2026])
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_staff_without_permission_to_view_regions_is_refused(org: Org) -> None:
    org.coordinator.is_staff = True
    org.coordinator.save()
    client = client_for(org.coordinator)
    assert client.get(reverse("admin:org_region_calendar", args=[org.region.pk, 2026])).status_code == 403
    org.coordinator.user_permissions.add(Permission.objects.get(codename="view_region"))
    assert client.get(reverse("admin:org_region_calendar", args=[org.region.pk, 2026])).status_code == 200


@time_machine.travel(datetime(2026, 11, 24, 2, tzinfo=UTC), tick=False)
def test_the_region_page_links_the_year_views_and_warns_about_next_year(
    admin_client: Client, org: Org
) -> None:
    page = admin_client.get(reverse("admin:org_region_change", args=[org.region.pk])).content.decode()
    assert reverse("admin:org_region_calendar", args=[org.region.pk, 2026]) in page
    assert reverse("admin:org_region_calendar", args=[org.region.pk, 2027]) in page
    assert "The State Council has not published the holiday schedule of 2027 yet" in page
    assert "holiday schedule of 2026" not in page
    changelist = admin_client.get(reverse("admin:org_region_changelist")).content.decode()
    assert reverse("admin:org_region_calendar", args=[org.region.pk, 2026]) in changelist
    assert reverse("admin:org_region_default_calendar", args=[2026]) in changelist


@time_machine.travel(datetime(2025, 6, 2, 2, tzinfo=UTC), tick=False)
def test_the_region_page_has_no_warning_when_both_years_are_known(admin_client: Client, org: Org) -> None:
    page = admin_client.get(reverse("admin:org_region_change", args=[org.region.pk])).content.decode()
    assert "has not published" not in page


def test_an_admin_sets_a_regions_working_hours_and_calendar(admin_client: Client, org: Org) -> None:
    data = {
        "code": "hk",
        "name": "香港",
        "timezone": "Asia/Hong_Kong",
        "holiday_calendar": "hk",
        "workday_start": "08:30",
        "lunch_start": "12:30",
        "lunch_end": "13:30",
        "workday_end": "17:30",
        "work_week": ["1", "2", "3", "4", "5", "6"],  # these offices work Saturdays
    }
    response = admin_client.post(reverse("admin:org_region_add"), data)
    assert response.status_code == 302
    region = Region.objects.get(code="hk")
    assert (region.holiday_calendar, region.work_week) == ("HK", "123456")
    calendar = calendar_for(region)
    assert calendar.periods == ((time(8, 30), time(12, 30)), (time(13, 30), time(17, 30)))
    assert calendar.is_working_day(date(2026, 11, 28))  # a Saturday
    assert not calendar.is_working_day(date(2026, 11, 29))  # a Sunday
    page = admin_client.get(reverse("admin:org_region_change", args=[region.pk])).content.decode()
    assert page.count("checked") >= 6  # the six ticked weekdays show again


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"holiday_calendar": "XX"}, "is not a holiday calendar Collab knows"),
        ({"lunch_start": "19:00"}, "must start before the lunch break"),
        ({"lunch_start": "09:00", "lunch_end": "18:00"}, "no working time"),
        ({"work_week": []}, "This field is required"),
    ],
)
def test_an_admin_cannot_save_a_calendar_collab_cannot_use(
    admin_client: Client, org: Org, changes: dict[str, Any], message: str
) -> None:
    data = {
        "work_week": ["1", "2", "3", "4", "5"],
        "code": "x",
        "name": "X",
        "timezone": "Asia/Shanghai",
        "holiday_calendar": "CN",
        "workday_start": "09:00",
        "lunch_start": "12:00",
        "lunch_end": "13:00",
        "workday_end": "18:00",
        **changes,
    }
    response = admin_client.post(reverse("admin:org_region_add"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Region.objects.filter(code="x").exists()


def test_an_admin_adds_and_filters_overrides(admin_client: Client, org: Org) -> None:
    response = admin_client.post(
        reverse("admin:org_calendaroverride_add"),
        {"region": "", "date": "2026-12-31", "is_workday": "", "note": "Year-end closing"},
    )
    assert response.status_code == 302
    override = CalendarOverride.objects.get()
    assert (override.region, override.is_workday) == (None, False)
    CalendarOverride.objects.create(
        region=org.region, date=date(2027, 1, 2), is_workday=True, note="Stocktaking"
    )
    changelist = reverse("admin:org_calendaroverride_changelist")
    page = admin_client.get(changelist).content.decode()
    assert "Year-end closing" in page and "Stocktaking" in page and "Company-wide" in page
    page = admin_client.get(changelist, {"year": "2027"}).content.decode()
    assert "Stocktaking" in page and "Year-end closing" not in page
    page = admin_client.get(changelist, {"region__id__exact": org.region.pk}).content.decode()
    assert "Stocktaking" in page and "Year-end closing" not in page
    # 31 December off, 1 January 2027 New Year's Day by law, 2 January the extra Saturday.
    assert calendar_for(org.region).add_working_days(
        datetime(2026, 12, 30, 15, tzinfo=SHANGHAI), 1
    ) == datetime(2027, 1, 2, 15, tzinfo=SHANGHAI)


# The workdays command


def test_the_command_adds_a_working_day_across_national_day(org: Org) -> None:
    out, err = run("add", "2026-09-30T15:00", "1", "--region", "cn-east")
    assert out.strip() == "2026-10-08T15:00:00+08:00"
    assert err == ""


def test_the_command_adds_a_working_day_onto_a_make_up_saturday(org: Org) -> None:
    out, _ = run("add", "2026-02-13 16:00+08:00", "1")
    assert out.strip() == "2026-02-14T16:00:00+08:00"


def test_the_command_answers_in_the_regions_time_zone(berlin: Region) -> None:
    out, _ = run("add", "2026-10-02T07:00:00Z", "1", "--region", "de-berlin")  # 09:00 in Berlin
    assert out.strip() == "2026-10-05T09:00:00+02:00"  # German Unity Day and the weekend skipped
    out, _ = run("add", "2026-10-02T09:00", "1", "--region", "de-berlin")  # naive: Berlin's wall clock
    assert out.strip() == "2026-10-05T09:00:00+02:00"


def test_the_command_adds_working_hours(org: Org) -> None:
    out, _ = run("add", "2026-09-30T17:00", "2", "--hours", "--region", "cn-east")
    assert out.strip() == "2026-10-08T10:00:00+08:00"


def test_the_command_explains_a_make_up_workday(org: Org) -> None:
    out, _ = run("check", "2026-10-10", "--region", "cn-east", "--language", "en")
    assert out.strip() == "2026-10-10 (Saturday) is a working day: a make-up workday for National Day."


def test_the_command_explains_a_holiday_and_an_override(org: Org) -> None:
    out, _ = run("check", "2026-10-01", "--language", "en")
    assert out.strip() == "2026-10-01 (Thursday) is not a working day: public holiday, National Day."
    CalendarOverride.objects.create(
        region=org.region, date=date(2026, 10, 5), is_workday=True, note="On call"
    )
    out, _ = run("check", "2026-10-05", "--region", "cn-east", "--language", "en")
    assert out.splitlines() == [
        "2026-10-05 (Monday) is a working day by a company override: On call.",
        "Without the override: 2026-10-05 (Monday) is not a working day: public holiday, National Day.",
    ]


def test_the_command_counts_2027s_statutory_holidays_and_says_make_up_days_are_unknown(org: Org) -> None:
    out, _ = run("check", "2027-10-01", "--region", "cn-east", "--language", "en")
    lines = out.splitlines()
    assert lines[0] == "2027-10-01 (Friday) is not a working day: public holiday, National Day."
    assert "make-up workdays (调休补班) are unknown" in lines[1]
    assert "Monday" not in out and "weekday fallback" not in out
    out, err = run("add", "2026-12-31T11:00", "2", "--language", "en")
    assert out.strip() == "2027-01-05T11:00:00+08:00"  # 1 January 2027 is New Year's Day by law
    assert "The State Council has not published the holiday schedule of 2027 yet" in err
    out, _ = run("check", "2027-02-05", "--language", "zh-hans")
    assert out.splitlines()[0] == "2027-02-05（星期五）不是工作日：法定节假日，春节。"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["check", "2026-10-10", "--region", "mars"],
            "There is no region with the code mars. Known codes: cn-east.",
        ),
        (["check", "10/10/2026"], "10/10/2026 is not a date in ISO format"),
        (["add", "yesterday", "1"], "yesterday is not a moment in ISO format"),
        (["add", "2026-09-30T15:00", "one"], "one is not a whole number of working days"),
        (["add", "2026-09-30T15:00", "1.5"], "1.5 is not a whole number of working days"),
        (["add", "2026-09-30T15:00", "lots", "--hours"], "lots is not a number of working hours"),
        (["add", "9999-12-31T15:00", "1"], "beyond the year 9999"),
    ],
)
def test_the_command_explains_bad_input(org: Org, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run(*args, "--language", "en")


def test_an_admin_is_told_when_a_date_already_has_a_company_wide_override(
    admin_client: Client, org: Org
) -> None:
    CalendarOverride.objects.create(date=date(2026, 12, 31), note="Year-end closing")
    response = admin_client.post(
        reverse("admin:org_calendaroverride_add"),
        {"region": "", "date": "2026-12-31", "is_workday": "on", "note": "Changed our mind"},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert list(CalendarOverride.objects.values_list("note", flat=True)) == ["Year-end closing"]


def test_a_region_working_saturdays_never_calls_a_saturday_a_make_up_day(
    admin_client: Client, org: Org
) -> None:
    org.region.work_week = "123456"
    org.region.save()
    response = admin_client.get(reverse("admin:org_region_calendar", args=[org.region.pk, 2026]))
    october = response.context["months"][9]
    assert october["makeup_days"] == 0  # 10 October is an ordinary Saturday at work here
    assert "10-10" not in " ".join(f"{note['first']:%m-%d}" for note in october["notes"])
    september = response.context["months"][8]
    assert september["makeup_days"] == 1  # Sunday 20 September still is one
    out, _ = run("check", "2026-10-10", "--region", "cn-east", "--language", "en")
    assert out.strip() == "2026-10-10 (Saturday) is a working day."


def test_the_overrides_list_costs_a_bounded_number_of_queries(
    admin_client: Client, org: Org, django_assert_max_num_queries: Any
) -> None:
    for day in range(1, 21):
        CalendarOverride.objects.create(region=org.region, date=date(2026, 3, day), note=f"note {day}")
    with django_assert_max_num_queries(12):  # the official column looks up no notice for 2026
        page = admin_client.get(reverse("admin:org_calendaroverride_changelist")).content.decode()
    assert "note 20" in page


def test_a_page_builds_every_regions_calendar_from_one_query(
    org: Org, berlin: Region, django_assert_num_queries: Any
) -> None:
    berlin.work_week = "1234"
    berlin.save()
    holiday_notice_confirm(actor=None, text=EXAMPLE_NOTICE_2027)
    CalendarOverride.objects.create(region=org.region, date=date(2026, 12, 3), note="Stocktaking")
    with django_assert_num_queries(1):
        calendars = RegionCalendars()
    shanghai = calendars.for_region(org.region)
    assert shanghai.year_schedule(2027) == NOTICE and not shanghai.is_working_day(date(2027, 2, 11))
    assert not shanghai.is_working_day(date(2026, 12, 3))
    assert calendars.for_region(berlin).year_schedule(2027) == OFFICIAL  # the notice is China's
    assert not calendars.for_region(berlin).is_working_day(date(2026, 12, 4))  # Friday: not its week
    assert calendars.for_user(org.owner) is shanghai
