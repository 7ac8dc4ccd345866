"""The retrospective's rules and permissions, and a measure tracked to done in the log."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone, translation

from collab.audit.models import AuditEntry
from collab.notify.models import Notification
from collab.testing import Org, assert_refused, make_item
from requests_app.models import CollaborationItem, ItemStatus
from reviews_app.models import ImprovementMeasure, MeasureStatus, Retrospective
from reviews_app.retro_services import (
    MeasureData,
    measure_add,
    measure_complete,
    retrospective_record,
    retrospective_update,
)
from reviews_app.tests.test_archive_support import record_retro, retro_data, started_item
from tasks_app.tests.support import finish_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Any:
    # Messages are asserted in English (the Chinese catalogue may not have them yet).
    with translation.override("en"):
        yield


@pytest.fixture
def item(org: Org) -> CollaborationItem:
    return started_item(org)


def snapshot() -> tuple[Any, ...]:
    return (
        list(Retrospective.objects.order_by("pk").values_list("pk", "held_on", "highlights", "shortcomings")),
        list(ImprovementMeasure.objects.order_by("pk").values_list("pk", "text", "status", "done_note")),
        list(CollaborationItem.objects.order_by("pk").values_list("pk", "status", "version")),
    )


def actions(item: CollaborationItem) -> list[str]:
    return list(
        AuditEntry.objects.filter(target_id=str(item.pk), action__regex=r"^(retrospective|improvement)\.")
        .order_by("pk")
        .values_list("action", flat=True)
    )


# --- recording ------------------------------------------------------------------------------------


def test_the_coordinator_records_the_retrospective_while_tasks_still_run(
    org: Org, item: CollaborationItem
) -> None:
    retrospective = record_retro(org, item)  # no task is done yet: that is fine

    assert retrospective.item == item and retrospective.recorded_by == org.coordinator
    assert set(retrospective.participants.all()) == {
        org.requester,
        org.coordinator,
        org.owner,
        org.collaborator,
    }
    measures = list(retrospective.measures.order_by("pk"))
    assert [(m.text, m.owner, m.department, m.status) for m in measures] == [
        ("建立需求变更通知机制", org.coordinator, org.pmo, MeasureStatus.OPEN),
        ("需求确认后3天内完成测试用例评审", org.qa_head, org.qa, MeasureStatus.OPEN),
    ]
    assert actions(item) == ["retrospective.recorded"]
    entry = AuditEntry.objects.get(action="retrospective.recorded")
    assert "建立需求变更通知机制" in entry.changes["measures"][1] and entry.changes["highlights"] == [
        None,
        "跨部门沟通高效",
    ]
    # The owner hears of their measure; the coordinator wrote their own and is not told.
    told = Notification.objects.filter(kind="improvement.assigned")
    assert list(told.values_list("recipient__username", flat=True)) == ["qa_head"]
    assert "improvements/" in told.get().url


def test_the_requester_may_record_it_too(org: Org, item: CollaborationItem) -> None:
    retrospective_record(actor=org.requester, item_id=item.pk, data=retro_data(org))
    assert Retrospective.objects.filter(item=item, recorded_by=org.requester).exists()


@pytest.mark.parametrize("who", ["owner", "qa_head", "collaborator", "outsider", "receiver"])
def test_nobody_else_records_it(org: Org, item: CollaborationItem, who: str) -> None:
    before = snapshot()
    assert_refused(
        lambda who=who: retrospective_record(actor=getattr(org, who), item_id=item.pk, data=retro_data(org)),
        "Only the requester and the coordinator record the retrospective.",
    )
    assert snapshot() == before


def test_it_is_recorded_only_while_the_item_is_in_execution(org: Org) -> None:
    submitted = make_item(org)
    assert_refused(
        lambda: retrospective_record(actor=org.coordinator, item_id=submitted.pk, data=retro_data(org)),
        "The retrospective is recorded while the item is in execution.",
    )
    assert not Retrospective.objects.exists()


def test_an_item_has_one_retrospective(org: Org, item: CollaborationItem) -> None:
    record_retro(org, item)
    before = snapshot()
    assert_refused(
        lambda: record_retro(org, item),
        "The retrospective of this item is already recorded: edit it instead.",
    )
    assert snapshot() == before


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"held_on": timezone.localdate() + timedelta(days=1)}, "held_on", "in the future"),
        ({"participant_ids": []}, "participants", "at least one participant"),
        ({"highlights": "  "}, "highlights", "required"),
        ({"shortcomings": ""}, "shortcomings", "required"),
        ({"measures": []}, "measures", "at least one improvement measure"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_changes(
    org: Org, item: CollaborationItem, overrides: dict[str, Any], field: str, message: str
) -> None:
    before = snapshot()
    refused = assert_refused(
        lambda: record_retro(org, item, **overrides), "The retrospective is not complete."
    )
    assert any(message in m for m in refused.problems[field])
    assert snapshot() == before and not Notification.objects.filter(kind__startswith="improvement.").exists()


def test_a_measure_must_be_specific_and_due_after_the_meeting(org: Org, item: CollaborationItem) -> None:
    today = timezone.localdate()
    refused = assert_refused(
        lambda: record_retro(
            org,
            item,
            measures=[
                MeasureData("尽快建立变更通知", org.coordinator.pk, org.pmo.pk, today + timedelta(days=5)),
                MeasureData("复盘模板", org.qa_head.pk, org.qa.pk, today - timedelta(days=1)),
            ],
        ),
        "The retrospective is not complete.",
    )
    problems = refused.problems["measures"]
    assert any('"尽快"' in p for p in problems)
    assert any("复盘模板" in p and "before the retrospective" in p for p in problems)
    assert not Retrospective.objects.exists()


def test_a_person_who_left_cannot_own_a_measure(org: Org, item: CollaborationItem) -> None:
    org.qa_head.is_active = False
    org.qa_head.save()
    assert_refused(
        lambda: record_retro(org, item), "A person named in the retrospective does not exist or has left."
    )
    assert not Retrospective.objects.exists()


# --- changing it ----------------------------------------------------------------------------------


def test_editing_records_what_changed(org: Org, item: CollaborationItem) -> None:
    retrospective = record_retro(org, item)
    retrospective_update(
        actor=org.requester,
        retrospective_id=retrospective.pk,
        data=retro_data(org, highlights="跨部门沟通高效,日报准时", participant_ids=[org.requester.pk]),
    )
    retrospective.refresh_from_db()
    assert retrospective.highlights == "跨部门沟通高效,日报准时"
    assert list(retrospective.participants.all()) == [org.requester]
    entry = AuditEntry.objects.get(action="retrospective.updated")
    assert entry.changes["highlights"] == ["跨部门沟通高效", "跨部门沟通高效,日报准时"]
    assert set(entry.changes) == {"highlights", "participants"}
    assert_refused(
        lambda: retrospective_update(
            actor=org.requester,
            retrospective_id=retrospective.pk,
            data=retro_data(org, highlights="跨部门沟通高效,日报准时", participant_ids=[org.requester.pk]),
        ),
        "Nothing was changed.",
    )
    assert_refused(
        lambda: retrospective_update(
            actor=org.qa_head, retrospective_id=retrospective.pk, data=retro_data(org)
        ),
        "Only the requester and the coordinator record the retrospective.",
    )


def test_a_measure_added_later_reaches_the_log_and_its_owner(org: Org, item: CollaborationItem) -> None:
    retrospective = record_retro(org, item)
    measure = measure_add(
        actor=org.coordinator,
        retrospective_id=retrospective.pk,
        data=MeasureData(
            "每周五同步需求变更", org.owner.pk, org.qa.pk, timezone.localdate() + timedelta(days=7)
        ),
    )
    assert measure.retrospective == retrospective and measure.status == MeasureStatus.OPEN
    assert Notification.objects.filter(kind="improvement.assigned", recipient=org.owner).exists()
    assert actions(item) == ["retrospective.recorded", "improvement.added"]
    refused = assert_refused(
        lambda: measure_add(
            actor=org.coordinator,
            retrospective_id=retrospective.pk,
            data=MeasureData("适当加强沟通", org.owner.pk, org.qa.pk, timezone.localdate()),
        ),
        "The improvement measure is not complete.",
    )
    assert refused.problems["measure"]
    assert retrospective.measures.count() == 3


# --- tracking a measure to done -------------------------------------------------------------------


def test_the_owner_marks_a_measure_done_with_a_note_and_the_coordinator_hears(
    org: Org, item: CollaborationItem
) -> None:
    record_retro(org, item)
    measure = ImprovementMeasure.objects.get(owner=org.qa_head)
    assert_refused(
        lambda: measure_complete(actor=org.qa_head, measure_id=measure.pk, note="  "),
        "Say how the measure was carried out: the next collaboration reads it.",
    )
    measure.refresh_from_db()
    assert measure.status == MeasureStatus.OPEN

    done = measure_complete(actor=org.qa_head, measure_id=measure.pk, note="评审已纳入需求确认流程")
    assert done.status == MeasureStatus.DONE and done.done_note == "评审已纳入需求确认流程" and done.done_at
    assert Notification.objects.filter(kind="improvement.done", recipient=org.coordinator).exists()
    entry = AuditEntry.objects.get(action="improvement.done")
    assert entry.actor == org.qa_head and entry.note == "评审已纳入需求确认流程"
    assert_refused(
        lambda: measure_complete(actor=org.qa_head, measure_id=measure.pk, note="再来一次"),
        "This improvement measure is already done.",
    )


def test_only_the_owner_and_the_coordinator_mark_it_done(org: Org, item: CollaborationItem) -> None:
    record_retro(org, item)
    measure = ImprovementMeasure.objects.get(owner=org.qa_head)
    for who in (org.requester, org.owner, org.outsider):
        assert_refused(
            lambda who=who: measure_complete(actor=who, measure_id=measure.pk, note="完成"),
            "Only the measure's owner and the item's coordinator mark it done.",
        )
    measure_complete(actor=org.coordinator, measure_id=measure.pk, note="已在部门例会落实")
    assert Notification.objects.filter(kind="improvement.done", recipient=org.qa_head).exists()


def test_a_measure_is_tracked_to_done_after_the_item_is_archived(org: Org, item: CollaborationItem) -> None:
    from django.db import transaction

    from requests_app.services import item_transition

    record_retro(org, item)
    finish_tasks(item)
    with transaction.atomic():
        locked = CollaborationItem.objects.select_for_update().get(pk=item.pk)
        item_transition(actor=org.coordinator, item=locked, to=ItemStatus.CLOSED)
    measure = ImprovementMeasure.objects.get(owner=org.qa_head)
    measure_complete(actor=org.qa_head, measure_id=measure.pk, note="已落实")
    measure.refresh_from_db()
    assert measure.status == MeasureStatus.DONE
    # The retrospective itself is read-only now.
    assert_refused(
        lambda: retrospective_update(
            actor=org.coordinator, retrospective_id=measure.retrospective_id, data=retro_data(org)
        ),
        "This item is archived and can no longer be changed.",
    )
