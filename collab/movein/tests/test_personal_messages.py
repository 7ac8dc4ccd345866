"""Personal work notifications (DingTalk 工作通知, Feishu bot messages, WeCom app messages) via the outbox."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from collab.movein import services
from collab.movein.tests.vendors import AGENT_ID, APP_ID, APP_SECRET, FakeDirectory
from collab.notify.delivery import deliveries_sweep
from collab.notify.models import Delivery
from collab.notify.services import notify, preference_update
from collab.org.models import DirectorySource

pytestmark = pytest.mark.django_db


def linked(fake: FakeDirectory, kind: str) -> DirectorySource:
    source = DirectorySource.objects.create(
        kind=kind, name=kind, base_url=fake.bases[kind], app_id=APP_ID, agent_id=str(AGENT_ID)
    )
    services.directory_source_set_secret(actor=None, source=source, secret=APP_SECRET)
    services.directory_apply(source=source)
    return source


@pytest.fixture
def tell(django_capture_on_commit_callbacks: Any) -> Callable[[object], None]:
    """Tells a person of one event and runs what the outbox does after commit (eager Celery)."""

    def told(user: object) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            notify(
                recipients=[user],
                kind="task.assigned",
                render=lambda: ("你负责的任务：提交测试计划", "截止时间 2026-10-09"),
                url="/items/7/",
                dedupe="task.assigned:1",
            )

    return told


@pytest.mark.parametrize("kind", ["dingtalk", "feishu", "wecom"])
def test_a_synced_person_gets_a_personal_message_whose_link_opens_the_item(
    directory_server: FakeDirectory, kind: str, tell: Any
) -> None:
    linked(directory_server, kind)
    zhao = get_user_model().objects.get(person__source_user_id="zhao")

    tell(zhao)
    tell(zhao)  # the same event again: nobody is told twice

    assert directory_server.messages == [
        (kind, "zhao", "你负责的任务：提交测试计划", f"{settings.COLLAB_BASE_URL}/items/7/")
    ]
    delivery = Delivery.objects.get(channel=Delivery.Channel.IM)
    assert delivery.status == Delivery.Status.SENT


def test_people_who_turned_it_off_or_are_not_linked_get_no_message(
    directory_server: FakeDirectory, org: Any, tell: Any
) -> None:
    linked(directory_server, "wecom")
    zhao = get_user_model().objects.get(person__source_user_id="zhao")
    preference_update(user=zhao, email=True, robot_mentions=True, routine_digest=True, im_messages=False)

    tell(zhao)
    tell(org.owner)

    assert directory_server.messages == []
    assert not Delivery.objects.filter(channel=Delivery.Channel.IM).exists()


def test_a_vendor_failure_is_retried_by_the_sweep(directory_server: FakeDirectory, tell: Any) -> None:
    linked(directory_server, "dingtalk")
    zhao = get_user_model().objects.get(person__source_user_id="zhao")
    directory_server.failures = [("asyncsend_v2", 60020)]

    tell(zhao)

    delivery = Delivery.objects.get(channel=Delivery.Channel.IM)
    assert delivery.status == Delivery.Status.PENDING
    assert "60020" in delivery.last_error and APP_SECRET not in delivery.last_error
    assert directory_server.messages == []

    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert deliveries_sweep() == {"sent": 1}
    assert [m[1] for m in directory_server.messages] == ["zhao"]
