"""The hand-off table played row by row: a new item from the requirement form to the archive.

At every hand-off the next person finds the row's notification and one entry for the item in
the row's My-work list; once they have acted, the entry is gone. The test fails when a row of
``collab.notify.handoffs.HANDOFFS`` is not played, so a new row needs a step here.
"""

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from collab.dashboards.my_work_selectors import SOURCES, context_for, my_work, section_of
from collab.notify.handoffs import HANDOFF, HANDOFFS
from collab.notify.models import Notification, Urgency
from collab.testing import PASSWORD, Org, make_head, make_item, minutes_data, schedule_meeting
from requests_app import meeting_services
from requests_app.models import CollaborationItem, ItemStatus, Meeting, Scenario
from requests_app.services import item_sync_permissions, item_transition
from reviews_app import delivery_services as delivery
from reviews_app.models import ImprovementMeasure
from reviews_app.retro_services import measure_complete, retrospective_record
from reviews_app.tests.test_archive_support import retro_data
from tasks_app import services as task_services
from tasks_app import tracking_services
from tasks_app.alerts import sweep_alerts
from tasks_app.models import Problem
from tasks_app.tests.support import fix_task_data, task_data, todos
from tasks_app.tracking_services import ReportData

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


class Handoffs:
    """Asserts each hand-off and remembers which rows were played."""

    def __init__(self, item: CollaborationItem) -> None:
        self.item = item
        self.played: set[str] = set()

    def entries(self, person: Any, kind: str) -> list[Any]:
        """The entries on this item in the row's list, read as the My-work page reads them."""
        section = section_of(HANDOFF[kind].entry, context_for(person))
        return [e for e in section.entries if e.item.pk == self.item.pk]

    def handed(self, kind: str, person: Any, *, notified: bool = True) -> None:
        """``person`` is told (the row's kind and urgency) and finds exactly one entry."""
        row = HANDOFF[kind]
        if notified:
            told = Notification.objects.filter(recipient=person, kind=kind, item=self.item)
            assert told.exists(), (kind, person.username)
            self.item.refresh_from_db()
            assert {n.urgency for n in told} == {row.urgency(self.item)}, kind
        assert len(self.entries(person, kind)) == 1, (kind, person.username)
        self.played.add(kind)

    def gone(self, kind: str, person: Any) -> None:
        assert self.entries(person, kind) == [], (kind, person.username)


@pytest.fixture
def rnd_head(org: Org) -> Any:
    return make_head(org.rnd, "rnd_head", name="赵强")


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(datetime(2026, 9, 28, 10, 0, tzinfo=SHANGHAI), tick=False) as traveller:
        yield traveller


