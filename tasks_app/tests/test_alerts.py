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
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from collab.notify.models import Delivery, Notification, RobotChannel
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


# A warning of every kind and rung, one per new task: (kind, step).
RUNGS = [
    (AlertKind.OVERDUE, 0),
    (AlertKind.OVERDUE, 1),
    (AlertKind.OVERDUE, 2),
    (AlertKind.REPORT_MISSING, 0),
    (AlertKind.REPORT_MISSING, 1),
    (AlertKind.REPORT_MISSING, 2),
    (AlertKind.DUE_TODAY, 0),
]


def due_warnings(org: Org, item: CollaborationItem, count: int, *, label: str) -> list[Alert]:
    """A delivered task (its warning is no longer true) and ``count`` tasks of the executing item
    owned in turn by four people, with a warning each, every rung in turn, all due on Monday
    12 October at 08:00."""
    owners = [org.owner, org.collaborator, org.requester, org.qa_head]
    tasks = Task.objects.bulk_create(
        Task(
            item=item,
            name=f"{label}任务{number}",
            owner=owners[number % len(owners)],
            delivery_standard="用例覆盖率≥95%",
            deadline=date(2026, 10, 9),
            receiver=org.receiver,
            department=org.qa,
            created_by=org.coordinator,
            status=TaskStatus.DELIVERED if number == 0 else TaskStatus.IN_PROGRESS,
        )
        for number in range(count + 1)
    )
    return Alert.objects.bulk_create(
        Alert(
            task=task,
            kind=RUNGS[number % len(RUNGS)][0],
            step=RUNGS[number % len(RUNGS)][1],
            deadline=task.deadline,
            due_at=at("2026-10-12 08:00"),
        )
        for number, task in enumerate(tasks)
    )


def test_a_sweep_costs_the_same_queries_for_7_or_49_warnings(org: Org, item: CollaborationItem) -> None:
    """Claim, load, re-check, notify (e-mails and a group robot) and plan the next rungs of every
    rung of the ladder in a number of queries that does not grow with the warnings. (On SQLite an
    INSERT carries at most 999 values: about 60 rows, so bigger batches take an INSERT per 60.)"""
    RobotChannel.objects.create(
        kind="dingtalk",
        name="测试部工作群",
        webhook_url="https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef",
        department=org.qa,
    )
    Alert.objects.update(cancelled_at=at("2026-09-29 10:00"))  # only the warnings below are due
    counts, sent = [], []
    for count in (len(RUNGS), 7 * len(RUNGS)):
        warnings = due_warnings(org, item, count, label=str(count))
        with CaptureQueriesContext(connection) as queries:
            sent.append(sweep("2026-10-12 09:30"))
        counts.append(len(queries))
        assert not Alert.objects.filter(pk__in=[w.pk for w in warnings], sent_at=None, cancelled_at=None)
    assert sent == [7, 49]  # each delivered task's warning was cancelled, not sent
    assert counts[0] == counts[1]
    assert Notification.objects.filter(kind__startswith="alert.").count() == 56
    assert Delivery.objects.filter(channel="robot").exists()
    # The next rungs: overdue every working morning, escalations one working day later.
    assert (
        Alert.objects.filter(sent_at=None, cancelled_at=None, due_at__gt=at("2026-10-12 09:30")).count() > 0
    )


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_through_a_backlog_send_each_warning_once() -> None:
    """Small batches, so both sweeps claim rows over and over while the other one is at work."""
    org = make_org()
    with time_machine.travel(at("2026-09-29 10:00"), tick=False):
        item = executing_item(org)
    warnings = due_warnings(org, item, 40, label="积压")
    barrier = threading.Barrier(2)
    counts: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            counts.append(alerts.sweep_alerts(now=at("2026-10-12 09:30"), batch_size=4))
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
    assert sum(counts) == len(notices) == len(set(notices))
    ours = {f"alert:{w.pk}" for w in warnings[1:]}  # the first task is delivered: cancelled
    assert ours <= {key.rsplit(":", 1)[0] for key in notices}
    assert not Alert.objects.filter(pk__in=[w.pk for w in warnings], sent_at=None, cancelled_at=None)
