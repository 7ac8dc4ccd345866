"""An admin pastes the State Council's notice in Chromium, sees the year change, and confirms it."""

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from collab.audit.models import AuditEntry
from collab.org.models import HolidayNotice
from collab.org.tests.test_notice import BROKEN_2027, NOTICE_2027
from collab.testing import PASSWORD

pytestmark = [pytest.mark.browser]


def test_an_admin_imports_next_years_notice(page: Any, live_server: Any, transactional_db: Any) -> None:
    get_user_model().objects.create_superuser("boss", "boss@example.com", PASSWORD)
    base = live_server.url
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", PASSWORD)
    page.locator("[type=submit]").click()
    page.goto(f"{base}/admin/org/region/calendar/2027/")
    assert "国务院尚未发布2027年的节假日安排" in page.inner_text("#content")
    page.get_by_role("link", name="导入国务院放假通知").click()

    # A line that does not read is listed, and there is nothing to confirm yet.
    page.fill("[name=text]", BROKEN_2027)
    page.get_by_role("button", name="预览").click()
    assert "所注星期与日期不符" in page.inner_text(".wd-problems")
    assert page.locator("[name=confirm]").count() == 0

    page.fill("[name=text]", NOTICE_2027)
    page.get_by_role("button", name="预览").click()
    # 11 and 12 February off by the notice, 31 January and 20 February worked: outlined.
    for day in ("2027-01-31", "2027-02-11", "2027-02-12", "2027-02-20"):
        assert page.locator(f'td.wd-day.changed[title^="{day}"]').count() == 1
    assert page.locator('td.wd-day.changed[title^="2027-02-05"]').count() == 0  # 除夕: off by law already
    page.get_by_role("button", name="保存为2027年官方安排").click()
    page.wait_for_url(f"{base}/admin/org/region/calendar/2027/")
    assert "来自导入的国务院放假通知" in page.inner_text(".wd-years")
    assert "国务院尚未发布" not in page.inner_text("#content")
    assert HolidayNotice.objects.get().year == 2027
    assert AuditEntry.objects.filter(action="holiday_notice.confirmed").count() == 1