def test_every_handoff_reaches_the_next_person_and_leaves_when_done(
    org: Org, rnd_head: Any, clock: Any
) -> None:
    item = make_item(org, scenario=Scenario.EMERGENCY)
    h = Handoffs(item)
    h.handed("item.submitted", org.coordinator)

    meeting = schedule_meeting(org, item, starts_at=timezone.now() + timedelta(days=1))
    h.gone("item.submitted", org.coordinator)
    h.handed("meeting.invited", org.owner)
    meeting_services.pre_read_open(person=org.owner, meeting=meeting)
    h.gone("meeting.invited", org.owner)
    h.handed("meeting.invited", org.collaborator)
    clock.move_to(meeting.starts_at + timedelta(minutes=1))
    h.gone("meeting.invited", org.collaborator)  # the meeting started: too late to prepare

    minutes = meeting_services.minutes_record(
        actor=org.coordinator, meeting_id=meeting.pk, data=minutes_data(org)
    )
    h.handed("minutes.confirmation_requested", org.qa_head)
    h.handed("minutes.confirmation_requested", rnd_head)
    meeting_services.minutes_confirm(
        actor=rnd_head,
        minutes_id=minutes.pk,
        department_id=org.rnd.pk,
        version=minutes.version,
        decision="objected",
        reason="排期过紧",
    )
    h.gone("minutes.confirmation_requested", rnd_head)
    h.handed("minutes.objected", org.coordinator)
    minutes = meeting_services.minutes_record(
        actor=org.coordinator, meeting_id=meeting.pk, data=minutes_data(org, conclusions="测试顺延2天")
    )
    h.gone("minutes.objected", org.coordinator)
    for head, department in ((org.qa_head, org.qa), (rnd_head, org.rnd)):
        meeting_services.minutes_confirm(
            actor=head,
            minutes_id=minutes.pk,
            department_id=department.pk,
            version=minutes.version,
            decision="confirmed",
        )
        h.gone("minutes.confirmation_requested", head)
    h.handed("item.consensus", org.coordinator)

    by_text = todos(item)
    plan = task_services.task_create(
        actor=org.coordinator, item_id=item.pk, data=task_data(org), source_todo_id=by_text["提交测试计划"].pk
    )
    fix = task_services.task_create(
        actor=org.coordinator,
        item_id=item.pk,
        data=fix_task_data(org),
        source_todo_id=by_text["完成功能修复"].pk,
    )
    h.handed("task.assigned", org.owner)
    # Informed, with nothing to do: the collaborator and the receiver of the test plan.
    for informed in (org.collaborator, org.receiver):
        assert Notification.objects.filter(recipient=informed, kind="task.assigned", item=item).exists()
    item.refresh_from_db()
    task_services.item_start_execution(actor=org.coordinator, item_id=item.pk, version=item.version)
    h.gone("item.consensus", org.coordinator)

    clock.move_to(timezone.now() + timedelta(days=1))
    sweep_alerts()
    h.handed("alert.report_missing", org.owner)
    tracking_services.progress_report(
        actor=org.owner,
        task_id=plan.pk,
        data=ReportData(
            "in_progress", 40, "用例设计完成一半", risks="测试环境未就绪", measures="申请临时环境"
        ),
    )
    h.gone("alert.report_missing", org.owner)
    h.handed("task.problem", org.coordinator)
    problem = Problem.objects.get(task=plan)
    tracking_services.problem_assign(actor=org.coordinator, problem_id=problem.pk, owner_id=org.requester.pk)
    h.gone("task.problem", org.coordinator)
    h.handed("problem.assigned", org.requester)
    tracking_services.problem_resolve(actor=org.requester, problem_id=problem.pk, resolution="已申请环境")
    h.gone("problem.assigned", org.requester)

    deliverable = delivery.deliverable_submit(
        actor=org.owner, task_id=plan.pk, data=delivery.DeliverableData(name="测试报告"), uploads=[_file()]
    )
    h.handed("deliverable.submitted", org.receiver)
    delivery.deliverable_request_changes(
        actor=org.receiver, deliverable_id=deliverable.pk, version_number=1, comments="第3章需补充截图"
    )
    h.gone("deliverable.submitted", org.receiver)
    h.handed("deliverable.changes_requested", org.owner)
    delivery.deliverable_revise(
        actor=org.owner, deliverable_id=deliverable.pk, note="补充了截图", uploads=[_file()]
    )
    h.gone("deliverable.changes_requested", org.owner)
    delivery.deliverable_accept(actor=org.receiver, deliverable_id=deliverable.pk, version_number=2)
    h.handed("deliverable.accepted", org.owner)
    h.handed("deliverable.accepted", org.receiver, notified=False)  # he accepted: nothing to tell him
    for person, role in ((org.owner, "deliverer"), (org.receiver, "receiver")):
        delivery.deliverable_sign(
            actor=person, deliverable_id=deliverable.pk, role=role, password=PASSWORD, ip_address="10.0.0.8"
        )
        h.gone("deliverable.accepted", person)

    second = delivery.deliverable_submit(
        actor=org.collaborator,
        task_id=fix.pk,
        data=delivery.DeliverableData(name="修复说明"),
        uploads=[_file()],
    )
    delivery.deliverable_accept(actor=org.owner, deliverable_id=second.pk, version_number=1)
    for person, role in ((org.collaborator, "deliverer"), (org.owner, "receiver")):
        delivery.deliverable_sign(
            actor=person, deliverable_id=second.pk, role=role, password=PASSWORD, ip_address="10.0.0.8"
        )
    h.handed("item.all_signed", org.coordinator)

    retrospective_record(actor=org.requester, item_id=item.pk, data=retro_data(org))
    h.gone("item.all_signed", org.coordinator)
    h.handed("improvement.assigned", org.qa_head)
    h.handed("item.archive_ready", org.coordinator)
    measure = ImprovementMeasure.objects.get(owner=org.qa_head)
    measure_complete(actor=org.qa_head, measure_id=measure.pk, note="已在部门例会落实")
    h.gone("improvement.assigned", org.qa_head)

    # Building the ZIP is the archive's own tests' business; here the item is closed as the build
    # closes it, through the item's transition.
    with transaction.atomic():
        item_transition(
            actor=org.coordinator,
            item=CollaborationItem.objects.select_for_update().get(pk=item.pk),
            to=ItemStatus.CLOSED,
        )
    item.refresh_from_db()
    assert item.status == ItemStatus.CLOSED
    h.gone("item.archive_ready", org.coordinator)

    assert h.played == {row.kind for row in HANDOFFS}
    # Nothing on the archived item stays in anyone's My work, except what a row that outlives
    # the item lists: the coordinator's own improvement measure, due in a month, still open in
    # the improvement log, its entry leading there.
    assert [row.kind for row in HANDOFFS if row.outlives_item] == ["improvement.assigned"]
    everyone = [org.requester, org.coordinator, org.owner, org.collaborator, org.receiver, org.qa_head]
    for person in [*everyone, rnd_head]:
        work = my_work(person)
        for key in SOURCES:
            left = [(e.title, e.url.split("?")[0]) for e in work.entries(key) if e.item.pk == item.pk]
            outlives = next(row for row in HANDOFFS if row.entry == key).outlives_item
            expected = (
                [("建立需求变更通知机制", "/improvements/")] if outlives and person == org.coordinator else []
            )
            assert left == expected, (person, key)


