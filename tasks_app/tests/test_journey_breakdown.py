"""The coordinator breaks an agreed item into tasks in Chromium, until execution starts.

Selectors are ids, names and links rather than words, so the journey holds in either language.
"""

from pathlib import Path
from typing import Any

import openpyxl
import pytest

from collab.testing import PASSWORD, Org, make_org
from requests_app.models import CollaborationItem, ItemStatus
from tasks_app.models import Task
from tasks_app.tests.support import consensus_item, todos

pytestmark = [pytest.mark.browser]


@pytest.fixture
def live_org(transactional_db: Any) -> Org:
    return make_org()


def test_the_coordinator_breaks_the_item_into_tasks_and_starts_execution(
    page: Any, live_server: Any, live_org: Org, tmp_path: Path
) -> None:
    org = live_org
    item = consensus_item(org)
    open_todo = todos(item)["完成功能修复"]
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "coordinator")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")

    page.goto(f"{base}/items/{item.pk}/tasks/")
    page.locator(f"a[href$='?todo={todos(item)['提交测试计划'].pk}']").click()
    # The form is prefilled from the to-do.
    assert page.input_value("[name=name]") == "提交测试计划"
    assert page.input_value("[name=owner]") == str(org.owner.pk)
    assert page.input_value("[name=deadline]") == "2026-10-05"
    # Moving the deadline onto National Day is questioned at once, before saving.
    page.fill("[name=deadline]", "2026-10-01")
    page.locator("[name=deadline]").dispatch_event("change")
    page.locator("#check-deadline li").wait_for()
    assert "2026-10-01" in page.inner_text("#check-deadline")
    page.fill("[name=deadline]", "2026-10-09")
    page.locator("[name=deadline]").dispatch_event("change")
    page.locator("#check-deadline li").wait_for(state="detached")
    page.select_option("[name=collaborators]", [str(org.collaborator.pk)])
    page.select_option("[name=receiver]", str(org.receiver.pk))
    page.fill("[name=delivery_standard]", "测试用例覆盖率≥95%")
    page.click("form.task-form button[type=submit]")

    page.wait_for_url(f"{base}/items/{item.pk}/tasks/")
    task = Task.objects.get()
    assert "提交测试计划" in page.inner_text(f"#task-{task.pk}")
    page.screenshot(path=str(tmp_path / "sheet.png"), full_page=True)

    page.fill(f"#todo-{open_todo.pk} [name=reason]", "已并入测试计划")
    page.click(f"#todo-{open_todo.pk} button[type=submit]")
    page.wait_for_url(f"{base}/items/{item.pk}/tasks/")
    page.fill(f"#departments form:has([value='{org.rnd.pk}']) [name=reason]", "只需知会,无交付")
    page.click(f"#departments form:has([value='{org.rnd.pk}']) button[type=submit]")
    page.wait_for_url(f"{base}/items/{item.pk}/tasks/")

    with page.expect_download() as download:
        page.click(f"a[href='/items/{item.pk}/tasks/export.xlsx']")
    target = tmp_path / "tasks.xlsx"
    download.value.save_as(target)
    rows = list(openpyxl.load_workbook(target).active.iter_rows(values_only=True))
    assert rows[3][1] == "提交测试计划"

    page.click(f"form[action='/items/{item.pk}/tasks/start/'] button")
    page.wait_for_url(f"{base}/items/{item.pk}/tasks/")
    assert CollaborationItem.objects.get(pk=item.pk).status == ItemStatus.EXECUTING
