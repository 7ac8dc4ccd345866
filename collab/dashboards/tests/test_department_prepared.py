"""The department board reads its lists through statements compiled once per connection
(board_prepared): what it shows must equal the plain ORM querysets of the full lists, for any
department and moment, and the statements must not be rebuilt for the next request."""

from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.db.models import Count, Q
from django.test.utils import CaptureQueriesContext

from collab.dashboards import department_selectors as ds
from collab.dashboards.board_selectors import capped_count, ranked, unanswered_escalation
from collab.dashboards.coordinator_selectors import TOP_ENTRIES, TOP_ITEMS
from collab.dashboards.tests.support import alert, at, measure, populate, raw_item, raw_task
from collab.testing import Org
from requests_app.models import ItemStatus
from tasks_app.models import TaskStatus

pytestmark = pytest.mark.django_db

START, END = at("2026-07-01 00:00"), at("2026-10-01 00:00")


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(at("2026-09-30 10:00"), tick=False):
        yield


def busy(org: Org) -> None:
    """More than the board's top of each list, in QA and R&D, with a head; people of every load."""
    populate(org, 2)
    owners = [org.owner, org.collaborator, org.receiver, org.qa_head]
    for n in range(14):
        item = raw_item(org, status=ItemStatus.EXECUTING if n % 3 else ItemStatus.PLANNED)
        for k, owner in enumerate(owners[: n % 4 + 1]):
            task = raw_task(
                org,
                item,
                name=f"任务{n}-{k}",
                owner=owner,
                department=org.qa if k % 2 == 0 else org.rnd,
                deadline=date(2026, 9, 30) + timedelta(days=(n * 3 + k) % 11 - 5),
                status=TaskStatus.BLOCKED if k == 2 else TaskStatus.IN_PROGRESS,
                percent=10 * k,
            )
            if n % 5 == 0:
                alert(task, step=1, due="2026-09-29 09:00", sent="2026-09-29 09:00")
        measure(org, item, department=org.qa, due=date(2026, 10, 1) + timedelta(days=n))
    raw_item(org, status=ItemStatus.CLOSED)


def expected(department: object, now: datetime) -> dict[str, object]:
    moment = ds._moment(department, now)  # type: ignore[arg-type]
    today, soon = moment.today, moment.soon
    involved = ds.involved_items(department)  # type: ignore[arg-type]
    counts = ds._open_tasks(department).aggregate(  # type: ignore[arg-type]
        total=Count("pk"),
        late=Count("pk", filter=Q(deadline__lt=today)),
        escalated=Count("pk", filter=unanswered_escalation()),
    )
    people = ds._workload(department, today)  # type: ignore[arg-type]
    return {
        "items": list(
            ranked(involved, now=now, today=today, soon=soon).values_list("pk", flat=True)[:TOP_ITEMS]
        ),
        "item_count": capped_count(involved, ds.ITEM_COUNT_CAP),
        "counts": (counts["total"], counts["late"], counts["escalated"]),
        "tasks": [t.pk for t in ds._ranked_tasks(department, moment)[:TOP_ENTRIES]],  # type: ignore[arg-type]
        "workload": [(u.pk, u.open_tasks, u.late_tasks) for u in people[:TOP_ENTRIES]],
        "people": people.count(),
        "measures": [m.pk for m in ds._measures(department)[:TOP_ENTRIES]],  # type: ignore[arg-type]
    }


def shown(board: ds.DepartmentBoard) -> dict[str, object]:
    return {
        "items": [row.item.pk for row in board.items],
        "item_count": board.item_count,
        "counts": (board.task_total, board.late_count, board.escalated_count),
        "tasks": [row.task.pk for row in board.tasks],
        "workload": [(load.user.pk, load.open_tasks, load.late_tasks) for load in board.workload],
        "people": board.people_total,
        "measures": [m.pk for m in board.measures],
    }


def test_the_board_equals_the_full_lists_querysets(org: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    busy(org)
    for when in ("2026-09-30 10:00", "2026-10-06 16:00", "2026-09-24 08:00"):
        now = at(when)
        for department in (org.qa, org.rnd, org.product):
            board = ds.department_board(department, start_at=START, end_at=END, now=now)
            assert shown(board) == expected(department, now), (when, department)
            for row in board.tasks:  # related rows come with the task, as the ORM makes them
                assert row.task.department_id == department.pk and row.task.owner.person.region_id is not None
            for load in board.workload:
                assert load.user.person is not None
    qa = shown(ds.department_board(org.qa, start_at=START, end_at=END))
    assert qa["counts"][0] > TOP_ENTRIES and len(qa["tasks"]) == TOP_ENTRIES  # type: ignore[index]
    assert qa["counts"][2] > 0 and qa["people"] > 1 and len(qa["measures"]) == TOP_ENTRIES  # type: ignore[index, operator]
    # A cap set lower is another statement: the count stops there.
    monkeypatch.setattr(ds, "ITEM_COUNT_CAP", 3)
    board = ds.department_board(org.qa, start_at=START, end_at=END)
    assert (board.item_count.value, board.item_count.capped) == (3, True)


def test_a_department_without_open_tasks_or_head(org: Org) -> None:
    org.rnd.head = None
    org.rnd.save()
    board = ds.department_board(org.rnd, start_at=START, end_at=END)
    assert (board.task_total, board.late_count, board.escalated_count, board.tasks) == (0, 0, 0, [])
    assert shown(board) == expected(org.rnd, at("2026-09-30 10:00"))


def test_the_board_costs_a_bounded_number_of_queries(org: Org) -> None:
    """R&D has fewer than TOP_ENTRIES late tasks: one more query ranks its others."""
    busy(org)
    ds.department_board(org.qa, start_at=START, end_at=END)
    with CaptureQueriesContext(connection) as first:
        ds.department_board(org.rnd, start_at=START, end_at=END)
    with CaptureQueriesContext(connection) as second:
        ds.department_board(org.qa, start_at=START, end_at=END)
    assert len(second) <= len(first) <= len(second) + 1 <= 11


def test_the_top_items_are_read_tier_by_tier_and_equal_the_ranking(org: Org) -> None:
    """Items over every stage and health, more than the top in some (rank, stage) tiers and none
    in others: the top read tier by tier (PostgreSQL) equals the full ranking cut at the top,
    at moments that move items between tiers."""
    for n in range(30):
        status = (ItemStatus.SUBMITTED, ItemStatus.CONSENSUS, ItemStatus.PLANNED, ItemStatus.EXECUTING)[n % 4]
        item = raw_item(org, status=status, topic=f"事项{n}")
        if status in (ItemStatus.PLANNED, ItemStatus.EXECUTING):
            raw_task(org, item, name=f"任务{n}", deadline=date(2026, 9, 20) + timedelta(days=n), percent=n)
    for when in ("2026-09-30 10:00", "2026-10-10 10:00", "2026-09-01 10:00", "2026-11-30 10:00"):
        now = at(when)
        with CaptureQueriesContext(connection) as queries:
            board = ds.department_board(org.qa, start_at=START, end_at=END, now=now)
        assert shown(board)["items"] == expected(org.qa, now)["items"], when
        assert len(board.items) == TOP_ITEMS
        tiered = any('AS "tier"' in q["sql"] for q in queries.captured_queries)
        assert tiered == connection.features.supports_slicing_ordering_in_compound
