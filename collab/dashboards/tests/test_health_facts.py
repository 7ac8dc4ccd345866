"""The health facts stored on each item (requests_app.health_facts), and their copies on the
item's department rows, stay equal to their recomputation after every kind of write the
services make: the boards rank by them, so a fact a
write forgot would put an item in the wrong place without any error."""

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from collab.dashboards.coordinator_selectors import coordinator_board
from collab.dashboards.tests.support import at
from collab.testing import Org, make_item, schedule_meeting
from requests_app.health_facts import health_fact_columns, item_health_refresh
from requests_app.models import CollaborationItem, ReportCadence, Scenario
from requests_app.tests.test_department_items import rows_match
from reviews_app.tests.delivery_support import accept, png_data_url, request_changes, revise, sign, submit
from tasks_app import services
from tasks_app.alerts import sweep_alerts
from tasks_app.models import AlertKind, Problem, Task, TaskStatus
from tasks_app.tests.support import consensus_item, cover_everything, fix_task_data, task_data, todos
from tasks_app.tracking_services import ReportData, item_set_cadence, problem_resolve, progress_report

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(at("2026-09-29 10:00"), tick=False):
        yield


def facts(item: CollaborationItem) -> dict[str, Any]:
    """What is stored, and what recomputing gives: each write must leave them equal."""
    columns = health_fact_columns()
    row = (
        CollaborationItem.objects.filter(pk=item.pk)
        .annotate(**{f"fresh_{name}": value for name, value in columns.items()})
        .values(*columns, *(f"fresh_{name}" for name in columns))
        .get()
    )
    stored = {name: row[name] for name in columns}
    assert stored == {name: row[f"fresh_{name}"] for name in columns}
    rows_match(item)  # and the departments' copies (DepartmentItem) follow
    return stored


def test_a_new_item_needs_no_refresh(org: Org) -> None:
    """The columns' database defaults are the facts of an item without tasks or meetings."""
    item = make_item(org, submit=False)
    assert facts(item)["health_gap"] is True
    CollaborationItem.objects.filter(pk=item.pk).update(topic="改个标题")  # no refresh
    assert facts(make_item(org))["health_meeting"] is False


def test_the_facts_follow_planning_and_the_breakdown(org: Org) -> None:
    item = make_item(org, scenario=Scenario.EMERGENCY)
    schedule_meeting(org, item)
    assert facts(item)["health_meeting"] is True

    item = consensus_item(org)  # the minutes are written with the ORM: the next write refreshes
    planned = services.task_create(
        actor=org.coordinator,
        item_id=item.pk,
        data=task_data(org),
        source_todo_id=todos(item)["提交测试计划"].pk,
    )
    assert facts(item)["health_gap"] is True  # a to-do and R&D left out
    services.todo_drop(actor=org.coordinator, todo_id=todos(item)["完成功能修复"].pk, reason="合并到测试计划")
    assert facts(item)["health_gap"] is True  # R&D still has no task
    exemption = services.department_exempt(
        actor=org.coordinator, item_id=item.pk, department_id=org.rnd.pk, reason="只提供技术支持"
    )
    assert facts(item)["health_gap"] is False
    services.department_exemption_remove(actor=org.coordinator, exemption_id=exemption.pk)
    assert facts(item)["health_gap"] is True
    services.task_create(actor=org.coordinator, item_id=item.pk, data=fix_task_data(org))
    assert facts(item)["health_gap"] is False
    assert facts(item)["health_late_from"] == date(2026, 10, 9)

    planned.refresh_from_db()
    services.task_update(
        actor=org.coordinator,
        task_id=planned.pk,
        version=planned.version,
        data=task_data(org, deadline=date(2026, 9, 28)),
    )
    assert facts(item)["health_late_from"] == date(2026, 9, 28)


def test_the_facts_follow_execution_reports_problems_and_the_sweep(org: Org) -> None:
    item = consensus_item(org)
    plan, fix = cover_everything(org, item)
    item.refresh_from_db()
    services.item_start_execution(actor=org.coordinator, item_id=item.pk, version=item.version)
    first = facts(item)
    assert first["health_stale_from"] is not None and first["health_behind_from"] == date(2026, 10, 9)

    progress_report(
        actor=org.owner,
        task_id=plan.pk,
        data=ReportData(
            status=TaskStatus.BLOCKED, percent_done=90, summary="环境搭建中", risks="测试环境不稳定"
        ),
    )
    reported = facts(item)
    assert (reported["health_problems"], reported["health_blocked"]) == (1, 1)
    assert reported["health_behind_from"] == date(2026, 10, 12)  # the plan is 90 % done
    problem_resolve(actor=org.coordinator, problem_id=Problem.objects.get().pk, resolution="已更换环境")
    assert facts(item)["health_problems"] == 0
    item_set_cadence(actor=org.coordinator, item_id=item.pk, cadence=ReportCadence.WEEKLY)
    assert facts(item)["health_stale_from"] != reported["health_stale_from"]

    # Nobody reports on the fix: the reminder goes out, then the escalation to the coordinator.
    for moment in ("2026-10-12 09:30", "2026-10-20 09:30", "2026-10-28 09:30"):
        sweep_alerts(now=at(moment))
        facts(item)
    assert fix.alerts.filter(kind=AlertKind.REPORT_MISSING, step=1).exclude(sent_at=None).exists()
    assert facts(item)["health_escalations"] >= 1


def test_the_facts_follow_the_review_and_the_signatures(org: Org) -> None:
    item = consensus_item(org)
    plan, _fix = cover_everything(org, item)
    item.refresh_from_db()
    services.item_start_execution(actor=org.coordinator, item_id=item.pk, version=item.version)
    deliverable = submit(org, plan)
    assert facts(item)["health_review_from"] is not None
    request_changes(org, deliverable)
    assert facts(item)["health_review_from"] is None
    revise(org, deliverable)
    assert facts(item)["health_review_from"] is not None
    accept(org, deliverable)
    assert facts(item)["health_review_from"] is None
    sign(org.owner, deliverable, "deliverer", drawing=png_data_url())
    sign(org.receiver, deliverable, "receiver")
    assert Task.objects.get(pk=plan.pk).status == TaskStatus.DONE
    assert facts(item)["health_late_from"] == date(2026, 10, 12)  # only the fix is open


def test_a_refresh_costs_one_query_and_the_board_reads_no_task_to_rank(org: Org) -> None:
    items = [consensus_item(org) for _ in range(3)]
    for item in items:
        cover_everything(org, item)
    with CaptureQueriesContext(connection) as queries:
        item_health_refresh([item.pk for item in items])
    assert len(queries) == 1
    with CaptureQueriesContext(connection) as queries:
        coordinator_board(org.coordinator)
    ranking = [q["sql"] for q in queries.captured_queries if "ROW_NUMBER" in q["sql"]]
    assert ranking and all('"tasks_app_task"' not in sql for sql in ranking)


def test_an_item_loaded_before_a_refresh_and_saved_whole_keeps_the_refreshed_facts(org: Org) -> None:
    """A service that loads the item, lets a refresh run, then saves its copy must not put the
    facts it loaded back: whole-row saves leave the health columns to the refresh."""
    item = make_item(org, scenario=Scenario.EMERGENCY)
    stale_copy = CollaborationItem.objects.get(pk=item.pk)
    assert stale_copy.health_meeting is False
    schedule_meeting(org, item)  # refreshes: a meeting is now scheduled
    stale_copy.topic = "改个标题"
    stale_copy.save()
    stored = facts(item)
    assert stored["health_meeting"] is True
    assert CollaborationItem.objects.get(pk=item.pk).topic == "改个标题"
