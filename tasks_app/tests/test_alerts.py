"""Warnings and escalation walked through with frozen time across National Day 2026.

The task "提交测试计划" is due Fri 2026-10-09; execution starts Tue 2026-09-29 10:00 in Shanghai;
the item reports daily. National Day runs 10-01..10-07 and Sat 10-10 is a make-up workday.
"""

import threading
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connections

from collab.notify.models import Notification
from collab.org.models import Person, Region
from collab.testing import Org, make_org
from requests_app.models import CollaborationItem
from tasks_app import alerts, services, tracking_services
from tasks_app.models import Alert, AlertKind, Task, TaskStatus
from tasks_app.tests.support import executing_item, task_data

SHANGHAI = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def told(kind: str) -> list[tuple[str, str]]:
    return list(
        Notification.objects.filter(kind=kind).order_by("pk").values_list("recipient__username", "title")
    )


def sweep(moment: str) -> int:
    with time_machine.travel(at(moment), tick=False):
        return alerts.sweep_alerts()


@pytest.fixture
def item(org: Org) -> CollaborationItem:
    with time_machine.travel(at("2026-09-29 10:00"), tick=False):
        return executing_item(org)


def plan(task: Task) -> list[tuple[str, int, str]]:
    return [
        (a.kind, a.step, f"{a.due_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}")
        for a in Alert.objects.filter(task=task, sent_at=None, cancelled_at=None).order_by("due_at", "kind")
    ]


def test_execution_plans_warnings_on_working_days(org: Org, item: CollaborationItem) -> None:
    plan_task = Task.objects.get(item=item, name="提交测试计划")
    assert plan(plan_task) == [
        ("report_missing", 0, "2026-09-30 10:00"),
        ("due_soon", 0, "2026-10-08 10:00"),  # Thursday: the working day before Friday's deadline
        ("due_today", 0, "2026-10-09 09:00"),
        ("overdue", 0, "2026-10-10 09:00"),  # the make-up Saturday is a working day
    ]


def test_a_task_walks_from_warning_to_escalation(org: Org, item: CollaborationItem) -> None:
    task = Task.objects.get(item=item, name="提交测试计划")
    assert sweep("2026-09-30 09:59") == 0
    assert sweep("2026-09-30 10:05") == 2  # both tasks' first report is missing
    assert ("owner", "请汇报“提交测试计划”的进度") in told("alert.report_missing")
    # Nothing happens; one working day later (after the holiday) the coordinator hears of it.
    assert sweep("2026-10-07 18:00") == 0
    sweep("2026-10-08 10:06")
    assert ("owner", "“提交测试计划”明天（10月9日）到期") in told("alert.due_soon")
    assert any(who == "coordinator" and "吴杰" in title for who, title in told("alert.report_missing"))
    # The owner reports: the pending escalation to the department head is dropped.
    with time_machine.travel(at("2026-10-08 11:00"), tick=False):
        tracking_services.progress_report(
            actor=org.owner,
            task_id=task.pk,
            data=tracking_services.ReportData("in_progress", 60, "测试计划初稿完成"),
        )
    assert ("report_missing", 2) not in {(k, s) for k, s, _ in plan(task)}
    sweep("2026-10-09 09:01")
    assert ("owner", "“提交测试计划”今天到期") in told("alert.due_today")
    # Late on the make-up Saturday: the owner first, the coordinator a working day later
    # (Monday, skipping Sunday), then the owner's department head.
    sweep("2026-10-10 09:01")
    assert told("alert.overdue")[-1][0] == "owner"
    sweep("2026-10-12 09:02")
    overdue = told("alert.overdue")
    assert [who for who, _ in overdue].count("owner") == 2 and overdue[-1][0] in {"owner", "coordinator"}
    assert "coordinator" in [who for who, _ in overdue]
    sweep("2026-10-13 09:03")
    assert "qa_head" in [who for who, _ in told("alert.overdue")]


@pytest.mark.parametrize("status", [TaskStatus.DELIVERED, TaskStatus.DONE])
def test_a_delivered_or_done_task_is_left_alone(org: Org, item: CollaborationItem, status: str) -> None:
    """Its result is with the receiver (stage 5 sets these statuses): nothing to report or chase."""
    task = Task.objects.get(item=item, name="提交测试计划")
    Task.objects.filter(pk=task.pk).update(status=status)
    task.refresh_from_db()
    with time_machine.travel(at("2026-09-30 09:00"), tick=False):
        alerts.plan_alerts(task)
    assert plan(task) == []
    sweep("2026-10-13 12:00")
    assert not Notification.objects.filter(
        kind__startswith="alert.", recipient=org.owner, title__contains="提交测试计划"
    ).exists()


