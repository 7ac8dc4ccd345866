"""A department head files a requirement in Chromium, from login to the exported register."""

from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from collab.testing import PASSWORD, Org, make_org

pytestmark = [pytest.mark.browser]


@pytest.fixture
def live_org(transactional_db: Any) -> Org:
    return make_org()


def log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(f"{base}/")


def test_a_department_head_files_a_requirement_and_exports_the_register(
    page: Any, live_server: Any, live_org: Org, tmp_path: Path
) -> None:
    base = live_server.url
    log_in(page, base, "requester")  # 张敏, head of Product
    page.get_by_role("link", name="新建需求").first.click()

    page.fill("[name=topic]", "Q3产品上线测试")
    page.select_option("[name=scenario]", "cross_department")
    page.select_option("[name=coordinator]", str(live_org.coordinator.pk))
    page.fill("[name=goal]", "尽快完成Q3新功能上线测试")
    # The advice appears while typing, before anything is submitted.
    page.locator("#wording-goal").get_by_text("“尽快”是模糊表述").wait_for()
    page.fill("[name=scope]", "核心功能模块测试")
    page.fill("[name=expected_outcome]", "功能覆盖90%的用户需求")
    page.select_option("[name=participations-0-department]", str(live_org.rnd.pk))
    page.fill("[name=participations-0-core_need]", "提供技术支持")
    page.select_option("[name=participations-1-department]", str(live_org.qa.pk))
    page.fill("[name=participations-1-core_need]", "协助设计测试用例")
    page.get_by_role("button", name="添加部门").click()
    page.select_option("[name=participations-2-department]", str(live_org.finance.pk))
    page.fill("[name=participations-2-core_need]", "审核测试预算")
    page.fill("[name=milestones-0-name]", "测试计划提交")
    page.fill("[name=milestones-0-due_date]", "2026-10-09")
    page.fill("[name=milestones-1-name]", "上线测试完成")
    page.fill("[name=milestones-1-due_date]", "2026-10-15")
    page.click("button[name=submit]")

    # Refused: the form names the vague phrase and how to fix it, and keeps what was typed.
    error = page.locator("#errors-goal")
    error.get_by_text("“尽快”是模糊表述").wait_for()
    assert "具体日期" in error.inner_text()
    assert page.input_value("[name=participations-2-core_need]") == "审核测试预算"

    page.fill("[name=goal]", "10月15日前完成Q3新功能上线测试,覆盖90%用户需求")
    page.click("button[name=submit]")
    confirmation = page.locator(".message.success")
    confirmation.wait_for()
    number = page.locator("h1 .number").inner_text()
    assert len(number) == 8 and number.isdigit()
    assert number in confirmation.inner_text()

    page.get_by_role("link", name="协作沟通记录表").first.click()
    page.fill("[name=q]", "Q3产品上线")
    row = page.locator("table.register tbody tr", has_text=number)
    row.wait_for()
    assert "研发部、测试部、财务部" in row.inner_text()

    with page.expect_download() as download_info:
        page.locator("#export-link").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    sheet = openpyxl.load_workbook(saved).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "沟通事项编号"
    [exported] = [r for r in rows[1:] if r[0] == number]
    assert exported[1] == "Q3产品上线测试"
    assert exported[2] == "产品部/张敏"
    assert exported[8].date() == date(2026, 10, 15)  # a date cell, not text
