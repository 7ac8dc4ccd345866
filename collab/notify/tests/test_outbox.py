"""The outbox: idempotency, retries with back-off, rate limits, claims, resends, credentials."""

import logging
import threading
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from collab.notify.delivery import deliveries_resend, deliveries_sweep, delivery_attempt, robot_timeout
from collab.notify.models import Delivery, RobotChannel
from collab.notify.services import notify
from collab.notify.tests.conftest import FakeRobots
from collab.testing import Org, make_org

pytestmark = pytest.mark.django_db

TOKEN = "tok5e3c4e7b9a1d2f60c8b7a6e5d4c3b2a1"
SECRET = "SEC9f8e7d6c5b4a39281706f5e4d3c2b1a0"
NINE = "2026-10-09 09:00 +0800"


def render() -> tuple[str, str]:
    return "标题", "内容"


def tell(org: Org, dedupe: str | None = "event-1", **kwargs: Any) -> None:
    notify(recipients=[org.owner], kind="test", render=render, dedupe=dedupe, **kwargs)


def robot_deliveries() -> list[tuple[str, int]]:
    return list(Delivery.objects.filter(channel="robot").values_list("status", "attempts"))


def test_the_same_event_twice_is_one_delivery_and_one_request(
    org: Org, robots: FakeRobots, django_capture_on_commit_callbacks: Any
) -> None:
    robots.robot("dingtalk", TOKEN, secret=SECRET, department=org.qa)
    for _attempt in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            tell(org)
    assert Delivery.objects.filter(channel="robot").count() == 1
    assert Delivery.objects.filter(channel="email").count() == 1
    assert len(robots.received) == 1 and len(mail.outbox) == 1
    assert deliveries_sweep() == {}
    assert len(robots.received) == 1


def test_a_vendor_error_is_retried_with_back_off(
    org: Org, robots: FakeRobots, django_capture_on_commit_callbacks: Any
) -> None:
    robots.robot("dingtalk", TOKEN, secret=SECRET, department=org.qa)
    robots.fail_next(2, "vendor")
    with time_machine.travel(NINE, tick=False) as clock:
        start = timezone.now()
        with django_capture_on_commit_callbacks(execute=True):
            tell(org)
        delivery = Delivery.objects.get(channel="robot")
        assert (delivery.status, delivery.attempts) == ("pending", 1)
        assert delivery.next_attempt_at == start + timedelta(minutes=1)
        assert delivery.last_error.startswith("dingtalk code 130101: send too fast")
        clock.shift(timedelta(seconds=59))
        deliveries_sweep()
        assert len(robots.received) == 1  # not yet due
        clock.shift(timedelta(seconds=1))
        deliveries_sweep()
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("pending", 2)
        assert delivery.next_attempt_at == start + timedelta(minutes=1 + 2)
        clock.shift(timedelta(minutes=2))
        deliveries_sweep()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 3, "")
    assert len(robots.received) == 3 and robots.problems == []


