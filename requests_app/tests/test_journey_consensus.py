"""Stages 2-3 in Chromium, each person in their own browser session:

the coordinator schedules a meeting; an invitee opens the pre-read; the coordinator records
minutes with two to-dos; two department heads confirm, one after objecting; the to-dos become
tasks; "nothing left out" first refuses (a department without a task), then passes; the owner
sees the assignment.
"""

from typing import Any

import pytest

from collab.org.models import Department
from collab.testing import PASSWORD, Org, finds_handoff, handoff_gone, make_item, make_org, make_person
from requests_app.models import CollaborationItem, ItemStatus
from requests_app.rules import ParticipationData

pytestmark = [pytest.mark.browser]


class People:
    """One browser context per person, logged in once."""

    def __init__(self, chromium: Any, base: str) -> None:
        self.chromium, self.base, self.pages = chromium, base, {}

    def __getitem__(self, username: str) -> Any:
        if username not in self.pages:
            context = self.chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
            context.set_default_timeout(15_000)
            page = context.new_page()
            page.goto(f"{self.base}/accounts/login/")
            page.fill("#id_username", username)
            page.fill("#id_password", PASSWORD)
            page.get_by_role("button", name="登录", exact=True).click()
            page.wait_for_url(f"{self.base}/")
            self.pages[username] = page
        return self.pages[username]

    def close(self) -> None:
        for page in self.pages.values():
            page.context.close()


@pytest.fixture
def setting(transactional_db: Any) -> tuple[Org, Any, Department, CollaborationItem]:
    org = make_org()
    rnd_head = make_person("rnd_head", org.rnd, name="赵强")
    org.rnd.head = rnd_head
    org.rnd.save()
    ops = Department(name="运营部", region=org.region)
    ops.save()
    item = make_item(
        org,
        participations=[
            ParticipationData(org.rnd.pk, "", "提供技术支持"),
            ParticipationData(org.qa.pk, "", "协助设计测试用例"),
            ParticipationData(ops.pk, "", "提供用户场景"),
        ],
    )
    return org, rnd_head, ops, item


