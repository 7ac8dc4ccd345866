"""Stage 4: progress reports, the issue-tracking list and the coordinator's progress view."""

import io
from datetime import UTC, datetime
from typing import Any

import openpyxl
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.translation import gettext as _

from collab.notify.models import Notification
from collab.testing import Org, assert_refused, client_for
from requests_app.models import CollaborationItem
from tasks_app import tracking_services
from tasks_app.models import Problem, ProblemStatus, ProgressReport, Task
from tasks_app.tests.support import consensus_item, executing_item
from tasks_app.tracking_services import ReportData

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(org: Org) -> CollaborationItem:
    with time_machine.travel(datetime(2026, 9, 29, 2, 0, tzinfo=UTC), tick=False):
        return executing_item(org)


@pytest.fixture
def task(item: CollaborationItem) -> Task:
    return Task.objects.get(
        item=item, name="提交测试计划"
    )  # owner: org.owner, collaborator: org.collaborator


def report(org: Org, task: Task, **overrides: Any) -> ProgressReport:
    values: dict[str, Any] = {"status": "in_progress", "percent_done": 40, "summary": "完成用例设计"}
    values.update(overrides)
    return tracking_services.progress_report(actor=org.owner, task_id=task.pk, data=ReportData(**values))


def test_a_report_updates_the_task(org: Org, task: Task) -> None:
    made = report(org, task)
    task.refresh_from_db()
    assert (task.status, task.percent_done, task.last_reported_at) == ("in_progress", 40, made.created_at)


def test_a_report_reads_the_owner_and_their_calendar_with_the_task(org: Org, task: Task) -> None:
    """A write the issue bounds (≤ 15 ms CPU): the locked task comes with its owner's person and
    region, which the next report's due time needs, instead of one query for each."""
    with CaptureQueriesContext(connection) as queries:
        report(org, task)
    tables = [
        q["sql"].split(" FROM ", 1)[1][:20] for q in queries.captured_queries if q["sql"].startswith("SELECT")
    ]
    assert not [table for table in tables if table.startswith(('"org_person"', '"org_region"'))]
    assert len(queries) <= 11


def test_a_risk_reaches_the_coordinator_at_once_and_enters_the_problem_list(org: Org, task: Task) -> None:
    report(org, task, risks="需求描述有歧义,需产品经理澄清", measures="已约产品经理明早沟通")
    problem = Problem.objects.get()
    assert (problem.owner, problem.status, problem.blocking) == (org.coordinator, ProblemStatus.OPEN, False)
    notice = Notification.objects.get(kind="task.problem")
    assert notice.recipient == org.coordinator and "需求描述有歧义" in notice.body


def test_a_blocker_needs_its_reason(org: Org, task: Task) -> None:
    refused = assert_refused(lambda: report(org, task, status="blocked"), "汇报内容不完整。")
    assert "risks" in refused.problems
    report(org, task, status="blocked", risks="测试环境不可用")
    assert Problem.objects.get().blocking


def test_a_report_cannot_make_a_task_done_and_needs_a_summary(org: Org, task: Task) -> None:
    incomplete = _("The report is not complete.")
    for status in ("done", "delivered"):
        refusal = assert_refused(lambda s=status: report(org, task, status=s, percent_done=100), incomplete)
        assert list(refusal.problems) == ["status"]
    refusal = assert_refused(lambda: report(org, task, summary=" "), incomplete)
    assert list(refusal.problems) == ["summary"]
    refusal = assert_refused(lambda: report(org, task, percent_done=120), incomplete)
    assert list(refusal.problems) == ["percent_done"]
    assert not ProgressReport.objects.exists()


def test_only_the_people_on_the_task_report(org: Org, task: Task) -> None:
    tracking_services.progress_report(
        actor=org.collaborator, task_id=task.pk, data=ReportData("in_progress", 10, "评审用例")
    )
    for person in (org.qa_head, org.outsider, org.requester):
        assert_refused(
            lambda person=person: tracking_services.progress_report(
                actor=person, task_id=task.pk, data=ReportData("in_progress", 10, "x")
            ),
            "只有任务责任人、协作人和协调人可以汇报进度。",
        )