def test_a_moved_deadline_replans_cleanly(org: Org, item: CollaborationItem) -> None:
    task = Task.objects.get(item=item, name="提交测试计划")
    with time_machine.travel(at("2026-09-30 09:00"), tick=False):
        services.task_update(
            actor=org.coordinator,
            task_id=task.pk,
            version=task.version,
            data=task_data(org, deadline=date(2026, 10, 16)),
        )
    kinds = {(k, d) for k, _s, d in plan(task) if k != "report_missing"}
    assert kinds == {
        ("due_soon", "2026-10-15 10:00"),
        ("due_today", "2026-10-16 09:00"),
        ("overdue", "2026-10-19 09:00"),
    }
    sweep("2026-10-10 09:30")  # the old deadline's overdue warning is gone
    assert not told("alert.overdue")


def test_an_emergency_escalates_within_hours(org: Org) -> None:
    with time_machine.travel(at("2026-11-24 10:00"), tick=False):
        item = executing_item(org, scenario="emergency")
    task = Task.objects.get(item=item, name="提交测试计划")
    # Reports every 4 working hours: 10:00 + 4h with the 12:00-13:00 lunch break → 15:00.
    assert ("report_missing", 0, "2026-11-24 15:00") in plan(task)
    sweep("2026-11-24 15:01")
    assert ("report_missing", 1, "2026-11-24 17:01") in plan(task)


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_send_each_warning_once() -> None:
    org = make_org()
    with time_machine.travel(at("2026-09-29 10:00"), tick=False):
        executing_item(org)
    barrier = threading.Barrier(2)
    counts: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            counts.append(alerts.sweep_alerts(now=at("2026-10-08 10:30")))
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    notices = list(
        Notification.objects.filter(kind__startswith="alert.").values_list("dedupe_key", flat=True)
    )
    assert sum(counts) == len(notices) == len(set(notices)) > 0


def test_alerts_reach_people_only_while_executing(org: Org, item: Any) -> None:
    assert Alert.objects.filter(task__item=item).exists()
    assert all(a.deadline or a.kind == AlertKind.REPORT_MISSING for a in Alert.objects.all())


def test_a_report_made_at_night_is_next_due_in_working_hours(org: Org, item: CollaborationItem) -> None:
    task = Task.objects.get(item=item, name="提交测试计划")
    with time_machine.travel(at("2026-10-08 21:30"), tick=False):
        tracking_services.progress_report(
            actor=org.owner,
            task_id=task.pk,
            data=tracking_services.ReportData("in_progress", 40, "用例评审完成"),
        )
    # Daily cadence: not Friday 21:30 but the start of the next working period (the make-up Saturday).
    assert ("report_missing", 0, "2026-10-10 09:00") in plan(task)


def test_warnings_wait_for_a_region_whose_day_starts_later(org: Org) -> None:
    org.region.workday_start = time(9, 30)
    org.region.save()
    with time_machine.travel(at("2026-09-29 10:00"), tick=False):
        late_item = executing_item(org)
    task = Task.objects.get(item=late_item, name="提交测试计划")
    assert ("due_today", 0, "2026-10-09 09:30") in plan(task)
    assert ("overdue", 0, "2026-10-10 09:30") in plan(task)


def test_an_escalation_reaches_a_coordinator_abroad_in_their_working_hours(
    org: Org, item: CollaborationItem
) -> None:
    berlin = Region.objects.create(code="de", name="Berlin", timezone="Europe/Berlin", holiday_calendar="DE")
    Person.objects.filter(user=org.coordinator).update(region=berlin)
    task = Task.objects.get(item=item, name="提交测试计划")
    sweep("2026-09-30 10:05")  # the owner's first report is missing
    step = Alert.objects.get(
        task=task, kind=AlertKind.REPORT_MISSING, step=1, sent_at=None, cancelled_at=None
    )
    # One of the owner's working days (8 October, after National Day) at 10:00 Shanghai is 04:00
    # in Berlin: it reaches the coordinator when their day starts.
    assert step.due_at == datetime(2026, 10, 8, 9, tzinfo=ZoneInfo("Europe/Berlin"))
