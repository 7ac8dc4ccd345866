"""Stage 3's writes: the template's rules for tasks, to-dos and departments, and the item's move
from consensus through planning to execution."""

from datetime import date
from typing import Any, cast

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import translation

from collab.audit.models import AuditEntry
from collab.notify.models import Notification
from collab.testing import Org, assert_refused, make_item
from requests_app.models import CollaborationItem, ItemStatus
from requests_app.services import VIEW, ItemError
from tasks_app import services
from tasks_app.models import DepartmentExemption, Task
from tasks_app.tests.support import consensus_item, cover_everything, fix_task_data, task_data, todos

pytestmark = pytest.mark.django_db


def actions(item: CollaborationItem) -> list[str]:
    return list(
        AuditEntry.objects.filter(target_id=str(item.pk), target_type__model="collaborationitem")
        .order_by("pk")
        .values_list("action", flat=True)
    )


def status(item: CollaborationItem) -> str:
    item.refresh_from_db()
    return item.status


def refused(call: Any, message: str, **kwargs: Any) -> ItemError:
    """``call(**kwargs)`` refused with exactly ``message``."""
    return cast(ItemError, assert_refused(lambda: call(**kwargs), message))


# --- the database itself ------------------------------------------------------------------------


def _values(org: Org, item: CollaborationItem, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "item": item,
        "name": "设计测试用例",
        "owner": org.owner,
        "delivery_standard": "用例覆盖率≥95%",
        "deadline": date(2026, 10, 9),
        "receiver": org.receiver,
        "department": org.qa,
        "created_by": org.coordinator,
    }
    values.update(overrides)
    return values


def test_the_database_refuses_a_task_without_an_owner(org: Org, item: CollaborationItem) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.create(**_values(org, item, owner=None))
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.bulk_create([Task(**_values(org, item)), Task(**_values(org, item, owner=None))])
    assert not Task.objects.exists()


def test_the_database_refuses_a_task_without_a_delivery_standard(org: Org, item: CollaborationItem) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.create(**_values(org, item, delivery_standard=""))
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.bulk_create([Task(**_values(org, item, delivery_standard=""))])
    assert not Task.objects.exists()


def test_the_database_refuses_an_exemption_without_a_reason(org: Org, item: CollaborationItem) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        DepartmentExemption.objects.create(
            item=item, department=org.rnd, reason="", decided_by=org.coordinator
        )


# --- creating tasks -----------------------------------------------------------------------------


def test_the_first_task_moves_the_item_from_consensus_to_planning(org: Org, item: CollaborationItem) -> None:
    task = services.task_create(actor=org.coordinator, item_id=item.pk, data=task_data(org))
    assert status(item) == ItemStatus.PLANNED
    assert (task.owner, task.department, task.deadline) == (org.owner, org.qa, date(2026, 10, 9))
    assert list(task.collaborators.all()) == [org.collaborator]
    assert actions(item)[-2:] == ["item.status_changed", "task.created"]
    services.task_create(actor=org.requester, item_id=item.pk, data=fix_task_data(org))
    assert status(item) == ItemStatus.PLANNED
    assert item.tasks.count() == 2


def test_task_people_get_to_see_the_item(org: Org) -> None:
    # A receiver from a department that does not take part still sees what they will receive.
    item = consensus_item(org)
    assert not org.outsider.has_perm(VIEW, item)
    services.task_create(
        actor=org.coordinator, item_id=item.pk, data=task_data(org, receiver_id=org.outsider.pk)
    )
    assert org.outsider.has_perm(VIEW, CollaborationItem.objects.get(pk=item.pk))


def test_a_task_before_consensus_is_refused(org: Org) -> None:
    item = make_item(org)
    with translation.override("en"):
        error = refused(
            services.task_create,
            "Tasks are planned after consensus: the minutes must be confirmed by every participating "
            "department first.",
            actor=org.coordinator,
            item_id=item.pk,
            data=task_data(org),
        )
    assert "confirmed by every participating department" in error.message
    assert status(item) == ItemStatus.SUBMITTED and not Task.objects.exists()


