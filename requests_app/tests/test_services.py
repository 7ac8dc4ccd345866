import threading
from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine
from django.db import connection, connections

from collab.audit.models import AuditEntry
from collab.testing import Org, assert_refused, make_item, make_org, requirement
from requests_app import services
from requests_app.models import CollaborationItem, ItemStatus, RequirementChange
from requests_app.rules import MilestoneData
from requests_app.selectors import visible_items

pytestmark = pytest.mark.django_db


def actions(item: CollaborationItem) -> list[str]:
    return list(
        AuditEntry.objects.filter(target_id=str(item.pk), target_type__model="collaborationitem")
        .order_by("pk")
        .values_list("action", flat=True)
    )


def test_a_draft_has_no_number_and_only_its_requester_and_coordinator_see_it(org: Org) -> None:
    item = make_item(org, submit=False)
    assert item.status == ItemStatus.DRAFT and item.number is None
    assert item in visible_items(org.requester) and item in visible_items(org.coordinator)
    for person in (org.owner, org.collaborator, org.qa_head, org.outsider):
        assert item not in visible_items(person)
    assert actions(item) == ["item.created"]


@time_machine.travel(datetime(2026, 10, 8, 1, 0, tzinfo=UTC), tick=False)
def test_it_numbers_items_by_year_month_and_sequence(org: Org) -> None:
    first, second = make_item(org), make_item(org)
    assert (first.number, second.number) == ("20261001", "20261002")
    assert first.submitted_at == datetime(2026, 10, 8, 1, 0, tzinfo=UTC)


def test_the_month_of_the_number_is_the_month_in_china(org: Org) -> None:
    # 2026-10-31 17:00 UTC is already 1 November in Shanghai.
    with time_machine.travel(datetime(2026, 10, 31, 17, 0, tzinfo=UTC), tick=False):
        assert make_item(org).number == "20261101"


@time_machine.travel(datetime(2023, 10, 20, 2, 0, tzinfo=UTC), tick=False)
def test_numbering_steps_past_numbers_of_registered_items(org: Org) -> None:
    services.item_register_existing(
        actor=org.requester,
        requester=org.requester,
        data=requirement(org),
        number="20231001",
        submitted_at=datetime(2023, 10, 1, 1, 0, tzinfo=UTC),
    )
    assert make_item(org).number == "20231002"


def test_submitting_grants_the_participating_departments_a_view(org: Org) -> None:
    item = make_item(org)
    for person in (org.requester, org.coordinator, org.owner, org.collaborator, org.qa_head, org.receiver):
        assert item in visible_items(person), person
    assert item not in visible_items(org.outsider)
    assert org.owner.has_perm(services.VIEW, item)
    assert not org.owner.has_perm(services.CHANGE, item)
    assert org.coordinator.has_perm(services.CHANGE, item)


def test_it_refuses_a_vague_goal_and_changes_nothing(org: Org) -> None:
    item = make_item(org, submit=False, goal="尽快完成上线测试")
    refused = assert_refused(
        lambda: services.item_submit(actor=org.requester, item_id=item.pk, version=item.version),
        "协作需求确认表尚不满足提交条件。",
    )
    assert any("尽快" in message for message in refused.problems["goal"])
    item.refresh_from_db()
    assert item.status == ItemStatus.DRAFT and item.number is None
    assert actions(item) == ["item.created"]


def test_it_refuses_an_outcome_without_a_measurable_criterion(org: Org) -> None:
    item = make_item(org, submit=False, expected_outcome="让用户满意")
    refused = assert_refused(
        lambda: services.item_submit(actor=org.requester, item_id=item.pk, version=item.version),
        "协作需求确认表尚不满足提交条件。",
    )
    assert "expected_outcome" in refused.problems


def test_it_refuses_a_form_without_parties_or_milestones(org: Org) -> None:
    item = make_item(org, submit=False, participations=[], milestones=[])
    refused = assert_refused(
        lambda: services.item_submit(actor=org.requester, item_id=item.pk, version=item.version),
        "协作需求确认表尚不满足提交条件。",
    )
    assert set(refused.problems) == {"participations", "milestones"}


def test_a_participant_cannot_submit_or_edit(org: Org) -> None:
    item = make_item(org, submit=False)
    assert_refused(
        lambda: services.item_submit(actor=org.owner, item_id=item.pk, version=item.version),
        "只有发起人和协调人可以编辑此协作需求确认表。",
    )
    assert_refused(
        lambda: services.item_update_draft(
            actor=org.owner, item_id=item.pk, version=item.version, data=requirement(org)
        ),
        "只有发起人和协调人可以编辑此协作需求确认表。",
    )