def test_every_row_has_a_my_work_list_and_says_who_and_until_when() -> None:
    assert {row.entry for row in HANDOFFS} == set(SOURCES)
    assert len({row.kind for row in HANDOFFS}) == len(HANDOFFS)
    for row in HANDOFFS:
        assert str(row.who) and str(row.action) and str(row.until), row.kind


def test_an_emergency_is_told_at_once_and_a_routine_sync_in_the_digest(org: Org) -> None:
    emergency = make_item(org, scenario=Scenario.EMERGENCY)
    routine = make_item(org, scenario=Scenario.ROUTINE_SYNC, topic="月度例行同步")
    urgency = {
        n.item_id: n.urgency
        for n in Notification.objects.filter(kind="item.submitted", recipient=org.coordinator)
    }
    assert urgency == {emergency.pk: Urgency.INSTANT, routine.pk: Urgency.DIGEST}
    # The emergency waits for its meeting first in the coordinator's list.
    entries = my_work(org.coordinator).entries("schedule_meeting")
    assert [e.item.pk for e in entries] == [emergency.pk, routine.pk] and entries[0].late


def test_an_emergency_waiting_for_its_meeting_is_not_on_track(org: Org) -> None:
    from collab.dashboards.coordinator_selectors import coordinator_board

    item = make_item(org, scenario=Scenario.EMERGENCY)
    row = next(r for g in coordinator_board(org.coordinator).groups for r in g.rows if r.item.pk == item.pk)
    assert row.light.health != "on_track"
    Meeting.objects.create(
        item=item,
        form="online_workshop",
        starts_at=timezone.now(),
        location="线上",
        organiser=org.coordinator,
    )
    item_sync_permissions(item=item)
    row = next(r for g in coordinator_board(org.coordinator).groups for r in g.rows if r.item.pk == item.pk)
    assert row.light.health == "on_track"


def _file() -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("报告.pdf", b"%PDF-1.4 report", content_type="application/pdf")
