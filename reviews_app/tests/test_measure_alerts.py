"""An overdue improvement measure reaches its owner once (hand-off "measure assigned or overdue").

The retrospective is recorded on Tue 2026-09-29 in Shanghai. QA's head owns a measure due Wed
09-30, the eve of National Day (Thu 10-01 .. Wed 10-07): it becomes overdue at the start of his
first working time after it, Thu 10-08, not during the holiday. The coordinator's own measure is
due a month later. The sweep is the one the beat runs; it writes the real notification and the
outbox's deliveries, and the owner's My work shows the measure late until it is done.
"""

from datetime import date
from typing import Any

import pytest
import time_machine
from celery.schedules import crontab
from django.core import mail
from django.db import transaction

from collab.dashboards.my_work_selectors import my_work
from collab.notify.models import Delivery, Notification
from collab.schedules import BEAT_SCHEDULE
from collab.testing import Org
from requests_app.models import CollaborationItem, ItemStatus
from requests_app.services import item_transition
from reviews_app.measure_alerts import sweep_overdue_measures
from reviews_app.models import ImprovementMeasure
from reviews_app.retro_services import MeasureData, measure_complete
from reviews_app.tasks import sweep_overdue_measures_task
from reviews_app.tests.delivery_support import at
from reviews_app.tests.test_archive_support import record_retro, started_item
from tasks_app.tests.support import finish_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(org: Org) -> CollaborationItem:
    item = started_item(org)
    with time_machine.travel(at("2026-09-29 16:00"), tick=False):
        record_retro(
            org,
            item,
            held_on=date(2026, 9, 29),
            measures=[
                MeasureData("需求确认后3天内完成测试用例评审", org.qa_head.pk, org.qa.pk, date(2026, 9, 30)),
                MeasureData("建立需求变更通知机制", org.coordinator.pk, org.pmo.pk, date(2026, 10, 30)),
            ],
        )
    return item


def sweep(moment: str) -> int:
    with time_machine.travel(at(moment), tick=False):
        return sweep_overdue_measures()


def overdue_notices() -> list[tuple[str, str]]:
    return list(
        Notification.objects.filter(dedupe_key__contains=":overdue:")
        .order_by("pk")
        .values_list("recipient__username", "kind")
    )


def test_the_owner_is_told_once_on_his_first_working_morning_after_the_due_day(
    org: Org, item: CollaborationItem, django_capture_on_commit_callbacks: Any
) -> None:
    assert sweep("2026-09-30 23:00") == 0  # the due day is not over
    assert sweep("2026-10-05 10:00") == 0  # National Day: not a working day
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep("2026-10-08 10:00") == 1
    assert overdue_notices() == [("qa_head", "improvement.assigned")]
    notice = Notification.objects.get(dedupe_key__contains=":overdue:")
    measure = ImprovementMeasure.objects.get(owner=org.qa_head)
    assert notice.title == f"您负责的{item.number} {item.topic}改进措施已逾期（完成期限2026-09-30）"
    assert notice.url.endswith(f"#measure-{measure.pk}") and notice.url.startswith("/improvements/")
    # Through the outbox: an e-mail delivery row, sent to the owner.
    assert Delivery.objects.filter(notification=notice, channel="email").exists()
    assert [m.to for m in mail.outbox] == [["qa_head@example.com"]]
    # A second beat, a second worker: nobody is told twice.
    assert sweep("2026-10-08 10:05") == 0
    assert sweep("2026-10-09 10:00") == 0
    assert overdue_notices() == [("qa_head", "improvement.assigned")]


def test_the_owners_my_work_shows_the_measure_late_until_it_is_done(
    org: Org, item: CollaborationItem
) -> None:
    sweep("2026-10-08 10:00")
    with time_machine.travel(at("2026-10-08 10:30"), tick=False):
        entries = [e for e in my_work(org.qa_head).entries("measures") if e.item.pk == item.pk]
        assert [(e.title, e.late) for e in entries] == [("需求确认后3天内完成测试用例评审", True)]
        measure = ImprovementMeasure.objects.get(owner=org.qa_head)
        measure_complete(actor=org.qa_head, measure_id=measure.pk, note="已在部门例会落实")
        assert my_work(org.qa_head).entries("measures") == []


def test_a_done_measure_is_never_told_overdue(org: Org, item: CollaborationItem) -> None:
    measure = ImprovementMeasure.objects.get(owner=org.qa_head)
    with time_machine.travel(at("2026-09-30 11:00"), tick=False):
        measure_complete(actor=org.qa_head, measure_id=measure.pk, note="已落实")
    assert sweep("2026-11-30 10:00") == 1  # only the coordinator's, a month later
    assert overdue_notices() == [("coordinator", "improvement.assigned")]


def test_the_measure_of_an_archived_item_is_still_told(org: Org, item: CollaborationItem) -> None:
    """Measures outlive their item: the improvement log follows them after the archive."""
    finish_tasks(item)
    with transaction.atomic():
        locked = CollaborationItem.objects.select_for_update().get(pk=item.pk)
        item_transition(actor=org.coordinator, item=locked, to=ItemStatus.CLOSED)
    assert sweep("2026-10-08 10:00") == 1
    assert overdue_notices() == [("qa_head", "improvement.assigned")]


def test_the_beat_runs_the_celery_task_every_hour(org: Org, item: CollaborationItem) -> None:
    entry = BEAT_SCHEDULE["reviews-sweep-overdue-measures"]
    assert entry["task"] == sweep_overdue_measures_task.name == "reviews_app.sweep_overdue_measures"
    assert entry["schedule"] == crontab(minute=20)
    with time_machine.travel(at("2026-10-08 10:20"), tick=False):
        assert sweep_overdue_measures_task.delay().get() == 1
    assert overdue_notices() == [("qa_head", "improvement.assigned")]