def test_from_meeting_to_execution(chromium: Any, live_server: Any, setting: Any) -> None:
    org, rnd_head, ops, item = setting
    people = People(chromium, live_server.url)
    base = live_server.url
    try:
        # The requester submitted the form: the coordinator is told and finds the meeting to schedule.
        coordinator = people["coordinator"]
        finds_handoff(coordinator, base, "item.submitted", item)
        # The coordinator schedules the consensus meeting; the departments are suggested.
        coordinator.goto(f"{base}/items/{item.pk}/")
        coordinator.get_by_role("link", name="安排会议").click()
        coordinator.select_option("[name=form]", "online_workshop")
        coordinator.fill("[name=location]", "https://meeting.example.com/q3")
        coordinator.get_by_role("button", name="安排会议并发送会前资料").click()
        coordinator.locator("#invitees").wait_for()
        meeting_url = coordinator.url
        handoff_gone(coordinator, base, "item.submitted", item)

        # An invitee (a QA engineer) finds the pre-read among the notifications and opens it.
        owner = people["owner"]
        finds_handoff(owner, base, "meeting.invited", item)
        owner.goto(f"{base}/notifications/")
        owner.get_by_role("button", name="请先阅读需求确认表").first.click()
        owner.wait_for_url("**/pre-read/")
        assert "协作需求确认表" in owner.inner_text("main")
        handoff_gone(owner, base, "meeting.invited", item)

        coordinator.goto(meeting_url)
        invitees = coordinator.locator("#invitees")
        assert "已于" in invitees.locator("tr", has_text="吴杰").inner_text()
        assert "尚未查阅" in invitees.locator("tr", has_text="孙磊").inner_text()

        # Minutes with two to-dos, each with one owner and a due date.
        coordinator.get_by_role("link", name="记录会议纪要").click()
        coordinator.select_option(
            "[name=attendees]", [str(u.pk) for u in (org.requester, org.coordinator, org.qa_head, rnd_head)]
        )
        coordinator.fill("[name=feasibility]", "可行")
        # The meeting was scheduled for later: minutes now need the reason it was held earlier.
        coordinator.fill("[name=early_reason]", "总监要求提前到今天上午召开")
        coordinator.fill("[name=conclusions]", "按计划10月15日完成上线测试")
        coordinator.fill("[name=todos-0-text]", "提交测试计划")
        coordinator.select_option("[name=todos-0-owner]", str(org.qa_head.pk))
        coordinator.fill("[name=todos-0-due_date]", "2026-10-09")
        coordinator.fill("[name=todos-1-text]", "完成功能修复")
        coordinator.select_option("[name=todos-1-owner]", str(org.collaborator.pk))
        coordinator.fill("[name=todos-1-due_date]", "2026-10-13")
        coordinator.get_by_role("button", name="保存会议纪要").click()
        coordinator.locator("#confirmations").wait_for()

        # The QA head confirms; the R&D head objects, then confirms after talking it through.
        qa_head = people["qa_head"]
        finds_handoff(qa_head, base, "minutes.confirmation_requested", item)
        qa_head.goto(meeting_url)
        qa_head.get_by_role("button", name="书面确认").click()
        qa_head.locator("#confirmations tr[data-department='测试部']", has_text="已确认").wait_for()
        handoff_gone(qa_head, base, "minutes.confirmation_requested", item)
        rnd = people["rnd_head"]
        finds_handoff(rnd, base, "minutes.confirmation_requested", item)
        rnd.goto(meeting_url)
        rnd.get_by_role("button", name="提出异议").click()
        assert "请说明异议理由" in rnd.inner_text(".messages")
        rnd.fill(".confirm-form textarea[name=reason]", "修复排期需要再议")
        rnd.get_by_role("button", name="提出异议").click()
        rnd.locator("#confirmations tr[data-department='研发部']", has_text="有异议").wait_for()
        assert CollaborationItem.objects.get(pk=item.pk).status == ItemStatus.SUBMITTED
        # The objection is the coordinator's to answer now.
        handoff_gone(rnd, base, "minutes.confirmation_requested", item)
        finds_handoff(coordinator, base, "minutes.objected", item)
        rnd.goto(meeting_url)
        rnd.get_by_role("button", name="书面确认").click()
        rnd.locator("#confirmations tr[data-department='研发部']", has_text="已确认").wait_for()
        handoff_gone(coordinator, base, "minutes.objected", item)
        # Operations has not confirmed yet (it gets its head only now), so no consensus yet.
        assert CollaborationItem.objects.get(pk=item.pk).status == ItemStatus.SUBMITTED
        ops_head = make_person("ops_head", ops, name="周婷")
        ops.head = ops_head
        ops.save()
        ops_page = people["ops_head"]
        ops_page.goto(meeting_url)
        ops_page.get_by_role("button", name="书面确认").click()
        ops_page.locator("#confirmations tr[data-department='运营部']", has_text="已确认").wait_for()
        assert CollaborationItem.objects.get(pk=item.pk).status == ItemStatus.CONSENSUS
        finds_handoff(coordinator, base, "item.consensus", item)

        # The coordinator turns both to-dos into tasks.
        coordinator.goto(f"{base}/items/{item.pk}/tasks/")
        for _ in range(2):
            coordinator.locator("#todos a", has_text="转为任务").first.click()
            coordinator.select_option("[name=receiver]", str(org.requester.pk))
            coordinator.fill("[name=delivery_standard]", "用例覆盖率≥95%,缺陷修复率100%")
            coordinator.locator("form.task-form button[type=submit]").click()
            coordinator.wait_for_url(f"{base}/items/{item.pk}/tasks/")

        # Nothing left out? Operations takes part but has no task: refused, and said why.
        coordinator.locator(f"form[action='/items/{item.pk}/tasks/start/'] button").click()
        coordinator.wait_for_url(f"{base}/items/{item.pk}/tasks/")
        assert "运营部参与本事项但没有任务" in coordinator.inner_text("main")
        assert CollaborationItem.objects.get(pk=item.pk).status == ItemStatus.PLANNED

        coordinator.fill(f"#departments form:has([value='{ops.pk}']) [name=reason]", "仅提供用户场景,无交付")
        coordinator.locator(f"#departments form:has([value='{ops.pk}']) button[type=submit]").click()
        coordinator.wait_for_url(f"{base}/items/{item.pk}/tasks/")
        coordinator.locator(f"form[action='/items/{item.pk}/tasks/start/'] button").click()
        coordinator.wait_for_url(f"{base}/items/{item.pk}/tasks/")
        assert CollaborationItem.objects.get(pk=item.pk).status == ItemStatus.EXECUTING
        handoff_gone(coordinator, base, "item.consensus", item)

        # The owner of the first task sees the assignment.
        finds_handoff(qa_head, base, "task.assigned", item)
        qa_head.goto(f"{base}/notifications/")
        assert "您是任务“提交测试计划”的责任人" in qa_head.inner_text(".notifications")
        qa_head.get_by_role("button", name="您是任务“提交测试计划”的责任人").click()
        qa_head.wait_for_url(f"{base}/items/{item.pk}/tasks/**")
        assert "提交测试计划" in qa_head.inner_text("main")
    finally:
        people.close()
