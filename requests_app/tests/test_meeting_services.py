from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from collab.audit.models import AuditEntry
from collab.notify.models import Notification
from collab.org.models import Department
from collab.testing import Org, assert_refused, make_head, make_item, minutes_data, schedule_meeting
from requests_app import meeting_services
from requests_app.meeting_services import TodoData
from requests_app.models import Confirmation, Invitation, ItemStatus, MinutesStatus, RequirementChange
from requests_app.rules import MilestoneData
from requests_app.selectors import visible_items

pytestmark = pytest.mark.django_db


def confirm(
    org: Org, person: Any, department: Department, minutes: Any, decision: str = "confirmed", reason: str = ""
) -> Any:
    return meeting_services.minutes_confirm(
        actor=person,
        minutes_id=minutes.pk,
        department_id=department.pk,
        version=minutes.version,
        decision=decision,
        reason=reason,
    )


@pytest.fixture
def rnd_head(org: Org) -> Any:
    return make_head(org.rnd, "rnd_head", name="赵强")


def test_scheduling_invites_departments_through_their_people(
    org: Org, django_capture_on_commit_callbacks: Any
) -> None:
    item = make_item(org)
    with django_capture_on_commit_callbacks(execute=True):
        meeting = schedule_meeting(org, item)
    invited = set(Invitation.objects.filter(meeting=meeting).values_list("person__username", flat=True))
    assert invited == {"requester", "coordinator", "owner", "qa_head", "collaborator"}
    notices = Notification.objects.filter(kind="meeting.invited")
    assert notices.count() == 5
    assert all(n.url.endswith(f"/meetings/{meeting.pk}/pre-read/") for n in notices)
    assert len(mail.outbox) == 5 and "请先阅读需求确认表" in mail.outbox[0].subject


def test_an_invitee_from_outside_the_departments_can_read_the_item(org: Org) -> None:
    item = make_item(org)
    assert item not in visible_items(org.outsider)
    schedule_meeting(org, item, invitee_ids=[org.outsider.pk])
    assert item in visible_items(org.outsider)


def test_only_the_requester_or_coordinator_schedules(org: Org) -> None:
    item = make_item(org)
    assert_refused(
        lambda: meeting_services.meeting_schedule(
            actor=org.owner,
            item_id=item.pk,
            data=meeting_services.MeetingData(
                "call", item.submitted_at, "Asia/Shanghai", "电话", [org.owner.pk]
            ),  # type: ignore[arg-type]
        ),
        "只有发起人和协调人可以组织本事项的会议。",
    )


def test_a_draft_has_no_meeting(org: Org) -> None:
    assert_refused(
        lambda: schedule_meeting(org, make_item(org, submit=False)),
        "请先提交协作需求确认表，再安排相关会议。",
    )


def test_opening_the_pre_read_is_recorded_once(org: Org) -> None:
    meeting = schedule_meeting(org, make_item(org))
    assert meeting_services.pre_read_open(person=org.owner, meeting=meeting) is True
    assert meeting_services.pre_read_open(person=org.owner, meeting=meeting) is False
    assert meeting_services.pre_read_open(person=org.outsider, meeting=meeting) is False
    opened = Invitation.objects.exclude(pre_read_opened_at=None).values_list("person__username", flat=True)
    assert list(opened) == ["owner"]


def test_minutes_with_to_dos_ask_the_department_heads_to_confirm(org: Org, rnd_head: Any) -> None:
    item = make_item(org)
    meeting = schedule_meeting(org, item)
    minutes = meeting_services.minutes_record(
        actor=org.coordinator, meeting_id=meeting.pk, data=minutes_data(org)
    )
    assert minutes.version == 1
    assert [(t.text, t.owner) for t in minutes.todos.all()] == [
        ("提交测试计划", org.qa_head),
        ("完成功能修复", org.collaborator),
    ]
    asked = Notification.objects.filter(kind="minutes.confirmation_requested").values_list(
        "recipient__username", flat=True
    )
    assert set(asked) == {"qa_head", "rnd_head"}


def test_a_moved_milestone_is_a_recorded_requirement_change_everyone_hears_of(org: Org) -> None:
    item = make_item(org)
    meeting = schedule_meeting(org, item)
    moved = minutes_data(
        org,
        agenda={"adjustments": "研发说测试需多3天,上线顺延"},
        final_milestones=[
            MilestoneData("需求确认", date(2026, 10, 8)),
            MilestoneData("测试完成", date(2026, 10, 18)),
        ],
    )
    meeting_services.minutes_record(actor=org.coordinator, meeting_id=meeting.pk, data=moved)
    change = RequirementChange.objects.get(item=item)
    assert "研发说测试需多3天" in change.reason
    assert change.changes["milestones"][1].endswith("2026-10-18 测试完成")
    assert sorted(m.due_date for m in item.milestones.all())[-1] == date(2026, 10, 18)
    told = set(
        Notification.objects.filter(kind="item.requirement_changed").values_list(
            "recipient__username", flat=True
        )
    )
    assert {"requester", "qa_head", "owner", "collaborator"} <= told


