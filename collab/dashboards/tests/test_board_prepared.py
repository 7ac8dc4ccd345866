"""The boards' item rows are read by a statement compiled once for stand-in values and run for
each request's ids, moment and department: the SQL must be what the ORM compiles for the real
values, and the rows the same."""

from collections.abc import Iterator
from datetime import date, datetime

import pytest
import time_machine
from django.db import connection

from collab.dashboards.board_prepared import STAND_IN_NOW, ModelStatement
from collab.dashboards.board_selectors import item_rows, with_health
from collab.dashboards.coordinator_selectors import _items
from collab.dashboards.department_selectors import _items_of, item_rows_of
from collab.dashboards.health import due_soon_limit
from collab.dashboards.tests.support import at, populate
from collab.org.calendar import calendar_for
from collab.testing import Org
from requests_app.models import CollaborationItem

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(at("2026-09-30 10:00"), tick=False):
        yield


FIELDS = (
    "task_total",
    "task_done",
    "pending_reviews",
    "late_tasks",
    "escalations",
    "overdue_reviews",
    "stale_tasks",
    "open_problems",
    "blocked_tasks",
    "due_soon_behind",
    "emergency_waiting",
)


def moments() -> list[tuple[datetime, date, date]]:
    calendar = calendar_for(None)
    found = []
    for now in (at("2026-09-30 10:00"), at("2026-10-09 16:00"), at("2026-09-28 08:00")):
        today = now.date()
        found.append((now, today, due_soon_limit(calendar, today)))
    return found


def test_the_rows_equal_those_of_the_queryset_compiled_for_the_real_values(org: Org) -> None:
    populate(org, 3)
    ids = list(CollaborationItem.objects.order_by("-pk").values_list("pk", flat=True))
    for now, today, soon in moments():
        for department in (org.qa, org.rnd):
            fresh = with_health(
                _items_of(department.pk).filter(pk__in=ids), now=now, today=today, soon=soon
            ).in_bulk()
            rows = item_rows_of(department, ids, now=now, today=today, soon=soon)
            assert [row.item.pk for row in rows] == ids
            for row in rows:
                expected = fresh[row.item.pk]
                names = (*FIELDS, "department_open", "topic", "status", "coordinator_id")
                assert [getattr(row.item, n) for n in names] == [getattr(expected, n) for n in names]
                # select_related: the coordinator's person read with the row.
                assert row.item.coordinator.person == expected.coordinator.person
        rows = item_rows("coordinator items", _items, ids[:2], now=now, today=today, soon=soon)
        assert [row.item.requesting_department for row in rows] == [org.product, org.product]


def test_the_compiled_sql_is_the_orms_for_the_stand_ins(org: Org) -> None:
    def build(ids: list[int], now: datetime, dates: tuple[date, ...], key: int):  # type: ignore[no-untyped-def]
        return with_health(_items_of(key).filter(pk__in=ids), now=now, today=dates[0], soon=dates[1])

    statement = ModelStatement(connection, build, 3)
    sql, params = build(
        [1, 2, 3], at("2026-09-30 10:00"), (date(2026, 9, 30), date(2026, 10, 8)), 5
    ).query.sql_with_params()
    assert statement.sql == sql
    assert len(statement.params) == len(params)
    assert {name for _index, name, _n in statement.slots} == {"id", "now", "date", "key"}


def test_a_stand_in_that_changes_shape_is_refused(org: Org) -> None:
    def build(ids: list[int], now: datetime, dates: tuple[date, ...], key: int):  # type: ignore[no-untyped-def]
        # The moment turned into a date: a different parameter than the one compiled for.
        return CollaborationItem.objects.filter(pk__in=ids, submitted_at__date=now.date())

    with pytest.raises(ValueError, match="changed shape"):
        ModelStatement(connection, build, 2)
    assert STAND_IN_NOW.year == 1901
