"""Test setup for stage 3: an item whose minutes are confirmed, and task data that keeps the rules.

The meeting, minutes and to-dos are written with the ORM and the item is moved to consensus
directly: stage 2's services are not under test here.
"""

from datetime import UTC, date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from collab.testing import Org, make_item
from requests_app.models import CollaborationItem, ItemStatus, Meeting, MeetingForm, Minutes, Todo
from requests_app.services import item_transition
from tasks_app import services
from tasks_app.models import Task, TaskStatus
from tasks_app.rules import TaskData


def consensus_item(org: Org, **overrides: Any) -> CollaborationItem:
    item = make_item(org, **overrides)
    meeting = Meeting.objects.create(
        item=item,
        form=MeetingForm.DEDICATED_MEETING,
        starts_at=datetime(2026, 9, 28, 2, 0, tzinfo=UTC),
        location="3楼会议室",
        organiser=org.requester,
    )
    minutes = Minutes.objects.create(meeting=meeting, conclusions="测试延后3天", recorded_by=org.coordinator)
    Todo.objects.create(minutes=minutes, text="提交测试计划", owner=org.owner, due_date=date(2026, 10, 5))
    Todo.objects.create(
        minutes=minutes, text="完成功能修复", owner=org.collaborator, due_date=date(2026, 10, 12)
    )
    with transaction.atomic():
        locked = CollaborationItem.objects.select_for_update().get(pk=item.pk)
        item_transition(actor=org.coordinator, item=locked, to=ItemStatus.CONSENSUS)
    item.refresh_from_db()
    return item


def todos(item: CollaborationItem) -> dict[str, Todo]:
    return {t.text: t for t in Todo.objects.filter(minutes__meeting__item=item)}


def task_data(org: Org, **overrides: Any) -> TaskData:
    """The template's first assignment: QA's owner submits the test plan, R&D reviews it."""
    values: dict[str, Any] = {
        "name": "提交测试计划",
        "owner_id": org.owner.pk,
        "delivery_standard": "测试用例覆盖率≥95%",
        "deadline": date(2026, 10, 9),
        "receiver_id": org.receiver.pk,
        "department_id": org.qa.pk,
        "collaborator_ids": [org.collaborator.pk],
    }
    values.update(overrides)
    return TaskData(**values)


def fix_task_data(org: Org, **overrides: Any) -> TaskData:
    """The template's second assignment: R&D's engineer finishes the fixes."""
    values: dict[str, Any] = {
        "name": "完成功能修复",
        "owner_id": org.collaborator.pk,
        "delivery_standard": "P0、P1缺陷修复率100%",
        "deadline": date(2026, 10, 12),
        "receiver_id": org.owner.pk,
        "department_id": org.rnd.pk,
        "collaborator_ids": [],
    }
    values.update(overrides)
    return TaskData(**values)


def cover_everything(org: Org, item: CollaborationItem) -> list[Task]:
    """Both to-dos become tasks, which also gives QA and R&D a task each."""
    by_text = todos(item)
    return [
        services.task_create(
            actor=org.coordinator,
            item_id=item.pk,
            data=task_data(org),
            source_todo_id=by_text["提交测试计划"].pk,
        ),
        services.task_create(
            actor=org.coordinator,
            item_id=item.pk,
            data=fix_task_data(org),
            source_todo_id=by_text["完成功能修复"].pk,
        ),
    ]


def executing_item(org: Org, **overrides: Any) -> CollaborationItem:
    """Both tasks planned and execution started (warnings planned from the current time)."""
    item = consensus_item(org, **overrides)
    cover_everything(org, item)
    item.refresh_from_db()
    return services.item_start_execution(actor=org.coordinator, item_id=item.pk, version=item.version)


def finish_tasks(item: CollaborationItem) -> None:
    """Every task of ``item`` done, as the archive leaves them (each has a signed deliverable):
    for tests that put an item straight into the archive, which the database refuses while one
    of its tasks is open (tasks_app 0008)."""
    Task.objects.filter(item=item).exclude(status=TaskStatus.DONE).update(
        status=TaskStatus.DONE, percent_done=100, done_at=timezone.now()
    )