def test_only_the_requester_or_coordinator_plans_tasks(org: Org, item: CollaborationItem) -> None:
    for person in (org.owner, org.qa_head, org.outsider):
        refused(
            services.task_create,
            "只有发起人和协调人可以分配本事项的任务。",
            actor=person,
            item_id=item.pk,
            data=task_data(org),
        )
    assert not Task.objects.exists() and status(item) == ItemStatus.CONSENSUS


@pytest.mark.parametrize("standard", ["尽快完成测试计划", "测试计划大概覆盖90%的功能", "ASAP"])
def test_a_vague_delivery_standard_is_refused_naming_the_phrase(
    org: Org, item: CollaborationItem, standard: str
) -> None:
    error = refused(
        services.task_create,
        "该任务不符合流程模板的规则。",
        actor=org.coordinator,
        item_id=item.pk,
        data=task_data(org, delivery_standard=standard),
    )
    phrase = {"尽快完成测试计划": "尽快", "测试计划大概覆盖90%的功能": "大概", "ASAP": "ASAP"}[standard]
    assert any(phrase in message for message in error.problems["delivery_standard"])
    assert not Task.objects.exists() and status(item) == ItemStatus.CONSENSUS


def test_an_empty_delivery_standard_or_deadline_is_refused(org: Org, item: CollaborationItem) -> None:
    error = refused(
        services.task_create,
        "该任务不符合流程模板的规则。",
        actor=org.coordinator,
        item_id=item.pk,
        data=task_data(org, delivery_standard="  ", deadline=None),
    )
    assert set(error.problems) == {"delivery_standard", "deadline"}
    assert not Task.objects.exists()


def test_the_owner_cannot_also_be_a_collaborator(org: Org, item: CollaborationItem) -> None:
    error = refused(
        services.task_create,
        "该任务不符合流程模板的规则。",
        actor=org.coordinator,
        item_id=item.pk,
        data=task_data(org, collaborator_ids=[org.collaborator.pk, org.owner.pk]),
    )
    assert list(error.problems) == ["collaborators"]
    assert not Task.objects.exists()


def test_the_owner_does_not_receive_their_own_deliverable(org: Org, item: CollaborationItem) -> None:
    error = refused(
        services.task_create,
        "该任务不符合流程模板的规则。",
        actor=org.coordinator,
        item_id=item.pk,
        data=task_data(org, receiver_id=org.owner.pk),
    )
    assert list(error.problems) == ["receiver"]


def test_a_department_outside_the_item_is_refused(org: Org, item: CollaborationItem) -> None:
    error = refused(
        services.task_create,
        "该任务不符合流程模板的规则。",
        actor=org.coordinator,
        item_id=item.pk,
        data=task_data(org, department_id=org.finance.pk),
    )
    assert list(error.problems) == ["department"]
    # The requesting department may take a task too.
    services.task_create(
        actor=org.coordinator, item_id=item.pk, data=task_data(org, department_id=org.product.pk)
    )


def test_a_deadline_on_a_holiday_is_kept(org: Org, item: CollaborationItem) -> None:
    task = services.task_create(
        actor=org.coordinator, item_id=item.pk, data=task_data(org, deadline=date(2026, 10, 1))
    )
    assert task.deadline == date(2026, 10, 1)


def test_a_todo_becomes_one_task_only(org: Org, item: CollaborationItem) -> None:
    todo = todos(item)["提交测试计划"]
    task = services.task_create(
        actor=org.coordinator, item_id=item.pk, data=task_data(org), source_todo_id=todo.pk
    )
    assert task.source_todo == todo
    refused(
        services.task_create,
        "待办事项“提交测试计划”已转为任务。",
        actor=org.coordinator,
        item_id=item.pk,
        data=task_data(org),
        source_todo_id=todo.pk,
    )
    refused(
        services.todo_drop,
        "待办事项“提交测试计划”已转为任务。",
        actor=org.coordinator,
        todo_id=todo.pk,
        reason="会上已解决",
    )
    assert Task.objects.count() == 1
    todo.refresh_from_db()
    assert todo.dropped_at is None


