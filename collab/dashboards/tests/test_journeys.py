"""Each role in Chromium: log in, find the right entries, follow one to its action, and leave a
screenshot at phone (375 px) and desktop (1440 px) width in test-artifacts/.

The people read English (Person.language "en"), so the assertions do not wait for the Chinese
catalogue. Data is relative to the real clock: the template's October 2026 tasks may be late.
"""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from collab.dashboards.tests.support import notification, problem, raw_task, refresh_facts
from collab.org.calendar import calendar_for
from collab.org.models import Person
from collab.testing import PASSWORD, Org, make_org
from requests_app.models import CollaborationItem, Invitation, Meeting, MeetingForm
from reviews_app.models import Deliverable, DeliverableVersion
from tasks_app.models import Alert, AlertKind, ProgressReport, Task, TaskStatus
from tasks_app.tests.support import executing_item

pytestmark = [pytest.mark.browser]
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1440, "height": 900}


class Setting:
    def __init__(
        self, org: Org, item: CollaborationItem, plan: Task, fix: Task, deliverable: Deliverable
    ) -> None:
        self.org, self.item, self.plan, self.fix, self.deliverable = org, item, plan, fix, deliverable


@pytest.fixture
def setting(transactional_db: Any) -> Setting:
    org = make_org()
    org.outsider.is_staff = True
    org.outsider.save()
    Person.objects.filter(user__in=[org.owner, org.coordinator, org.qa_head, org.outsider]).update(
        language="en"
    )
    item = executing_item(org)
    plan = Task.objects.get(item=item, name="提交测试计划")  # QA's owner
    fix = Task.objects.get(item=item, name="完成功能修复")  # R&D's collaborator
    now = timezone.now()

    # The owner's report is missing: the reminder came due after the last report (none yet).
    Alert.objects.create(
        task=plan, kind=AlertKind.REPORT_MISSING, due_at=now - timedelta(hours=3), sent_at=now
    )
    # The coordinator was told about the fix, and nobody reported since: an escalation.
    Alert.objects.create(
        task=fix,
        kind=AlertKind.OVERDUE,
        step=1,
        due_at=now - timedelta(hours=2),
        sent_at=now - timedelta(hours=2),
    )
    problem(plan, blocking=True)

    # A deliverable for the owner to review, within the working day.
    done = raw_task(
        org,
        item,
        name="提交需求说明",
        owner=org.collaborator,
        department=org.rnd,
        deadline=timezone.localdate() + timedelta(days=10),
    )
    deliverable = Deliverable.objects.create(
        task=done,
        name="需求说明书",
        deliverer=org.collaborator,
        receiver=org.owner,
        acceptance_criteria="完整",
    )
    DeliverableVersion.objects.create(
        deliverable=deliverable,
        number=1,
        submitted_by=org.collaborator,
        review_due_at=calendar_for(None).add_working_days(now, 1),
    )
    # Done: both sides signed its acceptance form (the only way a task becomes done).
    Task.objects.filter(pk=done.pk).update(status=TaskStatus.DONE, percent_done=100, done_at=now)
    ProgressReport.objects.create(
        task=done,
        reporter=org.collaborator,
        status=TaskStatus.IN_PROGRESS,
        percent_done=100,
        summary="已提交",
    )

    # A meeting ahead whose pre-read the owner has not opened, and a notification.
    meeting = Meeting.objects.create(
        item=item,
        form=MeetingForm.ONLINE_WORKSHOP,
        starts_at=now + timedelta(days=2),
        location="https://meeting.example.com/q3",
        organiser=org.coordinator,
    )
    Invitation.objects.create(meeting=meeting, person=org.owner)
    notification(org.owner, "Deadline tomorrow: 提交测试计划")
    refresh_facts()
    return Setting(org, item, plan, fix, deliverable)


@pytest.fixture
def browser_of(chromium: Any, live_server: Any) -> Iterator[Any]:
    contexts: list[Any] = []

    def log_in(username: str, path: str) -> Any:
        context = chromium.new_context(locale="en-US", timezone_id="Asia/Shanghai", viewport=DESKTOP)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{live_server.url}/accounts/login/?next={path}")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.press("#id_password", "Enter")
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        return page

    yield log_in
    for context in contexts:
        context.close()


