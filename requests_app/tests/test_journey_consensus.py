"""Stages 1-3 in Chromium, each person in their own browser session:

the requester files the requirement form from the scenario's template; the coordinator
schedules a meeting; an invitee opens the pre-read; the coordinator records minutes with two
to-dos; two department heads confirm, one after objecting; the to-dos become tasks; "nothing left
out" first refuses (a department without a task), then passes; the owner sees the assignment.

Played in zh-hans at 1440 px and in English at 375 px (``collab.testing.journey_views``: all four
combinations take too long for CI's budget; COLLAB_JOURNEY_VIEWS=all runs them). Buttons and
messages are named by their msgid in the run's language.
"""

from typing import Any

import pytest

from collab.org.models import Department
from collab.testing import (
    JourneyView,
    Org,
    assert_fits,
    finds_handoff,
    handoff_gone,
    journey_views,
    make_org,
    make_person,
)
from requests_app.models import CollaborationItem, ItemStatus

pytestmark = [pytest.mark.browser]


class People:
    """One browser context per person, logged in once."""

    def __init__(self, chromium: Any, base: str, view: JourneyView) -> None:
        self.chromium, self.base, self.view, self.pages = chromium, base, view, {}

    def __getitem__(self, username: str) -> Any:
        if username not in self.pages:
            self.pages[username] = self.view.log_in(self.chromium, self.base, username)
        return self.pages[username]

    def close(self) -> None:
        for page in self.pages.values():
            page.context.close()


@pytest.fixture
def setting(transactional_db: Any) -> tuple[Org, Any, Department]:
    org = make_org()
    rnd_head = make_person("rnd_head", org.rnd, name="赵强")
    org.rnd.head = rnd_head
    org.rnd.save()
    ops = Department(name="运营部", region=org.region)
    ops.save()
    return org, rnd_head, ops