def test_vague_to_dos_and_empty_conclusions_are_refused(org: Org) -> None:
    meeting = schedule_meeting(org, make_item(org))
    refused = assert_refused(
        lambda: meeting_services.minutes_record(
            actor=org.coordinator,
            meeting_id=meeting.pk,
            data=minutes_data(org, todos=[TodoData("尽快提交测试计划", org.qa_head.pk, date(2026, 10, 9))]),
        ),
        "部分职责或待办事项表述不够明确。",
    )
    assert "尽快" in refused.problems["todos"][0]
    assert_refused(
        lambda: meeting_services.minutes_record(
            actor=org.coordinator, meeting_id=meeting.pk, data=minutes_data(org, conclusions=" ")
        ),
        "请填写会议结论。",
    )


def test_consensus_needs_every_department_and_an_objection_holds_it(org: Org, rnd_head: Any) -> None:
    item = make_item(org)
    meeting = schedule_meeting(org, item)
    minutes = meeting_services.minutes_record(
        actor=org.coordinator, meeting_id=meeting.pk, data=minutes_data(org)
    )
    confirm(org, org.qa_head, org.qa, minutes)
    confirm(org, rnd_head, org.rnd, minutes, "objected", "修复排期需要再议")
    item.refresh_from_db()
    assert item.status == ItemStatus.SUBMITTED
    assert Notification.objects.filter(kind="minutes.objected", recipient=org.coordinator).exists()
    confirm(org, rnd_head, org.rnd, minutes)
    item.refresh_from_db()
    assert item.status == ItemStatus.CONSENSUS
    assert [(c.department.name, c.decision) for c in Confirmation.objects.order_by("pk")] == [
        ("测试部", "confirmed"),
        ("研发部", "objected"),
        ("研发部", "confirmed"),
    ]


def test_nobody_confirms_for_a_department_they_do_not_head(org: Org, rnd_head: Any) -> None:
    meeting = schedule_meeting(org, make_item(org))
    minutes = meeting_services.minutes_record(
        actor=org.coordinator, meeting_id=meeting.pk, data=minutes_data(org)
    )
    assert_refused(
        lambda: confirm(org, org.owner, org.qa, minutes), "只有测试部的负责人或其代理人可以代表该部门确认。"
    )
    assert_refused(
        lambda: confirm(org, org.qa_head, org.rnd, minutes),
        "只有研发部的负责人或其代理人可以代表该部门确认。",
    )
    assert_refused(lambda: confirm(org, org.outsider, org.finance, minutes), "财务部不是本事项的参与部门。")
    assert_refused(
        lambda: confirm(org, org.qa_head, org.qa, minutes, "objected", " "),
        "请说明异议理由，以便进一步沟通解决。",
    )
    assert not Confirmation.objects.exists()


def test_a_delegate_confirms_for_the_head(org: Org) -> None:
    org.qa.confirmation_delegates.add(org.owner)
    meeting = schedule_meeting(org, make_item(org))
    minutes = meeting_services.minutes_record(
        actor=org.coordinator, meeting_id=meeting.pk, data=minutes_data(org)
    )
    assert confirm(org, org.owner, org.qa, minutes).decided_by == org.owner


def test_a_revision_needs_confirming_again_and_reopens_consensus(org: Org, rnd_head: Any) -> None:
    item = make_item(org)
    meeting = schedule_meeting(org, item)
    minutes = meeting_services.minutes_record(
        actor=org.coordinator, meeting_id=meeting.pk, data=minutes_data(org)
    )
    confirm(org, org.qa_head, org.qa, minutes)
    confirm(org, rnd_head, org.rnd, minutes)
    item.refresh_from_db()
    assert item.status == ItemStatus.CONSENSUS
    stale_version = minutes.version
    revised = meeting_services.minutes_record(
        actor=org.coordinator,
        meeting_id=meeting.pk,
        data=minutes_data(org, conclusions="补充:运营部提供用户场景"),
    )
    assert revised.version == 2
    item.refresh_from_db()
    assert item.status == ItemStatus.SUBMITTED
    assert_refused(
        lambda: meeting_services.minutes_confirm(
            actor=org.qa_head,
            minutes_id=revised.pk,
            department_id=org.qa.pk,
            version=stale_version,
            decision="confirmed",
        ),
        "您打开后会议纪要已修订为第2版，请重新阅读。",
    )
    assert meeting_services.unconfirmed_departments(revised) == [org.rnd, org.qa]


def codes(statuses: list[Any]) -> list[str]:
    """The status codes of an audit row's move (stored labelled by the model's field)."""
    return [s["value"] if isinstance(s, dict) else s for s in statuses]


