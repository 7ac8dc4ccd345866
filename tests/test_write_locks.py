"""The row locks of the writes serialise the writers of an item and nothing else.

Every write of an item locks its row first (and the task, deliverable or to-do it acts on) so
two writers queue instead of racing past a check. The locks are ``FOR NO KEY UPDATE``: they
conflict with each other, as ``FOR UPDATE`` would, but not with the ``FOR KEY SHARE`` lock that
PostgreSQL's foreign-key check takes on the row an inserted row names. With ``FOR UPDATE``, a
progress report held its owner's user row, and every other transaction writing a row that names
the owner (a notification, an audit row, a task) or the item waited for the report's commit.

And a progress report locks its item before its task, as the deliverables' and the tasks' writes
do: holding the task while waiting for the item would deadlock with a writer that holds the item
and waits for the task.

The inserting side sets a lock timeout: blocked, it fails with "lock timeout" (no timing is
measured; a passing insert is immediate).
"""

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import DatabaseError, connection, connections, transaction

from collab.notify.models import Notification
from collab.prepared_rows import row_by_key
from collab.testing import Org, item_held, make_org
from requests_app.models import CollaborationItem, Todo
from requests_app.services import locked_item
from reviews_app import delivery_services
from reviews_app.models import Deliverable
from reviews_app.tests.delivery_support import plan_task, started_item, submit
from tasks_app import services as task_services
from tasks_app import tracking_services
from tasks_app.models import Alert, Task
from tasks_app.tests.support import consensus_item

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks: SQLite has one writer and no row locks"
    ),
    pytest.mark.django_db(transaction=True),
]

# How long the other transaction waits for a lock before it gives up (not a measured time: a
# statement that is not blocked returns at once).
LOCK_TIMEOUT = "2s"


def in_another_transaction(work: Callable[[], Any]) -> str:
    """Runs ``work`` in a transaction of another connection (another thread) while this one holds
    its locks; returns "" or the database's error (a lock timeout when it was blocked)."""
    outcome: list[str] = []

    def run() -> None:
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                work()
            outcome.append("")
        except DatabaseError as error:
            outcome.append(str(error).strip())
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(60)
    assert outcome, "the other transaction did not finish"
    return outcome[0]


def rows_naming(item: CollaborationItem, task: Task) -> Callable[[], None]:
    """What other writers insert meanwhile: a notification for the task's owner about the item
    (a foreign key to the user and to the item) and a warning of the task."""

    def insert() -> None:
        Notification.objects.create(
            recipient_id=task.owner_id, kind="test.lock", title="锁", item_id=item.pk, url="/"
        )
        Alert.objects.create(task_id=task.pk, kind="overdue", due_at=task.item.created_at)

    return insert


@pytest.fixture
def org() -> Org:
    return make_org()


def test_a_progress_report_holds_up_no_row_that_names_its_task_item_or_owner(org: Org) -> None:
    item = started_item(org)
    task = plan_task(item)
    with transaction.atomic():
        locked = row_by_key(tracking_services._task_to_report_on, task.pk)
        assert locked.pk == task.pk
        assert in_another_transaction(rows_naming(item, task)) == ""
        # Writers still queue behind it: another report's lock waits (and here times out).
        assert "lock timeout" in in_another_transaction(
            lambda: row_by_key(tracking_services._task_to_report_on, task.pk)
        )
    assert Notification.objects.filter(kind="test.lock", recipient=org.owner).count() == 1


def test_the_locks_of_a_deliverable_hold_up_no_row_that_names_them(org: Org) -> None:
    item = started_item(org)
    task = plan_task(item)
    deliverable = submit(org, task)
    with transaction.atomic():
        delivery_services._lock(deliverable.pk)

        def insert() -> None:
            rows_naming(item, task)()
            Deliverable.objects.create(
                task_id=task.pk, name="第二份", deliverer=org.owner, receiver=org.receiver
            )

        assert in_another_transaction(insert) == ""
        assert "lock timeout" in in_another_transaction(lambda: delivery_services._lock(deliverable.pk))


def test_a_new_task_from_a_to_do_holds_up_neither_its_minutes_nor_its_meeting(org: Org) -> None:
    item = consensus_item(org)
    todo = Todo.objects.select_related("minutes__meeting").filter(minutes__meeting__item=item).first()
    assert todo is not None
    with transaction.atomic():
        locked_item(item.pk)
        task_services._todo_for_task(item, todo.pk)

        def insert() -> None:
            Todo.objects.create(
                minutes=todo.minutes, text="补充用例", owner=org.owner, due_date=todo.due_date
            )
            Notification.objects.create(
                recipient_id=org.owner.pk, kind="test.lock", title="锁", item_id=item.pk, url="/"
            )

        assert in_another_transaction(insert) == ""
        assert "lock timeout" in in_another_transaction(lambda: locked_item(item.pk))


def waiting_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return bool(cursor.fetchone()[0])


def test_a_progress_report_waits_for_its_item_before_it_holds_its_task(org: Org) -> None:
    """The order every write of an item keeps (item, then task): a report waiting for an item
    that a deliverable's write holds must not hold the task that write locks next."""
    item = started_item(org)
    task = plan_task(item)
    reporting_done = threading.Event()

    def reporter() -> None:
        try:
            with transaction.atomic():
                row_by_key(tracking_services._task_to_report_on, task.pk)
        finally:
            reporting_done.set()
            connections.close_all()

    with item_held(item):
        thread = threading.Thread(target=reporter)
        thread.start()
        for _ in range(3000):  # until the report waits for the item (at most 30 s)
            if waiting_for_a_lock():
                break
            threading.Event().wait(0.01)
        else:
            pytest.fail("the report never waited for the item")
        # The item's holder goes on to lock the task, as a deliverable's write does: not blocked.
        assert (
            in_another_transaction(
                lambda: Task.objects.select_for_update(nowait=True, no_key=True).get(pk=task.pk)
            )
            == ""
        )
        assert not reporting_done.is_set()
    thread.join(60)
    assert reporting_done.is_set()
