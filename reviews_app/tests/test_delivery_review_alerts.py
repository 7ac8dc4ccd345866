"""The one-working-day review deadline, its reminder and its escalation, with frozen time.

National Day 2026 runs Thu 10-01 .. Wed 10-07; a deliverable submitted Wed 09-30 15:00 is due
for review Thu 10-08 15:00, the receiver is reminded at 13:00 that day (two working hours before)
and the receiver's department head (张敏, head of Product) hears of it when it passes.
"""

from typing import Any

import pytest
import time_machine
from celery.schedules import crontab
from django.core import mail

from collab.notify.models import Notification
from collab.schedules import BEAT_SCHEDULE
from collab.testing import Org
from requests_app.models import CollaborationItem
from reviews_app import review_alerts
from reviews_app.models import Deliverable, DeliverableVersion
from reviews_app.tasks import sweep_reviews_task
from reviews_app.tests.delivery_support import accept, at, plan_task, started_item, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(org: Org) -> CollaborationItem:
    return started_item(org)


@pytest.fixture
def deliverable(org: Org, item: CollaborationItem) -> Deliverable:
    with time_machine.travel(at("2026-09-30 15:00"), tick=False):
        return submit(org, plan_task(item))


def sweep(moment: str) -> int:
    with time_machine.travel(at(moment), tick=False):
        return review_alerts.sweep_reviews()


def told(kind: str) -> list[str]:
    return list(
        Notification.objects.filter(kind=kind).order_by("pk").values_list("recipient__username", flat=True)
    )


def test_the_review_is_due_one_working_day_after_submission_across_national_day(
    deliverable: Deliverable,
) -> None:
    version = DeliverableVersion.objects.get(deliverable=deliverable)
    assert version.review_due_at == at("2026-10-08 15:00")


def test_a_deliverable_submitted_at_night_is_due_in_the_receivers_working_hours(
    org: Org, item: CollaborationItem
) -> None:
    with time_machine.travel(at("2026-09-29 21:30"), tick=False):
        night = submit(org, plan_task(item))
    version = DeliverableVersion.objects.get(deliverable=night)
    # Not Wednesday 21:30 but the start of the next working period after it.
    assert version.review_due_at == at("2026-10-08 09:00")


def test_the_receiver_is_reminded_two_working_hours_before_once(deliverable: Deliverable) -> None:
    assert sweep("2026-10-07 18:00") == 0  # the last holiday: nothing yet
    assert sweep("2026-10-08 12:59") == 0
    assert sweep("2026-10-08 13:00") == 1
    assert told("review.reminder") == ["receiver"]
    assert sweep("2026-10-08 13:05") == 0  # the second sweep finds it claimed
    version = DeliverableVersion.objects.get(deliverable=deliverable)
    assert version.reminder_sent_at == at("2026-10-08 13:00")
    assert told("review.reminder") == ["receiver"]


def test_the_department_head_hears_when_the_review_is_overdue_once(deliverable: Deliverable) -> None:
    sweep("2026-10-08 13:00")
    assert sweep("2026-10-08 14:59") == 0
    assert sweep("2026-10-08 15:00") == 1
    assert told("review.overdue") == ["requester"]  # 张敏 heads Product, the receiver's department
    title = Notification.objects.get(kind="review.overdue").title
    assert "测试报告" in title and "钱多" in title and "2026-10-08 15:00" in title
    assert sweep("2026-10-08 15:05") == 0
    assert sweep("2026-10-09 09:00") == 0
    assert told("review.overdue") == ["requester"]


def test_two_sweeps_at_the_same_moment_send_each_notice_once(deliverable: Deliverable) -> None:
    # Both the reminder (skipped: the review is already due) and the escalation in one sweep.
    with time_machine.travel(at("2026-10-08 15:30"), tick=False):
        first = review_alerts.sweep_reviews()
        second = review_alerts.sweep_reviews()
    assert (first, second) == (1, 0)
    assert told("review.overdue") == ["requester"] and told("review.reminder") == []


def test_a_reminder_two_working_hours_before_can_fall_days_earlier(org: Org, item: CollaborationItem) -> None:
    with time_machine.travel(at("2026-09-30 09:30"), tick=False):
        submit(org, plan_task(item))
    # Due Thu 10-08 09:30: half an hour of Thursday's working time, then 1.5 hours of Wednesday's
    # (which ends at 18:00): the reminder is Wed 09-30 16:30, before the holiday.
    assert sweep("2026-09-30 16:29") == 0
    assert sweep("2026-09-30 16:30") == 1
    assert told("review.reminder") == ["receiver"]


def test_a_reviewed_version_is_left_alone(org: Org, deliverable: Deliverable) -> None:
    with time_machine.travel(at("2026-10-08 09:10"), tick=False):
        accept(org, deliverable)
    assert sweep("2026-10-08 13:00") == 0
    assert sweep("2026-10-09 18:00") == 0
    assert told("review.reminder") == [] and told("review.overdue") == []


def test_a_receiver_who_heads_the_department_escalates_to_the_coordinator(
    org: Org, deliverable: Deliverable
) -> None:
    org.product.head = org.receiver
    org.product.save()
    sweep("2026-10-08 15:00")
    assert told("review.overdue") == ["coordinator"]


def test_the_beat_runs_the_celery_task_every_five_minutes(deliverable: Deliverable) -> None:
    entry = BEAT_SCHEDULE["reviews-sweep-reviews"]
    assert entry["task"] == sweep_reviews_task.name == "reviews_app.sweep_reviews"
    assert entry["schedule"] == crontab(minute="*/5")
    with time_machine.travel(at("2026-10-08 13:01"), tick=False):
        assert sweep_reviews_task.delay().get() == 1
    assert told("review.reminder") == ["receiver"]


def test_the_escalation_reaches_the_heads_mailbox_after_commit(
    deliverable: Deliverable, django_capture_on_commit_callbacks: Any
) -> None:
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        sweep("2026-10-08 15:00")
    assert [m.to for m in mail.outbox] == [["requester@example.com"]]
