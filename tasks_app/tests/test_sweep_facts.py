"""The items' stored health facts that the warning sweep changes (an escalation sent, a "report
missing" cancelled) are written in the batch's own transaction, set-based over its items, and the
sweep never waits for an item a writer holds."""

from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from collab.dashboards.tests.test_health_facts import facts
from collab.testing import Org, item_held, make_org
from requests_app.health_facts import item_health_refresh
from requests_app.models import CollaborationItem
from tasks_app import alerts
from tasks_app.models import Alert
from tasks_app.tests.support import executing_item
from tasks_app.tests.test_alerts import at, due_warnings

pytestmark = pytest.mark.django_db


def executing_items(org: Org, count: int) -> list[CollaborationItem]:
    """Items in execution whose only due warnings are those ``due_warnings`` adds."""
    with time_machine.travel(at("2026-09-29 10:00"), tick=False):
        items = [executing_item(org) for _ in range(count)]
    Alert.objects.update(cancelled_at=at("2026-09-29 10:00"))
    return items


def sweep(moment: str, **options: Any) -> int:
    with time_machine.travel(at(moment), tick=False):
        return alerts.sweep_alerts(**options)


def test_each_batch_stores_the_facts_it_changes_before_it_commits(org: Org) -> None:
    """Nothing of a batch runs after its commit: a process that dies between two batches leaves
    no item with stale facts (each batch's facts are written inside its savepoint here)."""
    (item,) = executing_items(org, 1)
    due_warnings(org, item, 14, label="批次")
    item_health_refresh([item.pk])  # the rows above were written behind the services' back
    assert facts(item)["health_escalations"] == 0
    with CaptureQueriesContext(connection) as queries:
        assert sweep("2026-10-12 09:30", batch_size=5) == 14
    # Two rungs of each seven go up the ladder (overdue and report missing, steps 1 and 2).
    assert facts(item)["health_escalations"] == 8
    statements = [query["sql"].split()[0].upper() for query in queries.captured_queries]
    updates = [
        index
        for index, query in enumerate(queries.captured_queries)
        if query["sql"].startswith(f'UPDATE "{CollaborationItem._meta.db_table}"')
    ]
    releases = [index for index, statement in enumerate(statements) if statement == "RELEASE"]
    assert updates and len(releases) == 4  # 15 claimed in batches of 5, then an empty claim
    for index in updates:
        # Each refresh is the last statement of its batch: the next one ends the savepoint.
        assert statements[index + 1] == "RELEASE"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks (SQLite has a single writer)")
@pytest.mark.django_db(transaction=True)
def test_the_sweep_leaves_the_warnings_of_an_item_a_writer_holds_for_later() -> None:
    org = make_org()
    held, free = executing_items(org, 2)
    due_warnings(org, held, 7, label="占用")
    due_warnings(org, free, 7, label="空闲")
    item_health_refresh([held.pk, free.pk])
    with item_held(held):
        # Not waited for: the held item's warnings stay due, the other item's go out.
        assert sweep("2026-10-12 09:30") == 7
        assert facts(free)["health_escalations"] == 4
        assert facts(held)["health_escalations"] == 0
    assert sweep("2026-10-12 09:31") == 7
    assert facts(held)["health_escalations"] == 4
