"""A real worker killed (SIGKILL) while a slow robot is answering: the message reaches the group
at least once and at most twice, never three times, which is what the README promises.

A real local DingTalk robot takes the request and answers a second later; the test kills the
worker in that second. The vendor has the message, the row still says "sending". After the
delivery lease (``COLLAB_DELIVERY_SENDING_TIMEOUT_SECONDS``, six seconds here, so the robot's
timeout is two) a second worker's sweep (the beat task, sent through the broker as beat does
every minute) takes the row back and sends it again: the second copy the README warns about.
Later sweeps leave the sent row alone. A DingTalk group robot accepts no idempotency key, so the
group sees both copies.

Feishu's application messages accept one (``uuid``, kept by Feishu for an hour): the same
killing there sends the request twice with the same key, and the person reads the message once.
"""

import os
import re
import sys
import time
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from collab.celery import app
from collab.movein.tests.test_personal_messages import linked
from collab.movein.tests.vendors import FakeDirectory, directory_server
from collab.notify.models import Delivery
from collab.notify.services import notify
from collab.notify.tests.conftest import FakeRobots
from collab.testing import Worker, celery_worker, make_org

LEASE_SECONDS = 6
__all__ = ["directory_server"]  # the local DingTalk/Feishu/WeCom application servers, as a fixture


def worker_env() -> dict[str, str]:
    return dict(os.environ) | {"COLLAB_DELIVERY_SENDING_TIMEOUT_SECONDS": str(LEASE_SECONDS)}


def wait_until(condition: Any, worker: Worker, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert worker.poll() is None, "the worker stopped"
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {seconds} s")
        time.sleep(0.05)


def sweeps_done(worker: Worker) -> int:
    return len(re.findall(r"Task notify\.sweep_deliveries\[[^]]+\] succeeded", worker.output(200_000)))


def sweep_after_the_lease(row: Delivery, worker: Worker) -> None:
    """Sends beat's sweep once the row's claim is older than the lease; waits until it ran."""
    row.refresh_from_db()
    assert row.last_attempt_at is not None
    time.sleep(max(row.last_attempt_at.timestamp() + LEASE_SECONDS + 0.5 - timezone.now().timestamp(), 0))
    before = sweeps_done(worker)
    app.send_task("notify.sweep_deliveries")
    wait_until(lambda: sweeps_done(worker) > before, worker, 60, "the sweep did not run")


def test_a_worker_killed_while_the_robot_answers_sends_the_message_at_most_twice(
    transactional_db: Any, robots: FakeRobots
) -> None:
    org = make_org()
    robots.robot("dingtalk", "dt-token-0123456789abcdef", name="全公司")
    robots.delay = 1.0

    with celery_worker(sys.executable, worker_env()) as first:
        notify(
            recipients=[org.coordinator],
            kind="test",
            render=lambda: ("风险:接口不稳定", "吴杰: 接口不稳定"),
            url="/items/7/",
            urgency="instant",
        )
        row = Delivery.objects.get(robot__isnull=False)
        wait_until(robots.arrived.is_set, first, 120, "the robot got no request")
        first.kill()  # the robot has the message and has not answered yet
    row.refresh_from_db()
    assert row.status == Delivery.Status.SENDING and row.attempts == 1
    assert len(robots.bodies("dingtalk")) == 1

    with celery_worker(sys.executable, worker_env(), purge=False) as second:
        sweep_after_the_lease(row, second)
        row.refresh_from_db()
        assert row.status == Delivery.Status.SENT and row.attempts == 2
        # Later sweeps, after another lease, leave the sent message alone.
        sweep_after_the_lease(row, second)

    row.refresh_from_db()
    assert row.status == Delivery.Status.SENT and row.attempts == 2
    assert robots.problems == []
    first_copy, second_copy = robots.bodies("dingtalk")  # at least once, at most twice
    assert first_copy == second_copy


def test_a_worker_killed_while_feishu_answers_sends_twice_with_one_key_and_the_person_reads_it_once(
    transactional_db: Any, directory_server: FakeDirectory
) -> None:
    linked(directory_server, "feishu")
    zhao = get_user_model().objects.get(person__source_user_id="zhao")
    directory_server.delay = 1.0

    with celery_worker(sys.executable, worker_env()) as first:
        notify(
            recipients=[zhao],
            kind="task.assigned",
            render=lambda: ("你负责的任务：提交测试计划", "截止时间 2026-10-09"),
            url="/items/7/",
        )
        row = Delivery.objects.get(channel=Delivery.Channel.IM)
        wait_until(directory_server.arrived.is_set, first, 120, "Feishu got no message")
        first.kill()
    row.refresh_from_db()
    assert row.status == Delivery.Status.SENDING

    with celery_worker(sys.executable, worker_env(), purge=False) as second:
        sweep_after_the_lease(row, second)
        sweep_after_the_lease(row, second)

    row.refresh_from_db()
    assert row.status == Delivery.Status.SENT and row.attempts == 2
    (_v1, first_copy), (_v2, second_copy) = directory_server.message_bodies
    assert first_copy["uuid"] == second_copy["uuid"] != ""
    assert directory_server.messages == [
        ("feishu", "zhao", "你负责的任务：提交测试计划", "http://127.0.0.1:8000/items/7/")
    ]