def test_an_http_error_is_retried(
    org: Org, robots: FakeRobots, django_capture_on_commit_callbacks: Any
) -> None:
    robots.robot(
        "feishu", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", secret="feishu-secret-1234", department=org.qa
    )
    robots.fail_next(1, "http500")
    with time_machine.travel(NINE, tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            tell(org)
        assert Delivery.objects.get(channel="robot").last_error == "HTTP 500"
        clock.shift(timedelta(minutes=1))
        assert deliveries_sweep() == {"sent": 1}
    assert robot_deliveries() == [("sent", 2)]


def test_back_off_doubles_up_to_its_cap(settings: Any) -> None:
    from collab.notify.delivery import backoff

    settings.COLLAB_DELIVERY_BACKOFF_CAP_MINUTES = 30
    assert [backoff(n).total_seconds() / 60 for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


def test_a_robot_takes_twenty_a_minute_and_the_rest_are_deferred_not_failed(
    org: Org, robots: FakeRobots, django_capture_on_commit_callbacks: Any
) -> None:
    robot = robots.robot("wecom", "693a91f6-7f0b-4bc4-97a0-0ec2a1fa5aaa", department=org.qa)
    with time_machine.travel(NINE, tick=False) as clock:
        start = timezone.now()
        for n in range(21):
            with django_capture_on_commit_callbacks(execute=True):
                tell(org, dedupe=f"event-{n}")
        assert len(robots.received) == 20
        [waiting] = Delivery.objects.filter(robot=robot).exclude(status="sent")
        assert (waiting.status, waiting.attempts, waiting.last_error) == ("pending", 0, "")
        assert waiting.next_attempt_at == start + timedelta(minutes=1)
        clock.shift(timedelta(seconds=30))
        assert deliveries_sweep() == {}
        assert len(robots.received) == 20
        clock.shift(timedelta(seconds=30))
        assert deliveries_sweep() == {"sent": 1}
    assert len(robots.received) == 21
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


def test_the_limit_is_per_robot(org: Org, robots: FakeRobots, settings: Any) -> None:
    settings.COLLAB_ROBOT_RATE_LIMIT_PER_MINUTE = 1
    robots.robot("wecom", "693a91f6-7f0b-4bc4-97a0-0ec2a1fa5aaa", department=org.qa)
    robots.robot("wecom", "11111111-2222-3333-4444-555555555555", department=org.qa)
    tell(org, dedupe="first")
    tell(org, dedupe="second")
    with time_machine.travel(timezone.now() + timedelta(seconds=1), tick=False):
        assert deliveries_sweep() == {"sent": 4, "deferred": 2}  # two e-mails and one post per robot


def test_a_channel_down_for_good_ends_failed_in_the_admin_and_resend_delivers(
    org: Org, robots: FakeRobots, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.COLLAB_DELIVERY_MAX_ATTEMPTS = 3
    robots.robot("dingtalk", TOKEN, secret=SECRET, department=org.qa)
    robots.fail_next(3, "http500")
    with time_machine.travel(NINE, tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            tell(org)
        for minutes in (1, 2):
            clock.shift(timedelta(minutes=minutes))
            deliveries_sweep()
        clock.shift(timedelta(hours=5))
        assert deliveries_sweep() == {}
    assert robot_deliveries() == [("failed", 3)]
    failed = Delivery.objects.get(channel="robot")

    admin = admin_client(org)
    page = admin.get(reverse("admin:notify_delivery_changelist") + "?status__exact=failed")
    assert page.status_code == 200 and f'value="{failed.pk}"' in page.text and "HTTP 500" in page.text
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            reverse("admin:notify_delivery_changelist"),
            {"action": "resend", "_selected_action": [failed.pk]},
        )
    assert response.status_code == 302
    assert robot_deliveries() == [("sent", 1)]
    assert len(robots.received) == 4 and robots.problems == []


def test_resend_leaves_sent_deliveries_alone(org: Org, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        tell(org)
    delivery = Delivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        assert deliveries_resend(delivery_ids=[delivery.pk]) == []
    assert len(mail.outbox) == 1


def test_a_claim_left_by_a_crashed_worker_is_taken_again(org: Org) -> None:
    tell(org)
    with time_machine.travel(NINE, tick=False) as clock:
        Delivery.objects.update(status="sending", attempts=1, last_attempt_at=timezone.now())
        assert deliveries_sweep() == {}
        clock.shift(timedelta(minutes=5))
        assert deliveries_sweep() == {"sent": 1}
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert len(mail.outbox) == 1


def test_a_dead_workers_claim_is_retaken_after_two_minutes_and_requests_end_before_it(
    org: Org, settings: Any
) -> None:
    settings.COLLAB_ROBOT_TIMEOUT_SECONDS = 300
    assert robot_timeout() == 40  # a third of the two-minute lease: a live request ends first
    tell(org)
    with time_machine.travel(NINE, tick=False) as clock:
        Delivery.objects.update(status="sending", attempts=1, last_attempt_at=timezone.now())
        clock.shift(timedelta(seconds=119))
        assert deliveries_sweep() == {}
        clock.shift(timedelta(seconds=2))
        assert deliveries_sweep() == {"sent": 1}
    assert len(mail.outbox) == 1


def test_a_sweep_sends_nothing_that_is_not_due(org: Org) -> None:
    tell(org)
    Delivery.objects.update(next_attempt_at=timezone.now() + timedelta(minutes=5))
    assert deliveries_sweep() == {}
    assert delivery_attempt(delivery_id=Delivery.objects.get().pk) == "skipped"
    assert mail.outbox == []


def test_credentials_never_reach_errors_logs_or_admin_pages(
    org: Org, robots: FakeRobots, caplog: Any, django_capture_on_commit_callbacks: Any
) -> None:
    robot = robots.robot("dingtalk", TOKEN, secret=SECRET, department=org.qa, name="测试部工作群")
    # A robot whose server is gone: the connection is refused.
    gone = RobotChannel.objects.create(
        kind="wecom",
        name="已解散的群",
        webhook_url=f"http://127.0.0.1:9/cgi-bin/webhook/send?key={TOKEN}x",
        department=org.qa,
    )
    robots.fail_next(1, "vendor")  # the fake vendor echoes the token in its error message
    caplog.set_level(logging.DEBUG)
    with django_capture_on_commit_callbacks(execute=True):
        tell(org)
    errors = dict(Delivery.objects.filter(channel="robot").values_list("robot__name", "last_error"))
    assert errors["测试部工作群"] == "dingtalk code 130101: send too fast, token …"
    assert "Connection refused" in errors["已解散的群"]

    admin = admin_client(org)
    pages = [
        admin.get(reverse("admin:notify_delivery_changelist")),
        admin.get(reverse("admin:notify_robotchannel_changelist")),
        admin.get(reverse("admin:notify_robotchannel_change", args=[robot.pk])),
        admin.get(reverse("admin:notify_robotchannel_change", args=[gone.pk])),
        *(
            admin.get(reverse("admin:notify_delivery_change", args=[pk]))
            for pk in Delivery.objects.values_list("pk", flat=True)
        ),
    ]
    assert all(page.status_code == 200 for page in pages)
    assert "access_token=tok5…b2a1" in pages[1].text and "key=tok5…2a1x" in pages[1].text  # masked
    for text in (
        [page.text for page in pages] + [r.getMessage() for r in caplog.records] + list(errors.values())
    ):
        assert TOKEN not in text and SECRET not in text and SECRET[3:] not in text


def test_the_admin_keeps_stored_credentials_when_the_fields_are_left_empty(
    org: Org, robots: FakeRobots
) -> None:
    robot = robots.robot("dingtalk", TOKEN, secret=SECRET, department=org.qa)
    admin = admin_client(org)
    url = reverse("admin:notify_robotchannel_change", args=[robot.pk])
    form = {
        "name": "研发群",
        "kind": "dingtalk",
        "webhook_url": "",
        "secret": "",
        "keyword": "",
        "department": org.rnd.pk,
    }
    form["active"] = "on"
    assert admin.post(url, form).status_code == 302
    robot.refresh_from_db()
    assert (robot.name, robot.webhook_url.endswith(TOKEN), robot.secret) == ("研发群", True, SECRET)
    refused = admin.post(url, {**form, "secret": "not-a-dingtalk-secret"})
    assert refused.status_code == 200 and "SEC" in refused.text
    assert admin.post(url, {**form, "clear_secret": "on"}).status_code == 302
    robot.refresh_from_db()
    assert robot.secret == ""


def admin_client(org: Org) -> Any:
    from django.test import Client

    user = get_user_model().objects.create_superuser("admin", "admin@example.com", "x")
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_send_each_message_exactly_once(robots: FakeRobots) -> None:
    org = make_org()
    first = robots.robot("wecom", "693a91f6-7f0b-4bc4-97a0-0ec2a1fa5aaa", department=org.qa)
    second = robots.robot("dingtalk", TOKEN, secret=SECRET, department=org.qa)
    now = timezone.now()
    # Rows written directly: in autocommit, notify() would deliver at once after its commit.
    for n in range(15):
        for robot in (first, second):
            Delivery.objects.create(
                channel="robot", robot=robot, event=f"e{n}", title=f"{robot.kind}-{n}", next_attempt_at=now
            )
    start = threading.Barrier(2)
    outcomes: list[dict[str, int]] = []

    def sweep() -> None:
        try:
            start.wait()
            outcomes.append(deliveries_sweep())
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    titles = sorted(b["text"]["content"].split("\n")[0] for b in robots.bodies("wecom"))
    titles += sorted(b["markdown"]["title"] for b in robots.bodies("dingtalk"))
    assert len(titles) == 30 and len(set(titles)) == 30
    assert sum(o.get("sent", 0) for o in outcomes) == 30
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    assert robots.problems == []


def test_emergencies_take_a_busy_robots_free_slots_first(org: Org, robots: FakeRobots, settings: Any) -> None:
    settings.COLLAB_ROBOT_RATE_LIMIT_PER_MINUTE = 1
    robots.robot("wecom", "693a91f6-7f0b-4bc4-97a0-0ec2a1fa5aaa", department=org.qa)
    notify(recipients=[org.owner], kind="test", render=lambda: ("日常", ""), dedupe="normal")
    notify(
        recipients=[org.owner], kind="test", render=lambda: ("紧急", ""), dedupe="instant", urgency="instant"
    )
    deliveries_sweep()
    [body] = robots.bodies()
    assert body["text"]["content"].startswith("紧急")


def test_a_sweep_stops_when_its_time_is_up_and_the_next_carries_on(org: Org) -> None:
    tell(org, dedupe="first")
    tell(org, dedupe="second")
    assert deliveries_sweep(budget_seconds=-1) == {}
    assert deliveries_sweep() == {"sent": 2}