def test_the_minutes_move_through_their_table_with_an_audit_row_for_every_move(
    org: Org, rnd_head: Any
) -> None:
    """Issued → objected → issued again (the objector confirms) → confirmed (consensus) →
    objected after consensus → issued by the revision; each move an audit row with the status."""
    item = make_item(org)
    meeting = schedule_meeting(org, item)
    minutes = meeting_services.minutes_record(
        actor=org.coordinator, meeting_id=meeting.pk, data=minutes_data(org)
    )

    def status() -> str:
        minutes.refresh_from_db()
        return minutes.status

    def moves() -> list[tuple[str, list[str]]]:
        entries = AuditEntry.objects.filter(action__startswith="minutes.", changes__has_key="status")
        return [(e.action, codes(e.changes["status"])) for e in entries.order_by("pk")]

    assert status() == MinutesStatus.ISSUED
    confirm(org, rnd_head, org.rnd, minutes, "objected", "修复排期需要再议")
    assert status() == MinutesStatus.OBJECTED
    confirm(org, rnd_head, org.rnd, minutes)  # talked through: QA has still to confirm
    assert status() == MinutesStatus.ISSUED
    confirm(org, org.qa_head, org.qa, minutes)
    assert status() == MinutesStatus.CONFIRMED
    item.refresh_from_db()
    assert item.status == ItemStatus.CONSENSUS
    # A department may still object after consensus: the minutes wait for their revision.
    confirm(org, org.qa_head, org.qa, minutes, "objected", "测试资源不足")
    assert status() == MinutesStatus.OBJECTED
    item.refresh_from_db()
    assert item.status == ItemStatus.CONSENSUS
    meeting_services.minutes_record(
        actor=org.coordinator, meeting_id=meeting.pk, data=minutes_data(org, conclusions="测试增派1人")
    )
    assert (status(), minutes.version) == (MinutesStatus.ISSUED, 2)
    item.refresh_from_db()
    assert item.status == ItemStatus.SUBMITTED
    assert moves() == [
        ("minutes.objected", ["issued", "objected"]),
        ("minutes.confirmed", ["objected", "issued"]),
        ("minutes.confirmed", ["issued", "confirmed"]),
        ("minutes.objected", ["confirmed", "objected"]),
        ("minutes.revised", ["objected", "issued"]),
    ]


def test_a_confirmation_that_leaves_the_minutes_waiting_is_recorded_without_a_move(
    org: Org, rnd_head: Any
) -> None:
    item = make_item(org)
    meeting = schedule_meeting(org, item)
    minutes = meeting_services.minutes_record(
        actor=org.coordinator, meeting_id=meeting.pk, data=minutes_data(org)
    )
    confirm(org, org.qa_head, org.qa, minutes)  # R&D has still to confirm
    minutes.refresh_from_db()
    assert minutes.status == MinutesStatus.ISSUED
    entry = AuditEntry.objects.get(action="minutes.confirmed")
    assert entry.changes == {"confirmation": [None, "测试部 v1"]}
    # A revision of minutes still waiting issues them again: a move of its own, on record.
    revised = meeting_services.minutes_record(
        actor=org.coordinator, meeting_id=meeting.pk, data=minutes_data(org, conclusions="补充结论")
    )
    assert (revised.status, revised.version) == (MinutesStatus.ISSUED, 2)
    entry = AuditEntry.objects.get(action="minutes.revised")
    assert (codes(entry.changes["status"]), entry.changes["minutes"]) == (["issued", "issued"], ["v1", "v2"])


def test_minutes_before_the_meeting_starts_need_the_reason_and_keep_it(org: Org) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from collab.audit.models import AuditEntry
    from requests_app.models import Minutes

    with time_machine.travel(datetime(2026, 9, 28, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        meeting = schedule_meeting(org, make_item(org), starts_at=timezone.now() + timedelta(days=1))
        assert_refused(
            lambda: meeting_services.minutes_record(
                actor=org.coordinator, meeting_id=meeting.pk, data=minutes_data(org)
            ),
            "会议定于2026年9月29日 10:00召开，尚未开始。请在会后记录纪要，或说明会议提前召开的原因。",
        )
        assert not Minutes.objects.exists()
        meeting_services.minutes_record(
            actor=org.coordinator,
            meeting_id=meeting.pk,
            data=minutes_data(org, early_reason="The director moved it to this morning"),
        )
    entry = AuditEntry.objects.get(action="minutes.recorded")
    assert "The director moved it to this morning" in entry.note


def test_vague_responsibilities_are_refused(org: Org) -> None:
    from requests_app.models import Minutes

    meeting = schedule_meeting(org, make_item(org))
    refused = assert_refused(
        lambda: meeting_services.minutes_record(
            actor=org.coordinator,
            meeting_id=meeting.pk,
            data=minutes_data(org, responsibilities=[(org.qa.pk, "配合测试，尽量快")]),
        ),
        "部分职责或待办事项表述不够明确。",
    )
    assert "尽量" in refused.problems["responsibilities"][0]
    assert not Minutes.objects.exists()
