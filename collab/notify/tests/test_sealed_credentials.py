"""Robot webhook addresses and secrets are encrypted at rest, with key rotation."""

import io
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from collab.lib.secretbox import SecretBoxError
from collab.notify.models import Delivery, RobotChannel
from collab.notify.services import notify
from collab.notify.tests.conftest import FakeRobots, Registered
from collab.testing import Org

pytestmark = pytest.mark.django_db

TOKEN = "tok5e3c4e7b9a1d2f60c8b7a6e5d4c3b2a1"
SECRET = "SEC9f8e7d6c5b4a39281706f5e4d3c2b1a0"


def stored(robot: RobotChannel) -> tuple[str, str]:
    """The columns as the database (a dump, a backup) holds them."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT webhook_url, secret FROM notify_robotchannel WHERE id = %s", [robot.pk])
        return cursor.fetchone()


def send(org: Org, event: str, capture: Any) -> None:
    with capture(execute=True):
        notify(recipients=[org.owner], kind="test", render=lambda: ("标题", "内容"), dedupe=event)


def test_an_admin_enters_a_robot_whose_credentials_are_stored_encrypted_and_still_sign(
    org: Org, robots: FakeRobots, django_capture_on_commit_callbacks: Any
) -> None:
    robots.robots[TOKEN] = Registered("dingtalk", SECRET, "")  # the group's robot, as the vendor knows it
    admin = Client()
    admin.force_login(get_user_model().objects.create_superuser("admin", "a@example.com", "x"))
    form = {
        "name": "测试部群",
        "kind": "dingtalk",
        "webhook_url": f"{robots.base}/robot/send?access_token={TOKEN}",
        "secret": SECRET,
        "keyword": "",
        "department": org.qa.pk,
        "active": "on",
    }
    assert admin.post(reverse("admin:notify_robotchannel_add"), form).status_code == 302
    robot = RobotChannel.objects.get()
    url, secret = stored(robot)
    assert url.startswith("fernet:") and secret.startswith("fernet:")
    assert TOKEN not in url and SECRET not in secret
    assert (robot.webhook_url, robot.secret) == (form["webhook_url"], SECRET)
    page = admin.get(reverse("admin:notify_robotchannel_change", args=[robot.pk])).text
    assert "access_token=tok5…b2a1" in page and TOKEN not in page and SECRET not in page

    send(org, "event-1", django_capture_on_commit_callbacks)
    assert robots.problems == [] and len(robots.received) == 1  # the signature checked out
    assert Delivery.objects.get(robot=robot).status == "sent"


def test_a_rotated_key_reads_through_the_fallback_until_resealed(
    org: Org, robots: FakeRobots, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.ENCRYPTION_KEY, settings.ENCRYPTION_KEY_FALLBACKS = "the old key material", []
    robot = robots.robot("dingtalk", TOKEN, secret=SECRET, department=org.qa)
    old_columns = stored(robot)

    settings.ENCRYPTION_KEY = "the new key material"
    with pytest.raises(SecretBoxError):
        RobotChannel.objects.get(pk=robot.pk)
    settings.ENCRYPTION_KEY_FALLBACKS = ["the old key material"]
    assert RobotChannel.objects.get(pk=robot.pk).secret == SECRET
    call_command("reseal_secrets", stdout=io.StringIO())
    new_columns = stored(robot)
    assert new_columns[0] != old_columns[0] and new_columns[1] != old_columns[1]

    settings.ENCRYPTION_KEY_FALLBACKS = []
    assert RobotChannel.objects.get(pk=robot.pk).secret == SECRET
    send(org, "event-2", django_capture_on_commit_callbacks)
    assert robots.problems == [] and len(robots.received) == 1
