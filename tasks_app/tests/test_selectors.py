"""What the breakdown leaves out (保证无遗漏), and the register's task columns."""

from datetime import date
from typing import Any

import pytest
from django.utils import translation

from collab.lib.xlsx import as_text
from collab.testing import Org
from requests_app.models import CollaborationItem
from requests_app.register import RegisterLabels, records_of, register_records, register_values
from tasks_app import services
from tasks_app.models import Task
from tasks_app.selectors import (
    breakdown_gaps,
    latest_deadline,
    owners_text,
    register_tasks_prefetch,
    task_assignment_text,
)
from tasks_app.tests.support import consensus_item, cover_everything, fix_task_data, task_data, todos

pytestmark = pytest.mark.django_db


def gaps(item: CollaborationItem) -> list[str]:
    with translation.override("en"):
        return breakdown_gaps(item)


def test_at_consensus_nothing_is_planned_and_everything_is_open(org: Org, item: CollaborationItem) -> None:
    assert gaps(item) == [
        "No task has been planned yet.",
        'The to-do "提交测试计划" has neither become a task nor been dropped with a reason.',
        'The to-do "完成功能修复" has neither become a task nor been dropped with a reason.',
        "研发部 takes part but has no task: give it one, or record why it needs none.",
        "测试部 takes part but has no task: give it one, or record why it needs none.",
    ]


def test_a_todo_left_open_is_named(org: Org, item: CollaborationItem) -> None:
    by_text = todos(item)
    services.task_create(
        actor=org.coordinator, item_id=item.pk, data=task_data(org), source_todo_id=by_text["提交测试计划"].pk
    )
    services.task_create(actor=org.coordinator, item_id=item.pk, data=fix_task_data(org))
    assert gaps(item) == [
        'The to-do "完成功能修复" has neither become a task nor been dropped with a reason.'
    ]
    services.todo_drop(actor=org.coordinator, todo_id=by_text["完成功能修复"].pk, reason="已并入第二个任务")
    assert gaps(item) == []


def test_a_department_without_a_task_is_named_until_exempted(org: Org, item: CollaborationItem) -> None:
    cover_everything(org, item)
    Task.objects.filter(department=org.rnd).update(department=org.product)
    assert gaps(item) == ["研发部 takes part but has no task: give it one, or record why it needs none."]
    services.department_exempt(
        actor=org.coordinator, item_id=item.pk, department_id=org.rnd.pk, reason="只需知会"
    )
    assert gaps(item) == []


def test_all_covered_means_no_gaps(org: Org, item: CollaborationItem) -> None:
    cover_everything(org, item)
    assert breakdown_gaps(item) == []


def test_a_task_whose_standard_is_blank_is_named(org: Org, item: CollaborationItem) -> None:
    # Only a write around the services can do this (the database refuses "" but not "  ").
    cover_everything(org, item)
    Task.objects.filter(name="提交测试计划").update(delivery_standard="  ")
    assert gaps(item) == ['The task "提交测试计划" has no delivery standard.']


def test_gaps_take_the_same_queries_for_few_and_many_rows(
    org: Org, item: CollaborationItem, django_assert_max_num_queries: Any
) -> None:
    cover_everything(org, item)
    with django_assert_max_num_queries(6):
        breakdown_gaps(item)
    for n in range(8):
        services.task_create(actor=org.coordinator, item_id=item.pk, data=task_data(org, name=f"任务{n}"))
    with django_assert_max_num_queries(6):
        breakdown_gaps(item)


# --- the register's columns ---------------------------------------------------------------------


def _items_with_tasks() -> list[CollaborationItem]:
    return list(CollaborationItem.objects.prefetch_related(register_tasks_prefetch()).order_by("pk"))


def test_the_assignments_read_like_the_templates_example(org: Org, item: CollaborationItem) -> None:
    cover_everything(org, item)
    [loaded] = _items_with_tasks()
    tasks = loaded.tasks.all()
    with translation.override("en"):
        assert task_assignment_text(tasks) == (
            "1. 测试部 吴杰: 提交测试计划 by October 9; 2. 研发部 孙磊: 完成功能修复 by October 12"
        )
        assert owners_text(tasks) == "测试部/吴杰, 研发部/孙磊"
    assert latest_deadline(tasks) == date(2026, 10, 12)


def test_an_owner_with_two_tasks_is_named_once(org: Org, item: CollaborationItem) -> None:
    cover_everything(org, item)
    services.task_create(actor=org.coordinator, item_id=item.pk, data=task_data(org, name="回归测试"))
    [loaded] = _items_with_tasks()
    with translation.override("en"):
        assert owners_text(loaded.tasks.all()) == "测试部/吴杰, 研发部/孙磊"


def test_an_item_without_tasks_has_empty_columns(org: Org, item: CollaborationItem) -> None:
    [loaded] = _items_with_tasks()
    assert (task_assignment_text(loaded.tasks.all()), owners_text(loaded.tasks.all())) == ("", "")
    assert latest_deadline(loaded.tasks.all()) is None


def test_the_columns_cost_no_query_per_item(org: Org, django_assert_num_queries: Any) -> None:
    for n in range(3):
        cover_everything(org, consensus_item(org, topic=f"事项{n}"))
    with django_assert_num_queries(2):  # the items, then their tasks with departments and owners
        texts = [
            (task_assignment_text(i.tasks.all()), owners_text(i.tasks.all()), latest_deadline(i.tasks.all()))
            for i in _items_with_tasks()
        ]
    assert len(texts) == 3 and all(t[0] for t in texts)


def _export_rows(chunk: int) -> list[list[Any]]:
    labels = RegisterLabels()
    items = CollaborationItem.objects.order_by("pk")
    return [register_values(record, labels) for record in register_records(items, chunk)]


def test_the_export_reads_each_chunk_in_five_queries_whatever_its_size(
    org: Org, django_assert_num_queries: Any
) -> None:
    """The export builds no model instances: per chunk, the items' values, then their
    participations, milestones, meetings and task lines, one query each (plus one for the ids);
    the names of departments and people are read once for the whole export, by the chunk that
    first needs them (departments and people for the items, then the task owners)."""
    for n in range(3):
        cover_everything(org, consensus_item(org, topic=f"事项{n}"))
    with django_assert_num_queries(1 + 5 + 3):
        assert len(_export_rows(chunk=100)) == 3
    for n in range(3, 30):
        consensus_item(org, topic=f"事项{n}")
    with django_assert_num_queries(1 + 5 + 3):
        assert len(_export_rows(chunk=100)) == 30
    # The same people's items in three chunks: their names are not read again.
    with django_assert_num_queries(1 + 5 * 3 + 3):
        assert len(_export_rows(chunk=10)) == 30


def test_the_export_writes_the_rows_the_page_shows(org: Org, item: CollaborationItem) -> None:
    cover_everything(org, item)
    services.task_create(actor=org.coordinator, item_id=item.pk, data=task_data(org, name="回归测试"))
    consensus_item(org, topic="没有任务的事项")
    with translation.override("zh-hans"):
        labels = RegisterLabels()
        ids = list(CollaborationItem.objects.order_by("pk").values_list("pk", flat=True))
        page = [[as_text(v) for v in register_values(record, labels)] for record in records_of(ids)]
        export = [[as_text(v) for v in row] for row in _export_rows(chunk=1)]
    assert export == page
    assert "1.测试部吴杰10月9日前提交测试计划" in page[0][6] and page[0][7] == "测试部/吴杰、研发部/孙磊"
    assert page[0][8] == "2026-10-15" and page[1][6] == ""
