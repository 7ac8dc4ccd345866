"""Pickers that scale, in Chromium: a company larger than the page lists, people and departments
found by pinyin initials, several chosen without Ctrl, chips removed by keyboard."""

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from collab.org.models import Person
from collab.org.pickers import FULL_LIST
from collab.testing import PASSWORD, Org, make_org
from requests_app.models import CollaborationItem

pytestmark = [pytest.mark.browser]

SURNAMES = "赵钱孙周吴郑冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂"


@pytest.fixture
def live_org(transactional_db: Any) -> Org:
    org = make_org()
    # More people than a page lists: the pickers must search, not scroll.
    users = get_user_model().objects.bulk_create(
        get_user_model()(
            username=f"staff{n}",
            last_name=SURNAMES[n % len(SURNAMES)],
            first_name=GIVEN[(n // len(SURNAMES)) % len(GIVEN)] + GIVEN[n % len(GIVEN)],
        )
        for n in range(FULL_LIST + 20)
    )
    Person.objects.bulk_create(Person(user=user, department=org.rnd) for user in users)
    return org


def pick(page: Any, field: str, typed: str, choice: str) -> None:
    box = page.locator(f"#id_{field}_search")
    box.fill(typed)
    page.locator(f"#id_{field}_search_results li", has_text=choice).first.click()


def test_a_requirement_is_filed_with_searchable_pickers(page: Any, live_server: Any, live_org: Org) -> None:
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "requester")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/items/new/")

    # The page does not carry the whole company.
    assert page.locator("select[name=coordinator] option").count() <= 2
    page.fill("[name=topic]", "Q3产品上线测试")
    page.select_option("[name=scenario]", "cross_department")
    # 李娜 by her pinyin initials, chosen with the keyboard.
    page.locator("#id_coordinator_search").fill("ln")
    first = page.locator("#id_coordinator_search_results li").first
    first.wait_for()
    assert "李娜" in first.inner_text()  # an exact initials match comes first
    page.keyboard.press("Enter")
    assert page.locator(".picker-chip", has_text="李娜").count() == 1
    pick(page, "participations-0-department", "yfb", "研发部")
    page.fill("[name=participations-0-core_need]", "提供技术支持")
    pick(page, "participations-1-department", "csb", "测试部")
    page.fill("[name=participations-1-core_need]", "协助设计测试用例")
    page.get_by_role("button", name="添加部门").click()
    pick(page, "participations-2-department", "cw", "财务部")
    page.fill("[name=participations-2-core_need]", "审核测试预算")
    page.fill("[name=goal]", "10月15日前完成Q3新功能上线测试,覆盖90%用户需求")
    page.fill("[name=scope]", "核心功能模块测试")
    page.fill("[name=expected_outcome]", "功能覆盖90%的用户需求")
    page.fill("[name=milestones-0-name]", "测试计划提交")
    page.fill("[name=milestones-0-due_date]", "2026-10-09")
    page.fill("[name=milestones-1-name]", "上线测试完成")
    page.fill("[name=milestones-1-due_date]", "2026-10-15")
    page.click("button[name=submit]")
    page.locator(".message.success").wait_for()

    item = CollaborationItem.objects.get(topic="Q3产品上线测试")
    assert item.coordinator == live_org.coordinator
    assert [p.department.name for p in item.participations.select_related("department")] == [
        "研发部",
        "测试部",
        "财务部",
    ]

    # Several people at once, no Ctrl: each one typed and chosen; Backspace takes the last back.
    page.goto(f"{base}/items/{item.pk}/meetings/new/")
    selected = "s => Array.from(s.selectedOptions, o => o.value)"
    prefilled = page.eval_on_selector("select[name=invitees]", selected)
    pick(page, "invitees", "wf", "王芳")
    pick(page, "invitees", "wj", "吴杰")
    pick(page, "invitees", "sl", "孙磊")
    page.keyboard.press("Backspace")
    chosen = page.eval_on_selector("select[name=invitees]", selected)
    assert sorted(chosen) == sorted([*prefilled, str(live_org.qa_head.pk), str(live_org.owner.pk)])
    chips = page.locator("#id_invitees_search").locator("xpath=..").locator(".picker-chip")
    assert chips.count() == len(prefilled) + 2
