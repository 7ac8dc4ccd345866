"""Rows for the dashboards' tests, written with the ORM: the services of every stage are tested
elsewhere, and stages 5-6 have no services yet. Times are Shanghai wall-clock strings.

Each helper then refreshes the item's stored health facts, as the services do after their writes
(requests_app.health_facts); a test that writes rows itself calls ``refresh_facts``."""

from datetime import date, datetime
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

from collab.notify.models import Notification
from collab.testing import Org
from requests_app.health_facts import item_health_refresh
from requests_app.meeting_services import minutes_status_from_decisions
from requests_app.models import (
    CollaborationItem,
    Confirmation,
    Invitation,
    ItemStatus,
    Meeting,
    MeetingForm,
    Minutes,
    Participation,
    Scenario,
    Todo,
)
from reviews_app.models import Deliverable, DeliverableVersion, ImprovementMeasure, Retrospective
from tasks_app.models import Alert, AlertKind, Problem, ProgressReport, Task, TaskStatus

SHANGHAI = ZoneInfo("Asia/Shanghai")
_numbers = count(1)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def raw_item(
    org: Org,
    *,
    status: str = ItemStatus.EXECUTING,
    topic: str = "Q3产品上线测试",
    scenario: str = Scenario.CROSS_DEPARTMENT,
    submitted: str = "2026-09-20 10:00",
    coordinator: Any = None,
    departments: tuple[Any, ...] = (),
) -> CollaborationItem:
    """An item straight in ``status``, QA and R&D taking part unless ``departments`` says."""
    sequence = next(_numbers)
    item = CollaborationItem.objects.create(
        number=f"209901{sequence:04d}",
        topic=topic,
        scenario=scenario,
        goal="确保Q3新功能稳定上线,覆盖90%用户需求",
        expected_outcome="10月15日前完成上线测试",
        requesting_department=org.product,
        requester=org.requester,
        coordinator=coordinator or org.coordinator,
        status=status,
        submitted_at=at(submitted) if status != ItemStatus.DRAFT else None,
    )
    for department in departments or (org.qa, org.rnd):
        Participation.objects.create(item=item, department=department, core_need="支持")
    item_health_refresh([item.pk])
    return item


def refresh_facts() -> None:
    """The stored health facts of every item, after rows written here with the ORM."""
    item_health_refresh(CollaborationItem.objects.all())


def raw_task(
    org: Org,
    item: CollaborationItem,
    *,
    name: str = "提交测试计划",
    deadline: date = date(2026, 10, 9),
    owner: Any = None,
    department: Any = None,
    status: str = TaskStatus.IN_PROGRESS,
    percent: int = 30,
    last_report: str | None = None,
    created: str = "2026-09-29 10:00",
) -> Task:
    task = Task.objects.create(
        item=item,
        name=name,
        owner=owner or org.owner,
        delivery_standard="测试用例覆盖率≥95%",
        deadline=deadline,
        receiver=org.receiver,
        department=department or org.qa,
        created_by=org.coordinator,
        status=status,
        percent_done=percent,
        last_reported_at=at(last_report) if last_report else None,
    )
    Task.objects.filter(pk=task.pk).update(created_at=at(created))
    task.refresh_from_db()
    item_health_refresh([item.pk])
    return task


def report(
    task: Task, when: str, *, status: str = TaskStatus.IN_PROGRESS, percent: int = 50
) -> ProgressReport:
    row = ProgressReport.objects.create(
        task=task, reporter=task.owner, status=status, percent_done=percent, summary="进展"
    )
    ProgressReport.objects.filter(pk=row.pk).update(created_at=at(when))
    return row


def alert(
    task: Task, *, kind: str = AlertKind.REPORT_MISSING, step: int = 0, due: str, sent: str | None = None
) -> Alert:
    row = Alert.objects.create(
        task=task, kind=kind, step=step, due_at=at(due), sent_at=at(sent) if sent else None
    )
    item_health_refresh([task.item_id])
    return row


def problem(task: Task, *, blocking: bool = False, resolved: bool = False) -> Problem:
    row = Problem.objects.create(
        item=task.item,
        task=task,
        description="测试环境不稳定",
        blocking=blocking,
        raised_by=task.owner,
        owner=task.item.coordinator,
        status="resolved" if resolved else "open",
        resolution="已更换环境" if resolved else "",
    )
    item_health_refresh([task.item_id])
    return row


