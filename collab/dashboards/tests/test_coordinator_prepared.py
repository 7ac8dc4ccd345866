"""The coordinator's board reads its lists through statements compiled once per connection
(board_prepared): what it shows must equal the plain ORM querysets of the full lists, at any
moment, for any coordinator, and the statements must not be rebuilt for the next request."""

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from collab.dashboards import coordinator_selectors as cs
from collab.dashboards.board_selectors import ordered_reviews, ranked
from collab.dashboards.tests.support import alert, at, populate, problem, raw_item, raw_task, version
from collab.testing import Org
from requests_app.models import CollaborationItem, ItemStatus
from tasks_app.models import TaskStatus

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(at("2026-09-30 10:00"), tick=False):
        yield


def busy(org: Org) -> None:
    """Everything the board lists, more than its top of each, for two coordinators."""
    populate(org, 2)
    for coordinator in (org.coordinator, org.receiver):
        for n in range(13):
            item = raw_item(org, coordinator=coordinator, status=ItemStatus.EXECUTING)
            late = raw_task(org, item, name=f"迟{n}", deadline=date(2026, 9, 30) - timedelta(days=n % 5 + 1))
            soon = raw_task(org, item, name=f"近{n}", deadline=date(2026, 10, 1), percent=10)
            raw_task(org, item, name=f"阻{n}", deadline=date(2026, 10, 20), status=TaskStatus.BLOCKED)
            if n % 3 == 0:
                alert(soon, step=1, due="2026-09-29 09:00", sent="2026-09-29 09:00")
            problem(late, blocking=n % 2 == 0)
            version(
                late, receiver=org.owner, submitted="2026-09-29 15:00", due=f"2026-10-{n % 9 + 1:02d} 15:00"
            )
        raw_item(org, coordinator=coordinator, status=ItemStatus.PLANNED)
        raw_item(org, coordinator=coordinator, status=ItemStatus.CLOSED)


def expected(user: object, moment: cs.Moment) -> dict[str, object]:
    """The board's contents from the plain querysets (the full lists' definitions)."""
    now, today, soon = moment.now, moment.today, moment.soon
    mine = CollaborationItem.objects.filter(coordinator=user)
    stages = {
        status: list(
            ranked(cs._coordinated(user).filter(status=status), now=now, today=today, soon=soon).values_list(
                "pk", flat=True
            )[: cs.TOP_ITEMS]
        )
        for status in cs.STAGE_ORDER
        if status != ItemStatus.CLOSED
    }
    running = mine.exclude(status__in=[ItemStatus.DRAFT, ItemStatus.CLOSED])
    attention = cs._attention_tasks(user, moment)
    return {
        "stages": {status: ids for status, ids in stages.items() if ids},
        "totals": {status: mine.filter(status=status).count() for status, ids in stages.items() if ids},
        "closed": mine.filter(status=ItemStatus.CLOSED).count(),
        "attention": [t.pk for t in attention[: cs.TOP_ENTRIES]],
        "attention_total": attention.count(),
        "problems": [p.pk for p in cs._open_problems(user)[: cs.TOP_ENTRIES]],
        "problem_total": cs._open_problems(user).count(),
        "reviews": [v.pk for v in ordered_reviews(cs._waiting_reviews(user))[: cs.TOP_ENTRIES]],
        "review_total": cs._waiting_reviews(user).count(),
        "gaps": list(cs._gap_ids(user, moment)[: cs.TOP_ENTRIES]),
        "gap_total": running.filter(cs.has_breakdown_gap()).count(),
    }


def shown(board: cs.CoordinatorBoard) -> dict[str, object]:
    return {
        "stages": {g.status: [row.item.pk for row in g.rows] for g in board.groups},
        "totals": {g.status: g.total for g in board.groups},
        "closed": board.closed_count,
        "attention": [row.task.pk for row in board.attention],
        "attention_total": board.attention_total,
        "problems": [p.pk for p in board.problems],
        "problem_total": board.problem_total,
        "reviews": [row.version.pk for row in board.reviews],
        "review_total": board.review_total,
        "gaps": [row.item.pk for row in board.gaps],
        "gap_total": board.gap_total,
    }


def test_the_board_equals_the_full_lists_querysets_at_any_moment(org: Org) -> None:
    busy(org)
    for when in ("2026-09-30 10:00", "2026-10-05 16:00", "2026-09-25 08:00"):
        moment = cs.Moment.at(at(when))
        for user in (org.coordinator, org.receiver, org.owner):
            board = cs.coordinator_board(user, now=moment.now)
            assert shown(board) == expected(user, moment), (when, user)
            # Related rows and annotations come with the rows, as the ORM makes them.
            for row in board.attention:
                assert row.task.item.coordinator_id == user.pk
                assert row.late == (row.task.deadline < moment.today)
            for p in board.problems:
                assert p.item.coordinator_id == user.pk
    # There is something on each list, more than the top of most.
    full = shown(cs.coordinator_board(org.coordinator))
    assert full["attention_total"] > cs.TOP_ENTRIES and full["problem_total"] > cs.TOP_ENTRIES
    assert full["review_total"] > cs.TOP_ENTRIES and full["reviews"]


def test_the_boards_statements_are_compiled_once(org: Org) -> None:
    """The second board of another person compiles nothing: the same statements run with new
    values (the query count is the board's, whatever the data)."""
    busy(org)
    cs.coordinator_board(org.coordinator)
    with CaptureQueriesContext(connection) as first:
        cs.coordinator_board(org.receiver)
    with CaptureQueriesContext(connection) as second:
        cs.coordinator_board(org.coordinator)
    assert len(first) == len(second) <= 16
