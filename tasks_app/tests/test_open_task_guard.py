"""The database refuses an open task outside a planned or executing item (tasks_app 0008),
whatever writes the rows: the boards and My work count "open tasks" without asking each task's
item whether it is still live, so a task left open on an archived item would count as someone's
work for ever."""

from collections.abc import Callable
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import translation

from collab.audit.models import AuditEntry
from collab.testing import Org, make_org
from requests_app.history import history_rows
from requests_app.models import CollaborationItem, ItemStatus
from tasks_app import services
from tasks_app.models import Task, TaskStatus
from tasks_app.tests.support import consensus_item, executing_item, finish_tasks, task_data

pytestmark = pytest.mark.django_db


def refused(write: Callable[[], Any]) -> None:
    with pytest.raises(IntegrityError, match="tasks_open_task_guard"), transaction.atomic():
        write()


def copy_of(task: Task, **changes: Any) -> Task:
    values = {f.attname: getattr(task, f.attname) for f in Task._meta.concrete_fields if not f.primary_key}
    values.update(source_todo_id=None, **changes)
    return Task(**values)


def test_the_first_task_plans_the_item_and_archiving_waits_for_every_task(org: Org) -> None:
    item = consensus_item(org)
    task = services.task_create(actor=org.coordinator, item_id=item.pk, data=task_data(org))
    item.refresh_from_db()
    assert item.status == ItemStatus.PLANNED and task.status == TaskStatus.NOT_STARTED

    def archive() -> None:
        CollaborationItem.objects.filter(pk=item.pk).update(status=ItemStatus.CLOSED)

    refused(archive)
    assert CollaborationItem.objects.get(pk=item.pk).status == ItemStatus.PLANNED
    finish_tasks(item)
    archive()
    assert CollaborationItem.objects.get(pk=item.pk).status == ItemStatus.CLOSED


def test_no_open_task_is_written_on_an_item_that_is_not_live(org: Org) -> None:
    item = executing_item(org)
    task = Task.objects.filter(item=item).order_by("pk").first()
    assert task is not None
    submitted = consensus_item(org)
    finish_tasks(item)
    CollaborationItem.objects.filter(pk=item.pk).update(status=ItemStatus.CLOSED)
    tasks_before = sorted(Task.objects.values_list("pk", "item_id", "status"))

    # A new open task on the archived item or on one still in consensus (the admin, a script).
    refused(lambda: copy_of(task, status=TaskStatus.IN_PROGRESS).save())
    refused(lambda: copy_of(task, item_id=submitted.pk, status=TaskStatus.NOT_STARTED).save())
    refused(lambda: Task.objects.bulk_create([copy_of(task, status=TaskStatus.BLOCKED)]))
    # Reopened on the archived item.
    refused(lambda: Task.objects.filter(pk=task.pk).update(status=TaskStatus.IN_PROGRESS))
    assert sorted(Task.objects.values_list("pk", "item_id", "status")) == tasks_before

    # Done, it may be written there (an archived item's record of its work).
    done = Task.objects.filter(item=item, status=TaskStatus.DONE).count()
    copy_of(task, status=TaskStatus.DONE).save()
    assert Task.objects.filter(item=item, status=TaskStatus.DONE).count() == done + 1


def test_an_open_task_is_not_moved_onto_an_archived_item(org: Org) -> None:
    live = executing_item(org)
    archived = executing_item(org)
    finish_tasks(archived)
    CollaborationItem.objects.filter(pk=archived.pk).update(status=ItemStatus.CLOSED)
    task = Task.objects.filter(item=live).exclude(status=TaskStatus.DONE).first()
    assert task is not None

    refused(lambda: Task.objects.filter(pk=task.pk).update(item=archived))
    assert Task.objects.get(pk=task.pk).item_id == live.pk
    # Its other columns are written as before (the guard looks only at a changed status or item).
    Task.objects.filter(pk=task.pk).update(percent_done=60)
    assert Task.objects.get(pk=task.pk).percent_done == 60


def migrate(targets: list[tuple[str, str]] | None = None) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(targets or executor.loader.graph.leaf_nodes())


def test_the_upgrade_finishes_the_tasks_an_older_version_left_open_on_archived_items(
    transactional_db: Any,
) -> None:
    """Before a signed deliverable made its task done, an archived item could keep open tasks:
    the guard's migration finishes them as signing does today, with the history saying so."""
    org = make_org()
    archived, live = executing_item(org), executing_item(org)
    try:
        migrate([("tasks_app", "0007_task_open_by_department")])
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE requests_app_collaborationitem SET status = 'closed' WHERE id = %s", [archived.pk]
            )
    finally:
        migrate()  # the latest state again, whatever happened

    left = Task.objects.filter(item=archived).order_by("pk")
    assert [(t.status, t.percent_done, t.done_at is not None) for t in left] == [
        (TaskStatus.DONE, 100, True)
    ] * 2
    assert set(Task.objects.filter(item=live).values_list("status", flat=True)) == {TaskStatus.NOT_STARTED}
    entries = AuditEntry.objects.filter(action="task.delivered", target_id=str(archived.pk), actor=None)
    assert sorted(e.changes["task"][0] for e in entries) == sorted(t.name for t in left)
    assert all(e.changes["status"][1] == {"field": "tasks_app.task.status", "value": "done"} for e in entries)
    assert not AuditEntry.objects.filter(action="task.delivered", target_id=str(live.pk)).exists()
    with translation.override("en"):
        rows = history_rows(list(entries))
    assert {(r.actor, r.action) for r in rows} == {
        ("the system", "completed a task with a signed deliverable")
    }
    assert all(("Not started", "Done") in {change[1:] for change in r.changes} for r in rows)
    # And the guard is in place.
    refused(lambda: Task.objects.filter(item=archived).update(status=TaskStatus.IN_PROGRESS))