def test_no_report_before_execution(org: Org) -> None:
    item = consensus_item(org)
    from tasks_app.tests.support import cover_everything

    [first, _second] = cover_everything(org, item)
    assert_refused(lambda: report(org, first), "事项进入执行阶段后才能汇报进度。")


def test_problems_are_handed_over_and_resolved_by_their_owner(org: Org, task: Task) -> None:
    report(org, task, risks="需求描述有歧义", measures="找产品确认")
    problem = Problem.objects.get()
    assert_refused(
        lambda: tracking_services.problem_assign(
            actor=org.owner, problem_id=problem.pk, owner_id=org.requester.pk
        ),
        "只有发起人和协调人可以转交问题。",
    )
    tracking_services.problem_assign(actor=org.coordinator, problem_id=problem.pk, owner_id=org.requester.pk)
    assert Notification.objects.filter(kind="problem.assigned", recipient=org.requester).exists()
    assert_refused(
        lambda: tracking_services.problem_resolve(actor=org.outsider, problem_id=problem.pk, resolution="x"),
        "只有问题责任人或协调人可以处理该问题。",
    )
    assert_refused(
        lambda: tracking_services.problem_resolve(actor=org.requester, problem_id=problem.pk, resolution=" "),
        "请说明问题的解决结果。",
    )
    tracking_services.problem_resolve(
        actor=org.requester, problem_id=problem.pk, resolution="已澄清:以PRD v2为准"
    )
    problem.refresh_from_db()
    assert problem.status == ProblemStatus.RESOLVED and problem.resolved_at is not None


def test_the_progress_view_puts_late_and_stale_tasks_first(org: Org, item: CollaborationItem) -> None:
    fix = Task.objects.get(item=item, name="完成功能修复")
    with time_machine.travel(datetime(2026, 10, 9, 3, 0, tzinfo=UTC), tick=False):
        from tasks_app.alerts import sweep_alerts

        sweep_alerts()
        tracking_services.progress_report(
            actor=org.collaborator, task_id=fix.pk, data=ReportData("in_progress", 50, "修复中")
        )
    # Saturday 10-10 (a make-up workday) 10:30 in Shanghai: the plan is a day late and has never
    # been reported; the fix was reported yesterday 11:00 and is not due again before 11:00.
    with time_machine.travel(datetime(2026, 10, 10, 2, 30, tzinfo=UTC), tick=False):
        page = client_for(org.coordinator).get(reverse("tasks_app:progress", args=[item.pk]))
    states = page.context["states"]
    assert [(s.task.name, s.late, s.stale) for s in states] == [
        ("提交测试计划", True, True),
        ("完成功能修复", False, False),
    ]


def test_permissions_of_the_tracking_pages(org: Org, item: CollaborationItem, task: Task) -> None:
    report(org, task, risks="风险", measures="措施")
    problem = Problem.objects.get()
    urls = {
        "progress": reverse("tasks_app:progress", args=[item.pk]),
        "print": reverse("tasks_app:progress_print", args=[item.pk]),
        "export": reverse("tasks_app:progress_export", args=[item.pk]),
        "detail": reverse("tasks_app:task_detail", args=[item.pk, task.pk]),
        "report": reverse("tasks_app:task_report", args=[item.pk, task.pk]),
        "milestone": reverse("tasks_app:milestone_report", args=[item.pk, item.milestones.first().pk]),  # type: ignore[union-attr]
    }
    posts = {
        "cadence": reverse("tasks_app:set_cadence", args=[item.pk]),
        "resolve": reverse("tasks_app:problem_resolve", args=[item.pk, problem.pk]),
        "assign": reverse("tasks_app:problem_assign", args=[item.pk, problem.pk]),
    }
    outsider = client_for(org.outsider)
    for name, url in {**urls, **posts}.items():
        response = outsider.post(url) if name in posts else outsider.get(url)
        assert response.status_code == 404, name
    reader = client_for(org.qa_head)  # sees the item through QA, is not on the task
    for name in ("progress", "print", "export", "detail", "milestone"):
        assert reader.get(urls[name]).status_code == 200, name
    assert reader.get(urls["report"]).status_code == 403
    assert (
        reader.post(
            urls["report"], {"status": "in_progress", "percent_done": 100, "summary": "x"}
        ).status_code
        == 403
    )
    assert reader.post(posts["cadence"], {"cadence": "4h"}).status_code == 403
    assert reader.post(posts["assign"], {"owner": org.qa_head.pk}).status_code == 403
    assert reader.post(posts["resolve"], {"resolution": "x"}).status_code == 403
    assert Problem.objects.get().status == ProblemStatus.OPEN
    for name in posts:
        assert client_for(org.coordinator).get(posts[name]).status_code == 405