def test_a_submitted_form_changes_only_through_a_recorded_change(org: Org) -> None:
    item = make_item(org)
    assert_refused(
        lambda: services.item_update_draft(
            actor=org.requester, item_id=item.pk, version=item.version, data=requirement(org, topic="X")
        ),
        "已提交的协作需求确认表只能通过登记需求变更进行修改。",
    )
    moved = requirement(
        org,
        milestones=[
            MilestoneData("需求确认", date(2026, 10, 8)),
            MilestoneData("测试完成", date(2026, 10, 18)),
        ],
    )
    change = services.item_change_requirement(
        actor=org.coordinator, item_id=item.pk, version=item.version, data=moved, reason="研发需要多3天测试"
    )
    assert change.reason == "研发需要多3天测试"
    assert change.changes["milestones"] == [
        "2026-10-08 需求确认\n2026-10-15 测试完成",
        "2026-10-08 需求确认\n2026-10-18 测试完成",
    ]
    assert actions(item)[-1] == "item.requirement_changed"
    item.refresh_from_db()
    assert item.number is not None and item.status == ItemStatus.SUBMITTED


def test_a_change_needs_a_reason_and_keeps_the_rules(org: Org) -> None:
    item = make_item(org)
    assert_refused(
        lambda: services.item_change_requirement(
            actor=org.requester,
            item_id=item.pk,
            version=item.version,
            data=requirement(org, topic="新"),
            reason=" ",
        ),
        "请说明需求变更的原因：所有相关方都会看到。",
    )
    refused = assert_refused(
        lambda: services.item_change_requirement(
            actor=org.requester,
            item_id=item.pk,
            version=item.version,
            data=requirement(org, goal="尽早完成"),
            reason="调整目标",
        ),
        "变更后的需求不符合模板规则。",
    )
    assert "goal" in refused.problems
    assert not RequirementChange.objects.exists()


def test_an_edit_based_on_an_old_version_is_refused_and_loses_nothing(org: Org) -> None:
    item = make_item(org, submit=False)
    stale = item.version
    services.item_update_draft(
        actor=org.coordinator, item_id=item.pk, version=stale, data=requirement(org, topic="协调人的修改")
    )
    assert_refused(
        lambda: services.item_update_draft(
            actor=org.requester, item_id=item.pk, version=stale, data=requirement(org, topic="发起人的修改")
        ),
        "您编辑期间，其他人修改了此事项，您的修改未保存：请刷新页面查看对方的修改，然后重新修改。",
    )
    item.refresh_from_db()
    assert item.topic == "协调人的修改"


def test_removing_a_department_takes_its_view_away(org: Org) -> None:
    item = make_item(org)
    only_rnd = requirement(org, participations=requirement(org).participations[:1])
    services.item_change_requirement(
        actor=org.requester, item_id=item.pk, version=item.version, data=only_rnd, reason="测试部不再参与"
    )
    assert item not in visible_items(org.owner)
    assert item in visible_items(org.collaborator)


@pytest.mark.django_db(transaction=True)
def test_eight_people_submitting_at_the_same_moment_all_succeed() -> None:
    """Concurrent submissions on the configured database (SQLite in WAL mode, or PostgreSQL)."""
    org = make_org()
    drafts = [make_item(org, submit=False, topic=f"并发提交 {n}") for n in range(8)]
    barrier = threading.Barrier(len(drafts))
    numbers: list[str] = []
    errors: list[BaseException] = []

    def submit(item: CollaborationItem) -> None:
        try:
            barrier.wait()
            numbers.append(
                services.item_submit(actor=org.requester, item_id=item.pk, version=item.version).number or ""
            )
        except BaseException as error:  # collected and reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(item,)) for item in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(numbers) == 8 and len(set(numbers)) == 8
    assert CollaborationItem.objects.filter(status=ItemStatus.SUBMITTED).count() == 8
    assert connection.vendor in {"sqlite", "postgresql"}


def test_everything_is_audited_with_the_actor(org: Org) -> None:
    item = make_item(org)
    entries: list[Any] = list(AuditEntry.objects.filter(target_id=str(item.pk)).order_by("pk"))
    assert [(e.action, e.actor) for e in entries] == [
        ("item.created", org.requester),
        ("item.submitted", org.requester),
    ]
    assert entries[1].changes["number"] == [None, item.number]


def test_who_sees_an_item_is_exactly_who_holds_its_view_permission(org: Org) -> None:
    """visible_items reads the visibility rows; they must follow the permissions through every
    change: a draft, a submission, a department dropped, a milestone moved."""
    draft = make_item(org, submit=False, topic="草稿")
    submitted = make_item(org)
    changed = make_item(org)
    fewer = requirement(
        org,
        participations=requirement(org).participations[:1],
        milestones=[MilestoneData("上线", date(2026, 11, 20))],
    )
    services.item_change_requirement(
        actor=org.requester, item_id=changed.pk, version=changed.version, data=fewer, reason="测试部不再参与"
    )
    people = [
        org.requester,
        org.coordinator,
        org.owner,
        org.collaborator,
        org.receiver,
        org.qa_head,
        org.outsider,
    ]
    for person in people:
        by_permission = {i.pk for i in (draft, submitted, changed) if person.has_perm(services.VIEW, i)}
        assert set(visible_items(person).values_list("pk", flat=True)) == by_permission, person
    changed.refresh_from_db()
    submitted.refresh_from_db()
    assert changed.last_milestone_due == date(2026, 11, 20)
    assert submitted.last_milestone_due == date(2026, 10, 15)
