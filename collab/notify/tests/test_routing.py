"""The scenario decides the channel; each person's preferences decide what reaches them."""

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from django.utils.translation import gettext as _

from collab.notify.models import Delivery, Notification, RobotChannel
from collab.notify.selectors import digest_recipients, notifications_for_digest
from collab.notify.services import notifications_mark_digested, notify, preference_update, urgency_for_item
from collab.notify.tests.conftest import FakeRobots
from collab.org.models import Person
from collab.testing import Org, make_item
from requests_app.models import Scenario

pytestmark = pytest.mark.django_db


def render() -> tuple[str, str]:
    return _("Notifications"), "body"


@pytest.fixture
def groups(org: Org, robots: FakeRobots) -> dict[str, RobotChannel]:
    """A robot per kind of binding: the item's own group, QA's, Finance's and the company's."""
    item = make_item(org)
    return {
        "item": robots.robot("feishu", "item-hook-0123456789abcdef", item=item, name="item"),
        "qa": robots.robot("dingtalk", "qa-token-0123456789abcdef", department=org.qa, name="qa"),
        "finance": robots.robot(
            "wecom", "finance-key-0123456789abcdef", department=org.finance, name="finance"
        ),
        "company": robots.robot("wecom", "company-key-0123456789abcdef", name="company"),
    }


def tell(org: Org, groups: dict[str, RobotChannel], urgency: str, capture: Any) -> None:
    with capture(execute=True):
        notify(
            recipients=[org.owner, org.collaborator],
            kind="test",
            render=render,
            item=groups["item"].item,
            urgency=urgency,
        )


def posted() -> set[str]:
    return set(Delivery.objects.filter(channel="robot", status="sent").values_list("robot__name", flat=True))


def test_an_emergency_goes_to_every_instant_channel_at_once(
    org: Org, groups: dict[str, RobotChannel], robots: FakeRobots, django_capture_on_commit_callbacks: Any
) -> None:
    tell(org, groups, "instant", django_capture_on_commit_callbacks)
    assert posted() == {"item", "qa", "company"}  # not Finance: nobody there is concerned
    assert len(robots.received) == 3 and robots.problems == []
    assert sorted(m.to[0] for m in mail.outbox) == ["collaborator@example.com", "owner@example.com"]


def test_a_normal_matter_goes_to_the_item_and_departments_groups_and_by_email(
    org: Org, groups: dict[str, RobotChannel], django_capture_on_commit_callbacks: Any
) -> None:
    tell(org, groups, "normal", django_capture_on_commit_callbacks)
    assert posted() == {"item", "qa"}
    assert len(mail.outbox) == 2


def test_a_routine_matter_waits_for_the_digest(
    org: Org, groups: dict[str, RobotChannel], robots: FakeRobots, django_capture_on_commit_callbacks: Any
) -> None:
    since = timezone.now() - timedelta(minutes=1)
    tell(org, groups, "digest", django_capture_on_commit_callbacks)
    # (The item's own submission told its coordinator before: only this event counts here.)
    assert Delivery.objects.filter(notification__kind="test").count() == 0
    assert robots.received == [] and mail.outbox == []
    assert Notification.objects.filter(recipient=org.owner, read_at=None).count() == 1  # in the app now
    assert list(digest_recipients(since=since)) == [org.owner, org.collaborator]
    waiting = list(notifications_for_digest(recipient=org.owner, since=since))
    assert [n.urgency for n in waiting] == ["digest"]
    assert (
        list(notifications_for_digest(recipient=org.owner, since=timezone.now() + timedelta(seconds=1))) == []
    )
    assert notifications_mark_digested(notification_ids=[n.pk for n in waiting]) == 1
    assert (
        notifications_mark_digested(notification_ids=[n.pk for n in waiting]) == 0
    )  # a second run claims nothing
    assert list(notifications_for_digest(recipient=org.owner, since=since)) == []
    assert list(digest_recipients(since=since)) == [org.collaborator]


def test_a_person_who_turned_email_off_gets_none(
    org: Org, groups: dict[str, RobotChannel], django_capture_on_commit_callbacks: Any
) -> None:
    preference_update(user=org.owner, email=False, robot_mentions=True, routine_digest=True)
    tell(org, groups, "instant", django_capture_on_commit_callbacks)
    assert [m.to for m in mail.outbox] == [["collaborator@example.com"]]
    tell(org, groups, "digest", django_capture_on_commit_callbacks)
    assert list(digest_recipients(since=timezone.now() - timedelta(minutes=1))) == [org.collaborator]


def test_a_person_who_turned_the_digest_off_gets_routine_matters_at_once(
    org: Org, groups: dict[str, RobotChannel], robots: FakeRobots, django_capture_on_commit_callbacks: Any
) -> None:
    preference_update(user=org.collaborator, email=True, robot_mentions=True, routine_digest=False)
    tell(org, groups, "digest", django_capture_on_commit_callbacks)
    assert [m.to for m in mail.outbox] == [["collaborator@example.com"]]
    assert Notification.objects.get(recipient=org.collaborator).urgency == "normal"
    assert robots.received == []  # routine matters never go to groups


def test_a_person_who_turned_mentions_off_is_not_mentioned(
    org: Org, groups: dict[str, RobotChannel], robots: FakeRobots, django_capture_on_commit_callbacks: Any
) -> None:
    Person.objects.filter(user=org.owner).update(phone="13800000001")
    Person.objects.filter(user=org.collaborator).update(phone="13800000002")
    preference_update(user=org.owner, email=True, robot_mentions=False, routine_digest=True)
    tell(org, groups, "normal", django_capture_on_commit_callbacks)
    [qa_post] = robots.bodies("dingtalk")
    assert qa_post["at"]["atMobiles"] == []  # the owner is QA's only recipient, and opted out
    [item_post] = robots.bodies("feishu")
    assert str(item_post).count("@") == 1 and "孙磊" in str(item_post)


def test_a_switched_off_robot_hears_nothing(
    org: Org, groups: dict[str, RobotChannel], django_capture_on_commit_callbacks: Any
) -> None:
    RobotChannel.objects.update(active=False)
    tell(org, groups, "instant", django_capture_on_commit_callbacks)
    assert not Delivery.objects.filter(channel="robot").exists()


def test_a_robot_switched_off_after_queueing_fails_visibly(
    org: Org, groups: dict[str, RobotChannel], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify(recipients=[org.owner], kind="test", render=render, item=groups["item"].item)
    RobotChannel.objects.update(active=False)
    for callback in callbacks:
        callback()
    assert set(Delivery.objects.filter(channel="robot").values_list("status", flat=True)) == {"failed"}


@pytest.mark.parametrize(
    ("scenario", "urgency"),
    [
        (Scenario.EMERGENCY, "instant"),
        (Scenario.ROUTINE_SYNC, "digest"),
        (Scenario.CROSS_DEPARTMENT, "normal"),
        (Scenario.CROSS_REGION, "normal"),
    ],
)
def test_the_scenario_sets_the_urgency(org: Org, scenario: str, urgency: str) -> None:
    assert urgency_for_item(make_item(org, submit=False, scenario=scenario)) == urgency


def test_no_item_is_normal_and_an_unknown_urgency_is_refused(org: Org) -> None:
    assert urgency_for_item(None) == "normal"
    with pytest.raises(ValueError, match="urgency"):
        notify(recipients=[org.owner], kind="test", render=render, urgency="asap")