def test_a_todo_of_another_item_is_refused(org: Org, item: CollaborationItem) -> None:
    other = consensus_item(org, topic="另一个事项")
    todo = todos(other)["提交测试计划"]
    refused(
        services.task_create,
        "该待办事项不在本事项的会议纪要中。",
        actor=org.coordinator,
        item_id=item.pk,
        data=task_data(org),
        source_todo_id=todo.pk,
    )
    assert not Task.objects.exists()


def test_dropping_a_todo_needs_a_reason(org: Org, item: CollaborationItem) -> None:
    todo = todos(item)["完成功能修复"]
    error = refused(
        services.todo_drop,
        "请说明该待办事项无需转为任务的原因：各方都会看到。",
        actor=org.coordinator,
        todo_id=todo.pk,
        reason="   ",
    )
    assert "reason" in error.problems
    todo.refresh_from_db()
    assert todo.dropped_at is None
    services.todo_drop(actor=org.coordinator, todo_id=todo.pk, reason="会上已确认无需修复")
    todo.refresh_from_db()
    assert (todo.dropped_reason, todo.dropped_by) == ("会上已确认无需修复", org.coordinator)
    assert actions(item)[-1] == "todo.dropped"
    # A dropped to-do becomes no task afterwards.
    refused(
        services.task_create,
        "待办事项“完成功能修复”已取消。",
        actor=org.coordinator,
        item_id=item.pk,
        data=fix_task_data(org),
        source_todo_id=todo.pk,
    )


def test_a_participant_cannot_drop_a_todo(org: Org, item: CollaborationItem) -> None:
    todo = todos(item)["完成功能修复"]
    refused(
        services.todo_drop,
        "只有发起人和协调人可以分配本事项的任务。",
        actor=org.owner,
        todo_id=todo.pk,
        reason="不做了",
    )
    todo.refresh_from_db()
    assert todo.dropped_at is None


# --- updating tasks -----------------------------------------------------------------------------


def test_an_update_changes_the_task_and_is_audited(org: Org, item: CollaborationItem) -> None:
    task = services.task_create(actor=org.coordinator, item_id=item.pk, data=task_data(org))
    updated = services.task_update(
        actor=org.coordinator,
        task_id=task.pk,
        version=task.version,
        data=task_data(org, deadline=date(2026, 10, 12)),
    )
    assert (updated.deadline, updated.version) == (date(2026, 10, 12), task.version + 1)
    entry = AuditEntry.objects.filter(action="task.updated").get()
    assert entry.changes == {"deadline": ["2026-10-09", "2026-10-12"]}


def test_a_stale_update_is_refused(org: Org, item: CollaborationItem) -> None:
    task = services.task_create(actor=org.coordinator, item_id=item.pk, data=task_data(org))
    services.task_update(
        actor=org.coordinator, task_id=task.pk, version=task.version, data=task_data(org, name="设计测试用例")
    )
    assert_refused(
        lambda: services.task_update(
            actor=org.requester, task_id=task.pk, version=task.version, data=task_data(org, name="写测试计划")
        ),
        "在您编辑期间，其他人修改了该任务。您的修改未保存：请刷新页面查看对方的修改，然后重新修改。",
    )
    task.refresh_from_db()
    assert task.name == "设计测试用例"


