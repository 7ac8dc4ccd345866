from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from collab.audit.texts import Text
from collab.notify.delivery import deliveries_sweep, delivery_attempt
from collab.notify.models import Delivery, Notification, RobotChannel
from collab.notify.services import Event, notify, notify_all
from collab.notify.tasks import deliver
from collab.testing import Org, client_for, make_person

pytestmark = pytest.mark.django_db


def render() -> tuple[str, str]:
    return _("Notifications"), "body"


def test_each_person_reads_it_in_their_own_language(org: Org) -> None:
    alice = make_person("alice", org.qa, name="Alice Smith", language="en")
    notify(recipients=[org.owner, alice], kind="test", render=render)
    titles = dict(Notification.objects.values_list("recipient__username", "title"))
    assert titles == {"owner": "通知", "alice": "Notifications"}


def test_many_events_cost_the_queries_of_two(org: Org) -> None:
    """The warning sweep tells thousands at once: stored, e-mailed and posted to a department's
    group robot in the same queries for 2 events or 30, each person in their own language; told
    again, nothing more is stored."""
    RobotChannel.objects.create(
        kind="dingtalk",
        name="测试部工作群",
        webhook_url="https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef",
        department=org.qa,
    )
    alice = make_person("alice", org.qa, name="Alice Smith", language="en")

    def text() -> tuple[Text, Text]:
        return Text("Notifications"), Text("%(name)s", name="QA")

    counts = []
    for count in (2, 30):
        events = [Event([org.owner, alice], "test", text, dedupe=f"{count}-{n}") for n in range(count)]
        with CaptureQueriesContext(connection) as queries:
            assert len(notify_all(events)) == 2 * count
        counts.append(len(queries))
        assert notify_all(events) == []
    assert counts[0] == counts[1]
    assert set(Notification.objects.values_list("recipient__username", "title")) == {
        ("owner", "通知"),
        ("alice", "Notifications"),
    }
    assert Delivery.objects.filter(channel="email").count() == 64
    assert Delivery.objects.filter(channel="robot").count() == 32  # one post per event


def test_the_same_event_reaches_a_person_once(org: Org) -> None:
    for _attempt in range(3):
        notify(recipients=[org.owner, org.owner], kind="test", render=render, dedupe="event-1")
    assert Notification.objects.count() == 1


def test_an_email_is_sent_once_however_often_the_job_runs(
    org: Org, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        [notification] = notify(recipients=[org.owner], kind="test", render=render, url="/register/")
    assert len(mail.outbox) == 1
    assert (
        mail.outbox[0].to == ["owner@example.com"]
        and "http://127.0.0.1:8000/register/" in mail.outbox[0].body
    )
    [delivery] = Delivery.objects.filter(notification=notification)
    assert delivery_attempt(delivery_id=delivery.pk) == "skipped"
    deliver.delay([delivery.pk, delivery.pk])
    assert deliveries_sweep() == {}
    assert len(mail.outbox) == 1


def test_a_failed_email_is_released_for_a_retry(
    org: Org, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    working = settings.MAILERS
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9},
        }
    }
    with time_machine.travel("2026-10-09 09:00 +0800", tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            [notification] = notify(recipients=[org.owner], kind="test", render=render)
        delivery = Delivery.objects.get(notification=notification)
        assert (delivery.status, delivery.attempts, delivery.sent_at) == ("pending", 1, None)
        assert delivery.next_attempt_at == timezone.now() + timedelta(minutes=1)
        assert "ConnectionRefusedError" in delivery.last_error
    settings.MAILERS = working
    with time_machine.travel("2026-10-09 09:01 +0800", tick=False):
        assert deliveries_sweep() == {"sent": 1}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 2, "")
    assert [m.to for m in mail.outbox] == [["owner@example.com"]]


def test_the_notification_centre_shows_and_opens_ones_own(org: Org) -> None:
    [mine] = notify(recipients=[org.owner], kind="test", render=render, url="/register/")
    [theirs] = notify(recipients=[org.outsider], kind="test", render=render)
    client = client_for(org.owner)
    page = client.get(reverse("notify:list"))
    assert list(page.context["notifications"]) == [mine]
    assert page.context["unread_notifications"] == 1
    opened = client.post(reverse("notify:open", args=[mine.pk]))
    assert opened.status_code == 302 and opened["Location"] == "/register/"
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert client.post(reverse("notify:open", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("notify:open", args=[mine.pk])).status_code == 405


def test_mark_all_read(org: Org) -> None:
    notify(recipients=[org.owner], kind="a", render=render)
    notify(recipients=[org.owner], kind="b", render=render)
    client = client_for(org.owner)
    client.post(reverse("notify:read_all"))
    assert not Notification.objects.filter(read_at=None).exists()
    assert Client().get(reverse("notify:list")).status_code == 302
