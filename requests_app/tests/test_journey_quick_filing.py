"""A department head files a requirement fast in Chromium: from the scenario's template, from a
previous item, and without losing what was typed when the session expires before sending.

The number of fields a minimal valid form takes from the template is the README's: the test
reads it there, so the README cannot promise fewer than the form needs.
"""

import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.sessions.models import Session

from collab.testing import PASSWORD, Org, make_item, make_org
from requests_app.models import CollaborationItem, ItemStatus

pytestmark = [pytest.mark.browser]

README = Path(__file__).resolve().parents[2] / "README.md"

# The names of the form's fields whose value differs from what the page was rendered with: the
# fields the person touched (selects by their chosen option, boxes by their tick).
TOUCHED_FIELDS = """() => [...document.querySelector("form.requirement-form").elements]
  .filter((el) => el.name && !["hidden", "submit", "button"].includes(el.type))
  .filter((el) => el.tagName === "SELECT"
    ? [...el.options].some((o) => o.selected !== o.defaultSelected)
    : ["checkbox", "radio"].includes(el.type)
      ? el.checked !== el.defaultChecked
      : el.value !== el.defaultValue)
  .map((el) => el.name)"""


def readme_field_count() -> int:
    found = re.search(
        r"a minimal valid form takes\s+\*\*(\d+) fields\*\*", README.read_text(encoding="utf-8")
    )
    assert found, "the README's requirement-form bullet names the number of fields"
    return int(found.group(1))


@pytest.fixture
def live_org(transactional_db: Any) -> Org:
    org = make_org()
    make_item(org)  # Product's earlier cross-department item, with R&D and QA taking part
    return org


def log_in(page: Any, base: str, username: str, *, then: str = "/") -> None:
    if "/accounts/login/" not in page.url:
        page.goto(f"{base}/accounts/login/?next={then}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(f"{base}{then}")


def test_a_minimal_form_from_the_template_takes_the_readmes_number_of_fields(
    page: Any, live_server: Any, live_org: Org
) -> None:
    base = live_server.url
    log_in(page, base, "requester", then="/items/new/")
    page.click("a[data-scenario='cross_department']")
    page.wait_for_url("**/items/new/?scenario=cross_department")
    # Pre-filled: the scenario, Product as the requesting department, R&D and QA (usual for the
    # scenario), and the scenario's milestones.
    assert page.input_value("[name=scenario]") == "cross_department"
    assert page.input_value("[name=requesting_department]") == str(live_org.product.pk)
    assert page.input_value("[name=participations-0-department]") == str(live_org.rnd.pk)
    assert page.input_value("[name=participations-1-department]") == str(live_org.qa.pk)
    assert page.input_value("[name=milestones-0-name]") == "需求在共识会上确认"

    page.fill("[name=topic]", "Q4结算流程上线")
    page.fill("[name=goal]", "12月20日前上线新版结算流程")
    page.fill("[name=scope]", "结算模块的接口与页面,不含历史数据迁移")
    page.fill("[name=expected_outcome]", "结算差错率低于0.1%")
    page.fill("[name=participations-0-core_need]", "开发结算接口")
    page.fill("[name=participations-1-core_need]", "完成回归测试")
    touched = page.evaluate(TOUCHED_FIELDS)
    assert len(touched) <= readme_field_count(), touched
    page.click("button[name=submit]")
    page.locator(".message.success").wait_for()
    item = CollaborationItem.objects.get(topic="Q4结算流程上线")
    assert item.status == ItemStatus.SUBMITTED
    assert [m.name for m in item.milestones.all()] == [
        "需求在共识会上确认",
        "方案经各部门评审",
        "成果验收并签字",
    ]

    # From the previous item: its scenario, scope, departments with core needs and milestones;
    # only the topic, goal and expected outcome are left to write.
    page.goto(f"{base}/items/new/")
    page.select_option("#start-from-item", str(item.pk))
    page.locator(".start-copy button").click()
    page.wait_for_url(f"**/items/new/?from={item.pk}")
    assert page.input_value("[name=participations-1-core_need]") == "完成回归测试"
    page.fill("[name=topic]", "Q1结算流程上线")
    page.fill("[name=goal]", "3月20日前上线新版结算流程")
    page.fill("[name=expected_outcome]", "结算差错率低于0.05%")
    assert len(page.evaluate(TOUCHED_FIELDS)) == 3
    page.click("button[name=submit]")
    page.locator(".message.success").wait_for()
    copy = CollaborationItem.objects.get(topic="Q1结算流程上线")
    assert copy.status == ItemStatus.SUBMITTED and copy.number != item.number
    assert copy.scope == item.scope and copy.participations.count() == 2


def test_what_was_typed_survives_a_session_timeout_and_stays_its_writers(
    page: Any, live_server: Any, live_org: Org
) -> None:
    base = live_server.url
    log_in(page, base, "requester", then="/items/new/")
    page.click("a[data-scenario='cross_department']")
    page.fill("[name=topic]", "Q4结算流程上线")
    page.fill("[name=goal]", "12月20日前上线新版结算流程")
    page.locator("#draft-status").get_by_text("已保留您填写的内容").wait_for()  # kept while typing

    Session.objects.all().delete()  # the session expires while the form is open
    page.fill("[name=scope]", "结算模块的接口与页面")
    page.click("button[name=submit]")
    page.wait_for_url("**/accounts/login/?next=/items/new/")
    assert "登录已过期，表单没有提交" in page.inner_text(".message.warning")
    assert not CollaborationItem.objects.filter(topic="Q4结算流程上线").exists()

    # A colleague signs in at the same computer: the form is empty for them.
    log_in(page, base, "coordinator", then="/items/new/")
    assert page.input_value("[name=topic]") == ""
    assert page.locator("#draft-restored").count() == 0
    page.context.clear_cookies()

    # The writer signs in again and finds everything back, also what was typed after expiry.
    log_in(page, base, "requester", then="/items/new/")
    page.locator("#draft-restored").wait_for()
    assert page.input_value("[name=topic]") == "Q4结算流程上线"
    assert page.input_value("[name=goal]") == "12月20日前上线新版结算流程"
    assert page.input_value("[name=scope]") == "结算模块的接口与页面"
    assert page.input_value("[name=participations-0-department]") == str(live_org.rnd.pk)
    page.fill("[name=expected_outcome]", "结算差错率低于0.1%")
    page.fill("[name=participations-0-core_need]", "开发结算接口")
    page.fill("[name=participations-1-core_need]", "完成回归测试")
    page.click("button[name=submit]")
    page.locator(".message.success").wait_for()
    assert CollaborationItem.objects.get(topic="Q4结算流程上线").scope == "结算模块的接口与页面"