@pytest.mark.parametrize("view", journey_views())
def test_from_meeting_to_execution(chromium: Any, live_server: Any, setting: Any, view: JourneyView) -> None:
    org, rnd_head, ops = setting
    view.speak()
    people = People(chromium, live_server.url, view)
    base = live_server.url
    try:
        # The requester (head of Product) files the form from the scenario's template: her
        # department and the scenario's milestones are filled in, she writes the rest.
        requester = people["requester"]
        requester.goto(f"{base}/items/new/")
        requester.click("a[data-scenario='cross_department']")
        requester.wait_for_url("**/items/new/?scenario=cross_department")
        assert_fits(requester, "requirement form")
        requester.fill("[name=topic]", "Q3产品上线测试")
        requester.select_option("[name=coordinator]", str(org.coordinator.pk))
        requester.fill("[name=goal]", "10月15日前完成Q3新功能上线测试,覆盖90%用户需求")
        requester.fill("[name=scope]", "核心功能模块测试")
        requester.fill("[name=expected_outcome]", "功能覆盖90%的用户需求")
        parties = [(org.rnd, "提供技术支持"), (org.qa, "协助设计测试用例"), (ops, "提供用户场景")]
        for row, (department, need) in enumerate(parties):
            if row == 2:
                requester.get_by_role("button", name=view.text("Add a department")).click()
            requester.select_option(f"[name=participations-{row}-department]", str(department.pk))
            requester.fill(f"[name=participations-{row}-core_need]", need)
        requester.click("button[name=submit]")
        submitted = requester.locator(".message.success")
        submitted.wait_for()
        item = CollaborationItem.objects.get(topic="Q3产品上线测试")
        assert item.status == ItemStatus.SUBMITTED and item.requesting_department == org.product
        assert view.text("Submitted as item %(number)s.", number=item.number) in submitted.inner_text()

        # The coordinator is told and finds the meeting to schedule.
        coordinator = people["coordinator"]
        finds_handoff(coordinator, base, "item.submitted", item)
        # The coordinator schedules the consensus meeting; the departments are suggested.
        coordinator.goto(f"{base}/items/{item.pk}/")
        coordinator.get_by_role("link", name=view.text("Schedule a meeting")).click()
        coordinator.select_option("[name=form]", "online_workshop")
        coordinator.fill("[name=location]", "https://meeting.example.com/q3")
        coordinator.get_by_role("button", name=view.text("Schedule and send the pre-read")).click()
        coordinator.locator("#invitees").wait_for()
        meeting_url = coordinator.url
        handoff_gone(coordinator, base, "item.submitted", item)

        # An invitee (a QA engineer) finds the pre-read among the notifications and opens it.
        owner = people["owner"]
        finds_handoff(owner, base, "meeting.invited", item)
        owner.goto(f"{base}/notifications/")
        owner.locator(f".notifications li[data-kind='meeting.invited'][data-item='{item.pk}'] button").click()
        owner.wait_for_url("**/pre-read/")
        assert view.text("Collaboration requirement form") in owner.inner_text("main")
        handoff_gone(owner, base, "meeting.invited", item)

        coordinator.goto(meeting_url)
        invitees = coordinator.locator("#invitees")
        assert (
            view.before("opened %(when)s", "%(when)s") in invitees.locator("tr", has_text="吴杰").inner_text()
        )
        assert view.text("not opened yet") in invitees.locator("tr", has_text="孙磊").inner_text()

        # Minutes with two to-dos, each with one owner and a due date.
        coordinator.get_by_role("link", name=view.text("Record the minutes")).click()
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
        coordinator.get_by_role("button", name=view.text("Save the minutes")).click()
        coordinator.locator("#confirmations").wait_for()

        # The QA head confirms; the R&D head objects, then confirms after talking it through.
        qa_head = people["qa_head"]
        finds_handoff(qa_head, base, "minutes.confirmation_requested", item)
        qa_head.goto(meeting_url)
        qa_head.get_by_role("button", name=view.text("Confirm in writing")).click()
        qa_head.locator(
            "#confirmations tr[data-department='测试部']", has_text=view.text("Confirmed")
        ).wait_for()
        handoff_gone(qa_head, base, "minutes.confirmation_requested", item)
        rnd = people["rnd_head"]
        finds_handoff(rnd, base, "minutes.confirmation_requested", item)
        rnd.goto(meeting_url)
        rnd.get_by_role("button", name=view.text("Object")).click()
        assert view.text("Say why you object, so the discussion can resolve it.") in rnd.inner_text(
            ".messages"
        )
        rnd.fill(".confirm-form textarea[name=reason]", "修复排期需要再议")
        rnd.get_by_role("button", name=view.text("Object")).click()
        rnd.locator("#confirmations tr[data-department='研发部']", has_text=view.text("Objected")).wait_for()
        assert CollaborationItem.objects.get(pk=item.pk).status == ItemStatus.SUBMITTED
        # The objection is the coordinator's to answer now.
        handoff_gone(rnd, base, "minutes.confirmation_requested", item)
        finds_handoff(coordinator, base, "minutes.objected", item)
        rnd.goto(meeting_url)
        rnd.get_by_role("button", name=view.text("Confirm in writing")).click()
        rnd.locator("#confirmations tr[data-department='研发部']", has_text=view.text("Confirmed")).wait_for()
        handoff_gone(coordinator, base, "minutes.objected", item)
        # Operations has not confirmed yet (it gets its head only now), so no consensus yet.
        assert CollaborationItem.objects.get(pk=item.pk).status == ItemStatus.SUBMITTED
        ops_head = make_person("ops_head", ops, name="周婷", language=view.language)
        ops.head = ops_head
        ops.save()
        ops_page = people["ops_head"]
        ops_page.goto(meeting_url)
        ops_page.get_by_role("button", name=view.text("Confirm in writing")).click()
        ops_page.locator(
            "#confirmations tr[data-department='运营部']", has_text=view.text("Confirmed")
        ).wait_for()
        assert CollaborationItem.objects.get(pk=item.pk).status == ItemStatus.CONSENSUS
        finds_handoff(coordinator, base, "item.consensus", item)

        # The coordinator turns both to-dos into tasks.
        coordinator.goto(f"{base}/items/{item.pk}/tasks/")
        for _ in range(2):
            coordinator.locator("#todos a", has_text=view.text("Make a task")).first.click()
            coordinator.select_option("[name=receiver]", str(org.requester.pk))
            coordinator.fill("[name=delivery_standard]", "用例覆盖率≥95%,缺陷修复率100%")
            coordinator.locator("form.task-form button[type=submit]").click()
            coordinator.wait_for_url(f"{base}/items/{item.pk}/tasks/")

        # Nothing left out? Operations takes part but has no task: refused, and said why.
        coordinator.locator(f"form[action='/items/{item.pk}/tasks/start/'] button").click()
        coordinator.wait_for_url(f"{base}/items/{item.pk}/tasks/")
        left_out = view.text(
            "%(department)s takes part but has no task: give it one, or record why it needs none.",
            department="运营部",
        )
        assert left_out in coordinator.inner_text("main")
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
        assigned = view.text('You own the task "%(task)s"', task="提交测试计划")
        assert assigned in qa_head.inner_text(".notifications")
        qa_head.get_by_role("button", name=assigned).click()
        qa_head.wait_for_url(f"{base}/items/{item.pk}/tasks/**")
        assert "提交测试计划" in qa_head.inner_text("main")
    finally:
        people.close()
