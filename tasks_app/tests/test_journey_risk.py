"""Stage 4 in Chromium, each hand-off found in the next person's My work and notification centre:
the owner's progress report is missing, the warning sweep tells him and he finds it; his report
raises a risk, which the coordinator sees on the item, among the notifications and in My work, at
once; he hands it on (转交) to the requester, who finds it in hers and resolves it.

Played in zh-hans at 1440 px and in English at 375 px (``collab.testing.journey_views``: all four
combinations take too long for CI's budget; COLLAB_JOURNEY_VIEWS=all runs them)."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from collab.testing import JourneyView, Org, finds_handoff, handoff_gone, journey_views, make_org
from requests_app.models import CollaborationItem
from tasks_app.alerts import plan_report_alert, sweep_alerts
from tasks_app.models import Problem, Task
from tasks_app.tests.support import executing_item

pytestmark = [pytest.mark.browser]


@pytest.fixture
def setting(transactional_db: Any) -> tuple[Org, CollaborationItem]:
    org = make_org()
    item = executing_item(org)
    # Execution started a fortnight ago and the owner of the test plan has not reported since:
    # his "report missing" warning came due, and the beat's sweep (run here, on the real
    # database and notification outbox) sends it.
    plan = Task.objects.get(item=item, name="提交测试计划")
    plan_report_alert(plan, since=timezone.now() - timedelta(days=14))
    sweep_alerts()
    return org, item


@pytest.mark.parametrize("view", journey_views())
def test_a_reported_risk_reaches_the_coordinator(
    chromium: Any, live_server: Any, setting: Any, view: JourneyView
) -> None:
    org, item = setting
    view.speak()
    log_in = view.log_in
    task = Task.objects.get(item=item, name="提交测试计划")
    base = live_server.url
    owner = log_in(chromium, base, "owner")
    coordinator = log_in(chromium, base, "coordinator")
    try:
        # Report due or missing: the owner is told and finds the report to file in My work.
        finds_handoff(owner, base, "alert.report_missing", item)
        owner.goto(f"{base}/")
        owner.locator(f"#work-reports_owed li.work-entry[data-item='{item.pk}'] a.work-action").click()
        owner.wait_for_url(f"{base}/items/{item.pk}/tasks/{task.pk}/report/")
        owner.select_option("[name=status]", "in_progress")
        owner.fill("[name=percent_done]", "40")
        owner.fill("[name=summary]", "完成核心用例设计")
        owner.fill("[name=risks]", "需求描述有歧义,需产品经理澄清")
        owner.fill("[name=measures]", "已约产品经理明早沟通")
        owner.get_by_role("button", name=view.text("Send the report")).click()
        owner.locator(".message.success").wait_for()
        handoff_gone(owner, base, "alert.report_missing", item)

        coordinator.goto(f"{base}/items/{item.pk}/")
        risks = coordinator.locator("#open-problems")
        assert "需求描述有歧义" in risks.inner_text() and "提交测试计划" in risks.inner_text()
        assert coordinator.locator(".badge").inner_text().strip() != ""
        coordinator.goto(f"{base}/notifications/")
        notice = coordinator.get_by_role("button", name="提交测试计划").first
        assert view.before('Risk reported on "%(task)s" (%(topic)s)', "%(task)s") in notice.inner_text()
        notice.click()
        coordinator.wait_for_url(f"{base}/items/{item.pk}/progress/**")
        assert "需求描述有歧义" in coordinator.inner_text("#problems")
        finds_handoff(coordinator, base, "task.problem", item)

        # The coordinator hands it to the requester (the product manager), who must clarify.
        problem = Problem.objects.get(task=task)
        coordinator.goto(f"{base}/items/{item.pk}/progress/")
        row = coordinator.locator(f"#problems tr[data-problem='{problem.pk}']")
        row.locator("select[name=owner]").select_option(str(org.requester.pk))
        row.get_by_role("button", name=view.text("Hand over")).click()
        coordinator.locator(".message.success").wait_for()
        handoff_gone(coordinator, base, "task.problem", item)
        requester = log_in(chromium, base, "requester")
        finds_handoff(requester, base, "problem.assigned", item)
        requester.goto(f"{base}/items/{item.pk}/progress/")
        row = requester.locator(f"#problems tr[data-problem='{problem.pk}']")
        row.locator("textarea[name=resolution]").fill("已澄清:以PRD v2为准")
        row.get_by_role("button", name=view.text("Resolve")).click()
        requester.locator(".message.success").wait_for()
        handoff_gone(requester, base, "problem.assigned", item)
        requester.context.close()
    finally:
        owner.context.close()
        coordinator.context.close()