def version(
    task: Task,
    *,
    receiver: Any,
    submitted: str,
    due: str,
    reviewed: str | None = None,
    decision: str = "",
    name: str = "测试计划",
) -> DeliverableVersion:
    deliverable = Deliverable.objects.create(
        task=task, name=name, deliverer=task.owner, receiver=receiver, acceptance_criteria="覆盖率≥95%"
    )
    row = DeliverableVersion.objects.create(
        deliverable=deliverable,
        number=1,
        submitted_by=task.owner,
        review_due_at=at(due),
        reviewed_at=at(reviewed) if reviewed else None,
        reviewed_by=receiver if reviewed else None,
        decision=decision or ("accepted" if reviewed else ""),
    )
    DeliverableVersion.objects.filter(pk=row.pk).update(submitted_at=at(submitted))
    row.refresh_from_db()
    item_health_refresh([task.item_id])
    return row


def minutes_for(
    org: Org, item: CollaborationItem, *, starts: str = "2026-09-25 10:00", version: int = 1
) -> Minutes:
    meeting = Meeting.objects.create(
        item=item,
        form=MeetingForm.DEDICATED_MEETING,
        starts_at=at(starts),
        location="3楼会议室",
        organiser=org.coordinator,
    )
    minutes = Minutes.objects.create(
        meeting=meeting, conclusions="按计划推进", recorded_by=org.coordinator, version=version
    )
    Todo.objects.create(minutes=minutes, text="提交测试计划", owner=org.owner, due_date=date(2026, 10, 9))
    item_health_refresh([item.pk])
    return minutes


def confirm(
    minutes: Minutes, department: Any, by: Any, *, decision: str = "confirmed", version: int | None = None
) -> Confirmation:
    row = Confirmation.objects.create(
        minutes=minutes,
        department=department,
        version=version or minutes.version,
        decision=decision,
        reason="" if decision == "confirmed" else "排期需再议",
        decided_by=by,
    )
    # The minutes' status as the service settles it from the departments' words.
    Minutes.objects.filter(pk=minutes.pk).update(status=minutes_status_from_decisions(minutes))
    return row


def invitation(org: Org, item: CollaborationItem, person: Any, *, starts: str) -> Invitation:
    meeting = Meeting.objects.create(
        item=item,
        form=MeetingForm.ONLINE_WORKSHOP,
        starts_at=at(starts),
        location="https://meeting.example.com",
        organiser=org.coordinator,
    )
    item_health_refresh([item.pk])
    return Invitation.objects.create(meeting=meeting, person=person)


def measure(
    org: Org, item: CollaborationItem, *, department: Any, due: date, done: bool = False
) -> ImprovementMeasure:
    retrospective, _created = Retrospective.objects.get_or_create(
        item=item,
        defaults={
            "held_on": date(2026, 10, 20),
            "highlights": "配合顺畅",
            "shortcomings": "需求变更未及时同步",
            "recorded_by": org.coordinator,
        },
    )
    return ImprovementMeasure.objects.create(
        retrospective=retrospective,
        text="需求变更须在1个工作日内同步全部参与方",
        owner=department.head or org.coordinator,
        department=department,
        due_date=due,
        status="done" if done else "open",
    )


def notification(person: Any, title: str = "任务即将到期") -> Notification:
    return Notification.objects.create(recipient=person, kind="test", title=title)


def populate(org: Org, n: int) -> None:
    """``n`` rounds of everything every dashboard shows, for query-count comparisons."""
    for _round in range(n):
        item = raw_item(org)
        late = raw_task(org, item, name="逾期任务", deadline=date(2026, 9, 29), percent=10)
        stale = raw_task(
            org, item, name="缺汇报任务", deadline=date(2026, 10, 20), last_report="2026-09-28 10:00"
        )
        alert(stale, due="2026-09-29 10:00", sent="2026-09-29 10:00")
        alert(late, kind=AlertKind.OVERDUE, step=1, due="2026-09-30 09:00", sent="2026-09-30 09:00")
        done = raw_task(
            org, item, name="已完成任务", deadline=date(2026, 9, 30), status=TaskStatus.DONE, percent=100
        )
        report(done, "2026-09-29 16:00", status=TaskStatus.IN_PROGRESS, percent=100)
        Task.objects.filter(pk=done.pk).update(done_at=at("2026-09-29 17:00"))  # both sides signed
        raw_task(
            org,
            item,
            name="研发任务",
            owner=org.collaborator,
            department=org.rnd,
            deadline=date(2026, 10, 8),
            percent=20,
        )
        problem(late, blocking=True)
        version(late, receiver=org.owner, submitted="2026-09-29 15:00", due="2026-09-30 15:00")
        version(
            done,
            receiver=org.receiver,
            submitted="2026-09-28 15:00",
            due="2026-09-29 15:00",
            reviewed="2026-09-29 11:00",
        )
        invitation(org, item, org.owner, starts="2026-10-12 10:00")
        notification(org.owner)
        measure(org, item, department=org.qa, due=date(2026, 10, 30))
        waiting = raw_item(org, status=ItemStatus.SUBMITTED)
        minutes_for(org, waiting)
        planned = raw_item(org, status=ItemStatus.PLANNED)
        minutes_for(org, planned)