def screenshots(page: Any, name: str) -> None:
    """Full-page screenshots at both widths; at 375 px nothing may widen the page itself."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(100)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1, name
    page.screenshot(path=str(ARTIFACTS / f"dashboards-{name}-375.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    page.wait_for_timeout(100)
    page.screenshot(path=str(ARTIFACTS / f"dashboards-{name}-1440.png"), full_page=True)


def test_everyone_finds_their_work_and_reports_from_it(browser_of: Any, setting: Setting) -> None:
    page = browser_of("owner", "/")
    owed = page.locator("#work-reports_owed")
    assert "提交测试计划" in owed.inner_text()
    assert "需求说明书" in page.inner_text("#work-reviews")
    assert "of working time left" in page.inner_text("#work-reviews")
    assert "Online workshop" in page.inner_text("#work-pre_reads")
    tasks = page.inner_text("#work-tasks")
    assert "提交测试计划" in tasks and "完成功能修复" not in tasks
    assert "Deadline tomorrow" in page.inner_text("#notifications")
    page.wait_for_load_state("networkidle")
    assert page.locator(".topbar nav a", has_text="Dashboard").count() == 0  # no dashboard of theirs
    screenshots(page, "my-work")

    owed.get_by_role("link", name="Report progress").click()
    page.wait_for_url(f"**/items/{setting.item.pk}/tasks/{setting.plan.pk}/report/")
    assert page.locator("[name=percent_done]").is_visible()


def test_the_coordinator_sees_what_needs_them_first(browser_of: Any, setting: Setting) -> None:
    page = browser_of("coordinator", "/dashboard/coordinator/")
    row = page.locator(f"#items tr[data-item='{setting.item.pk}']")
    assert row.locator(".db-health").get_attribute("data-health") == "off_track"
    attention = page.locator("#attention-tasks")
    assert "完成功能修复" in attention.inner_text() and "escalated" in attention.inner_text()
    assert "测试环境不稳定" in page.inner_text("#problems")
    page.locator(".topbar nav a", has_text="Dashboard").wait_for()  # loaded after the page
    screenshots(page, "coordinator")

    attention.get_by_role("link", name="完成功能修复").click()
    page.wait_for_url(f"**/items/{setting.item.pk}/tasks/{setting.fix.pk}/")
    assert "完成功能修复" in page.inner_text("h1")


def test_the_department_head_sees_the_department(browser_of: Any, setting: Setting) -> None:
    page = browser_of("qa_head", "/dashboard/")
    page.wait_for_url("**/dashboard/department/")
    assert page.locator("#workload tr[data-person='owner'] .open-count").inner_text() == "1"
    tasks = page.inner_text("#tasks")
    assert "提交测试计划" in tasks and "完成功能修复" not in tasks  # R&D's task is not QA's
    assert page.locator(f"#department-items tr[data-item='{setting.item.pk}']").count() == 1
    screenshots(page, "department")

    page.locator("#tasks").get_by_role("link", name="提交测试计划").click()
    page.wait_for_url(f"**/items/{setting.item.pk}/tasks/{setting.plan.pk}/")


def test_management_follows_a_figure_to_its_rows(browser_of: Any, setting: Setting) -> None:
    page = browser_of("outsider", "/management/")
    assert page.locator("#figure-escalations .db-figure-value").inner_text() == "1"
    assert page.locator("#figure-delivery .db-figure-value").inner_text() == "100%"
    page.locator("canvas[data-chart='stage-chart']").wait_for()
    assert page.evaluate("typeof window.Chart") == "function"
    screenshots(page, "management")

    page.locator("#figure-escalations").click()
    page.wait_for_url("**/management/escalations/**")
    assert "完成功能修复" in page.inner_text("#rows")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export to Excel").click()
    assert download.value.suggested_filename.endswith(".xlsx")


def test_the_timeline_reads_on_a_phone_and_prints(browser_of: Any, setting: Setting) -> None:
    page = browser_of("coordinator", f"/items/{setting.item.pk}/timeline/")
    assert page.locator(".tl-task.late").count() >= 1
    # The template's tasks fall around National Day 2026: its make-up Saturday shows as worked.
    assert page.locator(".tl-day.makeup[data-day='2026-10-10']").count() == 1
    screenshots(page, "timeline")
    page.emulate_media(media="print")
    assert page.locator(".topbar").is_hidden()
    page.set_viewport_size({"width": 1123, "height": 794})  # A4 landscape at 96 dpi
    assert page.evaluate("document.documentElement.scrollWidth") <= 1123 + 1
    page.screenshot(path=str(ARTIFACTS / "dashboards-timeline-print.png"), full_page=True)
    page.pdf(path=str(ARTIFACTS / "dashboards-timeline.pdf"), landscape=True, print_background=True)