def test_an_update_keeps_the_rules(org: Org, item: CollaborationItem) -> None:
    task = services.task_create(actor=org.coordinator, item_id=item.pk, data=task_data(org))
    refused(
        services.task_update,
        "该任务不符合流程模板的规则。",
        actor=org.coordinator,
        task_id=task.pk,
        version=task.version,
        data=task_data(org, delivery_standard="尽量多覆盖"),
    )
    refused(
        services.task_update,
        "只有发起人和协调人可以分配本事项的任务。",
        actor=org.owner,
        task_id=task.pk,
        version=task.version,
        data=task_data(org, name="改个名字"),
    )
    task.refresh_from_db()
    assert (task.delivery_standard, task.name, task.version) == ("测试用例覆盖率≥95%", "提交测试计划", 1)


# --- notifications ------------------------------------------------------------------------------


def notified(kind: str = "task.assigned") -> list[str]:
    return sorted(Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True))


def test_the_owner_collaborators_and_receiver_are_told_in_app_and_by_email(
    org: Org, item: CollaborationItem, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        task = services.task_create(actor=org.coordinator, item_id=item.pk, data=task_data(org))
    assert notified() == ["collaborator", "owner", "receiver"]
    note = Notification.objects.get(recipient=org.owner)
    assert "提交测试计划" in note.title and "测试用例覆盖率≥95%" in note.body and "2026年10月9日" in note.body
    assert note.url.endswith(f"/items/{item.pk}/tasks/#task-{task.pk}") and note.item_id == item.pk
    assert sorted(m.to[0] for m in mail.outbox) == [
        "collaborator@example.com",
        "owner@example.com",
        "receiver@example.com",
    ]
    assert all("提交测试计划" in m.subject for m in mail.outbox)


def test_people_read_the_assignment_in_their_language(org: Org, item: CollaborationItem) -> None:
    person = org.owner.person
    person.language = "en"
    person.save()
    services.task_create(actor=org.coordinator, item_id=item.pk, data=task_data(org))
    note = Notification.objects.get(recipient=org.owner)
    assert note.title == 'You own the task "提交测试计划"'
    assert "Delivery standard: 测试用例覆盖率≥95%" in note.body


def test_a_change_of_people_tells_only_the_newly_added(
    org: Org, item: CollaborationItem, django_capture_on_commit_callbacks: Any
) -> None:
    task = services.task_create(actor=org.coordinator, item_id=item.pk, data=task_data(org))
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        services.task_update(
            actor=org.coordinator,
            task_id=task.pk,
            version=task.version,
            data=task_data(org, collaborator_ids=[org.collaborator.pk, org.qa_head.pk]),
        )
    assert notified() == ["qa_head"]
    assert notified("task.changed") == []
    assert [m.to for m in mail.outbox] == [["qa_head@example.com"]]


def test_a_new_owner_is_told_and_the_others_hear_of_a_new_deadline(org: Org, item: CollaborationItem) -> None:
    task = services.task_create(actor=org.coordinator, item_id=item.pk, data=task_data(org))
    Notification.objects.all().delete()
    services.task_update(
        actor=org.coordinator,
        task_id=task.pk,
        version=task.version,
        data=task_data(org, owner_id=org.qa_head.pk, deadline=date(2026, 10, 12)),
    )
    assert notified() == ["qa_head"]
    assert notified("task.changed") == ["collaborator", "receiver"]
    assert "2026年10月12日" in Notification.objects.get(recipient=org.receiver).body


# --- departments without a task and the start of execution -------------------------------------


def test_a_department_without_a_task_needs_a_reason(org: Org, item: CollaborationItem) -> None:
    refused(
        services.department_exempt,
        "请说明研发部无需任务的原因：各方都会看到。",
        actor=org.coordinator,
        item_id=item.pk,
        department_id=org.rnd.pk,
        reason="",
    )
    refused(
        services.department_exempt,
        "只有本事项的参与部门才能设为不分配任务。",
        actor=org.coordinator,
        item_id=item.pk,
        department_id=org.finance.pk,
        reason="不参与",
    )
    refused(
        services.department_exempt,
        "只有发起人和协调人可以分配本事项的任务。",
        actor=org.owner,
        item_id=item.pk,
        department_id=org.rnd.pk,
        reason="只需知会",
    )
    assert not DepartmentExemption.objects.exists()
    exemption = services.department_exempt(
        actor=org.coordinator, item_id=item.pk, department_id=org.rnd.pk, reason="只需知会,无交付"
    )
    assert exemption.reason == "只需知会,无交付"
    refused(
        services.department_exempt,
        "已记录研发部不设任务的原因。",
        actor=org.coordinator,
        item_id=item.pk,
        department_id=org.rnd.pk,
        reason="再记一次",
    )
    services.department_exemption_remove(actor=org.coordinator, exemption_id=exemption.pk)
    assert not DepartmentExemption.objects.exists()
    assert actions(item)[-2:] == ["department.exempted", "department.exemption_removed"]


def test_a_department_with_a_task_is_not_exempted(org: Org, item: CollaborationItem) -> None:
    services.task_create(actor=org.coordinator, item_id=item.pk, data=fix_task_data(org))
    refused(
        services.department_exempt,
        "研发部已有任务。",
        actor=org.coordinator,
        item_id=item.pk,
        department_id=org.rnd.pk,
        reason="无",
    )


def test_execution_starts_only_when_nothing_is_left_out(org: Org, item: CollaborationItem) -> None:
    services.task_create(actor=org.coordinator, item_id=item.pk, data=task_data(org))
    item.refresh_from_db()
    with translation.override("en"):
        error = refused(
            services.item_start_execution,
            "The task breakdown leaves something out:",
            actor=org.coordinator,
            item_id=item.pk,
            version=item.version,
        )
    assert error.problems["gaps"] == [
        'The to-do "提交测试计划" has neither become a task nor been dropped with a reason.',
        'The to-do "完成功能修复" has neither become a task nor been dropped with a reason.',
        "研发部 takes part but has no task: give it one, or record why it needs none.",
    ]
    assert status(item) == ItemStatus.PLANNED
    by_text = todos(item)
    services.todo_drop(actor=org.coordinator, todo_id=by_text["提交测试计划"].pk, reason="已由上面的任务覆盖")
    services.task_create(
        actor=org.coordinator,
        item_id=item.pk,
        data=fix_task_data(org),
        source_todo_id=by_text["完成功能修复"].pk,
    )
    item.refresh_from_db()
    refused(
        services.item_start_execution,
        "只有发起人和协调人可以分配本事项的任务。",
        actor=org.owner,
        item_id=item.pk,
        version=item.version,
    )
    started = services.item_start_execution(actor=org.coordinator, item_id=item.pk, version=item.version)
    assert started.status == ItemStatus.EXECUTING == status(item)
    assert actions(item)[-1] == "item.status_changed"


def test_tasks_can_still_be_added_during_execution(org: Org, item: CollaborationItem) -> None:
    cover_everything(org, item)
    item.refresh_from_db()
    services.item_start_execution(actor=org.coordinator, item_id=item.pk, version=item.version)
    services.task_create(actor=org.coordinator, item_id=item.pk, data=task_data(org, name="回归测试"))
    assert status(item) == ItemStatus.EXECUTING and item.tasks.count() == 3
    item.refresh_from_db()
    refused(
        services.item_start_execution,
        "已开始执行。",
        actor=org.coordinator,
        item_id=item.pk,
        version=item.version,
    )


def test_an_item_at_consensus_without_tasks_does_not_start(org: Org, item: CollaborationItem) -> None:
    with translation.override("en"):
        error = refused(
            services.item_start_execution,
            "The task breakdown leaves something out:",
            actor=org.coordinator,
            item_id=item.pk,
            version=item.version,
        )
    assert "No task has been planned yet." in error.problems["gaps"]
    assert status(item) == ItemStatus.CONSENSUS