def test_a_bad_report_changes_nothing(org: Org, item: CollaborationItem, task: Task) -> None:
    url = reverse("tasks_app:task_report", args=[item.pk, task.pk])
    response = client_for(org.owner).post(
        url, {"status": "blocked", "percent_done": 30, "summary": "卡住了", "risks": ""}
    )
    assert response.status_code == 200 and response.context["form"].errors
    assert not ProgressReport.objects.exists()
    response = client_for(org.owner).post(
        url, {"status": "in_progress", "percent_done": 30, "summary": "用例设计过半"}
    )
    assert response.status_code == 302 and ProgressReport.objects.count() == 1


def test_the_progress_record_exports_and_counts_its_queries(
    org: Org, item: CollaborationItem, task: Task
) -> None:
    report(org, task, risks="环境不稳定", measures="申请备用环境")
    client = client_for(org.coordinator)

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
            if hasattr(response, "streaming_content"):
                b"".join(response.streaming_content)
        return len(queries)

    page = reverse("tasks_app:progress", args=[item.pk])
    export = reverse("tasks_app:progress_export", args=[item.pk])
    few = (count(page), count(export))
    from tasks_app import services
    from tasks_app.tests.support import fix_task_data

    for n in range(6):
        services.task_create(
            actor=org.coordinator, item_id=item.pk, data=fix_task_data(org, name=f"补充任务{n}")
        )
    assert (count(page), count(export)) == few
    response = client.get(export)
    rows = list(
        openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.iter_rows(
            values_only=True
        )
    )
    header = rows[2]
    assert header[0] == "任务" and "风险/问题" in header
    plan_row = next(r for r in rows[3:] if r[0] == "提交测试计划")
    assert "环境不稳定" in plan_row and "申请备用环境" in plan_row


def test_the_cadence_can_be_adjusted(org: Org, item: CollaborationItem) -> None:
    tracking_services.item_set_cadence(actor=org.coordinator, item_id=item.pk, cadence="4h")
    item.refresh_from_db()
    assert item.cadence == "4h"
    assert_refused(
        lambda: tracking_services.item_set_cadence(actor=org.owner, item_id=item.pk, cadence="1d"),
        "只有发起人和协调人可以设置汇报频率。",
    )


def test_a_vague_measure_against_a_risk_is_named_with_its_fix() -> None:
    from tasks_app.tracking_services import report_problems

    problems = report_problems(
        ReportData("in_progress", 40, "用例评审中", risks="评审人请假", measures="尽量协调")
    )
    assert problems["measures"] == ["“尽量”是模糊表述：请改为可检验的标准，例如“测试覆盖率 ≥ 95%”。"]
    clear = report_problems(
        ReportData("in_progress", 40, "用例评审中", risks="评审人请假", measures="10月9日前由组长评审")
    )
    assert "measures" not in clear


def test_the_task_page_names_its_collaborators_and_receiver(
    org: Org, item: CollaborationItem, task: Task
) -> None:
    from collab.org.models import display_name

    page = client_for(org.qa_head).get(reverse("tasks_app:task_detail", args=[item.pk, task.pk]))
    body = page.content.decode()
    assert display_name(org.collaborator) in body.split('id="task-collaborators"')[1].split("</td>")[0]
    assert display_name(task.receiver) in body.split('id="task-receiver"')[1].split("</td>")[0]
