"""On PostgreSQL the coordinator board's joined reads are PREPAREd once per server session and
run by EXECUTE (``board_prepared.ServerStatement``, through ``prepared.execute_prepared``): what
the board shows stays what the full lists' querysets say, inside a transaction and outside one
(a page served normally, where each EXECUTE carries its own SET LOCAL), and nothing is prepared
twice or outlives its statement."""

from collections.abc import Iterator

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from collab.dashboards import coordinator_selectors as cs
from collab.dashboards import prepared as prepared_statements
from collab.dashboards.tests.support import at
from collab.dashboards.tests.test_coordinator_prepared import busy, expected, shown
from collab.testing import Org

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(at("2026-09-30 10:00"), tick=False):
        yield


def _sent(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries]


@pytest.mark.django_db
def test_each_statement_is_prepared_once_per_session(org: Org) -> None:
    busy(org)
    prepared_statements._SERVER_NAMES.pop(connection.connection, None)  # as on a new session
    with CaptureQueriesContext(connection) as first:
        cs.coordinator_board(org.coordinator)
    with CaptureQueriesContext(connection) as second:
        cs.coordinator_board(org.receiver)
    prepared = [sql for sql in _sent(first) if "PREPARE collab_board_" in sql]
    assert len(prepared) >= 5  # the rows, late and other tasks, their count, problems, reviews
    assert not [sql for sql in _sent(second) if "PREPARE" in sql]
    assert len([sql for sql in _sent(second) if sql.startswith("EXECUTE collab_board_")]) == len(prepared)
    assert len(first) == len(second)


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_board_is_the_same_and_its_settings_end_with_each_statement(
    org: Org,
) -> None:
    busy(org)
    assert connection.get_autocommit()
    for when in ("2026-09-30 10:00", "2026-10-05 16:00"):
        moment = cs.Moment.at(at(when))
        for user in (org.coordinator, org.receiver, org.owner):
            with CaptureQueriesContext(connection) as queries:
                board = cs.coordinator_board(user, now=moment.now)
            assert shown(board) == expected(user, moment), (when, user)
            executed = [sql for sql in _sent(queries) if "EXECUTE collab_board_" in sql]
            assert executed and all(
                sql.startswith("SET LOCAL max_parallel_workers_per_gather") for sql in executed
            )
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone() == ("auto",)


@pytest.mark.django_db(transaction=True)
def test_a_session_that_lost_its_statements_prepares_them_again(org: Org) -> None:
    """Should the server session forget the statements (a DEALLOCATE, a pooler's reset), the
    board prepares them again at once (outside a transaction, as a page is served)."""
    busy(org)
    moment = cs.Moment.at()
    cs.coordinator_board(org.coordinator)
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            assert shown(cs.coordinator_board(org.coordinator)) == expected(org.coordinator, moment)
    assert not [sql for sql in _sent(queries) if "PREPARE" in sql]  # the second board: all known
