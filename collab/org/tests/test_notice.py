"""Importing the State Council's notice: the command, the admin's preview and confirmation, the audit."""

from datetime import UTC, date, datetime
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from collab.audit.models import AuditEntry
from collab.lib.workdays import NOTICE, OFFICIAL, STATUTORY
from collab.org.calendar import calendar_for
from collab.org.models import HolidayNotice, HolidayNoticeDay, Region
from collab.testing import EXAMPLE_NOTICE_2027, Org, client_for

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
REAL_2026 = Path(__file__).resolve().parents[2] / "lib" / "tests" / "notices" / "2026.txt"

NOTICE_2027 = EXAMPLE_NOTICE_2027
BROKEN_2027 = NOTICE_2027 + "三、清明节：4月5日（周二）放假，共1天。\n"  # 5 April 2027 is a Monday


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("workdays", *args, "--language", "en", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> str:
    path = tmp_path / "notice.txt"
    path.write_text(text, encoding=encoding)
    return str(path)


def test_the_command_stores_a_notice_and_deadlines_follow_it(org: Org, tmp_path: Path) -> None:
    assert calendar_for(org.region).year_schedule(2027) == STATUTORY
    out, err = run("import-notice", write(tmp_path, NOTICE_2027, "gb18030"))
    assert "2027-02-20 Saturday: make-up workday, Spring Festival" in out
    assert "2027-02-11 Thursday: day off, Spring Festival" in out
    assert "stored as that year's official schedule" in out and err == ""
    calendar = calendar_for(org.region)
    assert calendar.year_schedule(2027) == NOTICE and calendar.is_year_known(2027)
    assert not calendar.is_working_day(date(2027, 2, 11))  # 调休: by the notice, not by law
    assert calendar.day_kind(date(2027, 2, 20)).is_makeup_workday
    # Thursday 4 February + 1 working day: the holiday runs to the 12th, then the weekend.
    moment = datetime(2027, 2, 4, 15, tzinfo=SHANGHAI)
    assert calendar.add_working_days(moment, 1) == datetime(2027, 2, 15, 15, tzinfo=SHANGHAI)
    out, _err = run("check", "2027-01-31")
    assert out.strip() == "2027-01-31 (Sunday) is a working day: a make-up workday for Spring Festival."
    entry = AuditEntry.objects.get(action="holiday_notice.confirmed")
    assert entry.changes["year"] == 2027 and entry.changes["workdays"] == [
        "2027-01-31",
        "2027-02-20",
        "2027-04-25",
        "2027-09-26",
        "2027-10-09",
    ]
    assert entry.target_type == ContentType.objects.get_for_model(HolidayNotice)


def test_importing_again_replaces_the_years_days(org: Org, tmp_path: Path) -> None:
    run("import-notice", write(tmp_path, NOTICE_2027))
    run("import-notice", write(tmp_path, NOTICE_2027.replace("、2月20日（周六）", "")))
    assert HolidayNotice.objects.count() == 1
    assert not HolidayNoticeDay.objects.filter(date=date(2027, 2, 20)).exists()
    assert AuditEntry.objects.filter(action="holiday_notice.confirmed").count() == 2
    assert AuditEntry.objects.latest("pk").changes["replaced"] is True


def test_the_command_lists_unreadable_lines_and_stores_nothing(org: Org, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="1 line of the notice could not be read"):
        run("import-notice", write(tmp_path, BROKEN_2027))
    assert not HolidayNotice.objects.exists() and not AuditEntry.objects.exists()
    out, err = run("import-notice", write(tmp_path, BROKEN_2027), "--dry-run")
    assert "2027-01-01 Friday: day off, New Year's Day" in out
    assert "Not read: 三、清明节：4月5日（周二）放假，共1天。" in err
    assert not HolidayNotice.objects.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("一、元旦：1月1日放假，共1天。", "The year of the notice was not found"),
        ("国务院办公厅关于2027年部分节假日安排的通知\n节假日期间注意安全。", "No holiday line was read"),
    ],
)
def test_the_command_refuses_text_without_a_year_or_a_holiday(
    org: Org, tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        run("import-notice", write(tmp_path, text))
    assert not HolidayNotice.objects.exists()


def test_a_region_abroad_ignores_the_notice(org: Org, tmp_path: Path) -> None:
    berlin = Region.objects.create(code="de", name="Berlin", timezone="Europe/Berlin", holiday_calendar="DE")
    run("import-notice", write(tmp_path, NOTICE_2027))
    assert calendar_for(berlin).year_schedule(2027) == OFFICIAL
    assert calendar_for(berlin).is_working_day(date(2027, 2, 11))


def test_a_notice_missing_a_holiday_line_is_refused(org: Org, tmp_path: Path) -> None:
    partial = NOTICE_2027.replace("五、端午节：6月9日（周三）放假1天，不调休。\n", "")
    out, err = run("import-notice", write(tmp_path, partial), "--dry-run")
    assert "2027-06-09" not in out and "Not given off: 2027-06-09 Dragon Boat Festival" in err
    with pytest.raises(CommandError, match=r"leaves statutory holidays as working days \(2027-06-09\)"):
        run("import-notice", write(tmp_path, partial))
    assert not HolidayNotice.objects.exists()


# The admin page


def test_the_admin_previews_a_pasted_notice_then_stores_it(admin_client: Client, org: Org) -> None:
    url = reverse("admin:org_region_notice")
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"text": NOTICE_2027, "preview": "1"})
    page = response.content.decode()
    assert response.status_code == 200 and not HolidayNotice.objects.exists()
    assert "The notice of 2027 as Collab read it" in page
    february = response.context["preview"]["months"][1]
    changes = {change["day"]: (change["now"], change["then"]) for change in february["changes"]}
    assert changes[date(2027, 2, 11)] == ("working day", "Spring Festival")
    assert changes[date(2027, 2, 20)] == ("weekend", "make-up workday for Spring Festival")
    assert date(2027, 2, 5) not in changes  # 除夕 is already off by law
    assert 'name="confirm"' in page
    response = admin_client.post(url, {"text": NOTICE_2027, "confirm": "1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:org_region_default_calendar", args=[2027])
    assert HolidayNotice.objects.get().imported_by.username == "boss"  # type: ignore[union-attr]
    year_view = admin_client.get(reverse("admin:org_region_calendar", args=[org.region.pk, 2027]))
    sources = {source["year"]: source["source"] for source in year_view.context["year_sources"]}
    assert sources[2027] == NOTICE and sources[2026] == OFFICIAL
    assert "from the imported State Council notice" in year_view.content.decode()


def test_the_admin_sees_unreadable_lines_and_cannot_confirm_them(admin_client: Client, org: Org) -> None:
    url = reverse("admin:org_region_notice")
    response = admin_client.post(url, {"text": BROKEN_2027, "preview": "1"})
    page = response.content.decode()
    assert "三、清明节：4月5日（周二）放假，共1天。" in page
    assert "gives a weekday that does not match its date" in page
    assert 'name="confirm"' not in page
    response = admin_client.post(url, {"text": BROKEN_2027, "confirm": "1"})
    assert "1 line of the notice could not be read" in response.content.decode()
    partial = NOTICE_2027.replace("六、中秋节：9月15日（周三）放假1天，不调休。\n", "")
    page = admin_client.post(url, {"text": partial, "preview": "1"}).content.decode()
    assert "2027-09-15 Mid-Autumn Festival" in page and 'name="confirm"' not in page
    assert not HolidayNotice.objects.exists() and not AuditEntry.objects.exists()


def test_the_admin_uploads_a_notice_file(admin_client: Client, org: Org) -> None:
    upload = SimpleUploadedFile("2027.txt", NOTICE_2027.encode("gb18030"), content_type="text/plain")
    response = admin_client.post(reverse("admin:org_region_notice"), {"upload": upload, "confirm": "1"})
    assert response.status_code == 302
    assert HolidayNotice.objects.get().year == 2027


def test_an_empty_form_says_what_to_do(admin_client: Client, org: Org) -> None:
    response = admin_client.post(reverse("admin:org_region_notice"), {"text": "  ", "preview": "1"})
    assert "Paste the notice or choose a file." in response.content.decode()


def test_staff_without_permission_cannot_import(org: Org) -> None:
    org.coordinator.is_staff = True
    org.coordinator.save()
    client = client_for(org.coordinator)
    response = client.post(reverse("admin:org_region_notice"), {"text": NOTICE_2027, "confirm": "1"})
    assert response.status_code == 403
    assert not HolidayNotice.objects.exists()


@time_machine.travel(datetime(2026, 12, 1, 2, tzinfo=UTC), tick=False)
def test_a_notice_of_a_year_the_library_carries_is_replaced_with_a_note(
    admin_client: Client, org: Org, tmp_path: Path
) -> None:
    run("import-notice", str(REAL_2026))
    page = admin_client.get(reverse("admin:org_region_calendar", args=[org.region.pk, 2026])).content.decode()
    assert "is replaced by the holiday data now carried by Collab; both agree" in page
    altered = REAL_2026.read_text(encoding="utf-8").replace("5月9日（周六）上班。", "")
    run("import-notice", write(tmp_path, altered))
    page = admin_client.get(reverse("admin:org_region_calendar", args=[org.region.pk, 2026])).content.decode()
    assert "which disagrees on 2026-05-09" in page
    assert calendar_for(org.region).is_working_day(date(2026, 5, 9))  # the library counts
