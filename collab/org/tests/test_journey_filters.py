"""The register's department filter is the searchable picker, in Chromium on a phone: a company
with more departments than the page lists, one found by its pinyin initials and chosen with the
keyboard, the list narrowed at once, the chip removed again; a department removed at the source
is not offered."""

from typing import Any

import pytest
from playwright.sync_api import expect

from collab.org.models import Department
from collab.org.pickers import FULL_LIST
from collab.testing import PASSWORD, Org, make_item, make_org
from requests_app.services import ParticipationData

pytestmark = [pytest.mark.browser]


@pytest.fixture
def live_org(transactional_db: Any) -> Org:
    org = make_org()
    for n in range(FULL_LIST + 20):  # more departments than a page lists: the filter must search
        Department(name=f"分部{n:03d}", region=org.region).save()
    Department(name="测试中心", region=org.region, active=False).save()  # removed at the source
    return org


def test_the_register_is_filtered_with_the_department_picker_on_a_phone(
    page: Any, live_server: Any, live_org: Org
) -> None:
    org = live_org
    tested = make_item(org, topic="Q3产品上线测试")  # 研发部 and 测试部 take part
    make_item(org, topic="财务系统升级", participations=[ParticipationData(org.rnd.pk, "", "提供技术支持")])
    base = live_server.url
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "coordinator")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/register/")
    rows = page.locator("#results table.register tbody tr")
    assert rows.count() == 2

    # The page does not carry 325 departments; the filter searches them.
    assert page.locator("select[name=department] option").count() <= 2
    box = page.locator("#id_department_search")
    assert box.is_visible() and page.locator("select[name=department]").get_attribute("aria-hidden") == "true"
    box.fill("cs")
    results = page.locator("#id_department_search_results li")
    results.first.wait_for()
    assert results.all_inner_texts() == ["测试部"]  # not 测试中心, removed at the source
    page.keyboard.press("Enter")

    page.wait_for_url(f"**/register/?*department={org.qa.pk}*")
    expect(rows).to_have_count(1)
    assert tested.topic in rows.first.inner_text()
    assert page.locator(".picker-chip", has_text="测试部").count() == 1

    # Removing the chip shows every department's items again.
    page.locator(".picker-chip .picker-remove").click()
    expect(rows).to_have_count(2)
    assert page.locator(".picker-chip").count() == 0
