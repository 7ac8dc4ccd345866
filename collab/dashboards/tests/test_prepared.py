"""My work's statements are compiled once for stand-in values and run for each person and moment:
they must be, to the byte, what the ORM compiles for the real values, and read the same rows."""

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from collab.dashboards.my_work_selectors import (
    _CONFIRMING_LISTS,
    _COORDINATOR_LISTS,
    _COUNTED,
    _EVERYBODYS,
    ORDER,
    SOURCES,
    TOP,
    _counts_statement,
    _top_statement,
    _unread_statement,
    _unread_top,
    context_for,
    entries_of,
    my_work,
    section_of,
)
from collab.dashboards.prepared import (
    SERIAL,
    STAND_IN_NOW,
    STAND_IN_USER,
    Counts,
    Prepared,
    stand_in_user,
    without_parallel_workers,
)
from collab.dashboards.tests.support import at, populate
from collab.notify.models import Notification
from collab.testing import Org
from requests_app.models import CollaborationItem

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(at("2026-09-30 10:00"), tick=False):
        yield


def compiled(queryset: QuerySet[Any]) -> tuple[str, list[Any]]:
    sql, params = queryset.query.get_compiler(connection=connection).as_sql()
    return sql, list(params)


def test_every_statement_is_the_querysets_own_sql_for_the_real_person_and_moment(org: Org) -> None:
    now = timezone.now()
    for person in (org.owner, org.coordinator, org.qa_head):
        for key, source in SOURCES.items():
            statement = _top_statement(key).statement
            filled = (statement.sql, statement.filled(connection, person.pk, now))
            assert filled == compiled(source.top(person, now)), key
        unread = _unread_statement().statement
        assert (unread.sql, unread.filled(connection, person.pk, now)) == compiled(_unread_top(person, now))
        by_role = [key for key in ORDER if key in _COORDINATOR_LISTS | _CONFIRMING_LISTS]
        for keys in ([*_EVERYBODYS, "unread", "coordinates", "confirms"], by_role):
            counts = _counts_statement(keys).statement
            fresh = Counts(connection, [_COUNTED[key](person, now) for key in keys]).statement
            assert counts.sql == fresh.sql
            assert counts.filled(connection, person.pk, now) == list(fresh.params)


def test_the_prepared_lists_read_what_the_orm_reads(org: Org) -> None:
    populate(org, 2)
    people = [org.requester, org.coordinator, org.owner, org.collaborator, org.receiver, org.qa_head]
    seen = set()
    for person in people:
        c = context_for(person)
        for key, source in SOURCES.items():
            listing = source.listing(person, c.now)
            section = section_of(key, c)
            assert section.total == listing.count(), (person.username, key)
            assert section.entries == entries_of(key, listing[:TOP], c), (person.username, key)
            if section.total:
                seen.add(key)
        # The page shows exactly the lists with rows (those only coordinators or heads and
        # delegates can have are counted for them only).
        with_rows = [key for key in ORDER if SOURCES[key].listing(person, c.now).exists()]
        assert [s.key for s in my_work(person).sections] == with_rows, person.username
    # Most lists had rows for someone: the comparison was not of empty lists only.
    assert len(seen) >= 8, seen


def test_a_stand_in_that_changes_shape_is_refused() -> None:
    # A moment turned into a date, a person's id written into a text: the stand-in could not be
    # swapped for the real value, so the statement is refused rather than run for the wrong one.
    on_the_day = Notification.objects.filter(created_at__date=STAND_IN_NOW).values("pk")
    with pytest.raises(ValueError, match="changed shape"):
        Prepared(connection, on_the_day)
    in_a_text = CollaborationItem.objects.filter(topic__contains=str(STAND_IN_USER)).values("pk")
    with pytest.raises(ValueError, match="changed shape"):
        Prepared(connection, in_a_text)


def test_a_statement_is_compiled_once_per_connection() -> None:
    assert _top_statement("tasks") is _top_statement("tasks")
    assert _counts_statement(ORDER) is _counts_statement(ORDER)
    assert stand_in_user().pk == STAND_IN_USER


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL setting")
def test_my_work_reads_without_parallel_workers_and_leaves_the_setting_as_it_was() -> None:
    def setting() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW max_parallel_workers_per_gather")
            return str(cursor.fetchone()[0])

    before = setting()
    with without_parallel_workers():
        assert setting() == "0"
    assert setting() == before != "0"
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone()[0] == "auto"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
@pytest.mark.django_db(transaction=True)
def test_served_outside_a_transaction_each_statement_is_planned_once_and_sets_nothing_that_stays(
    org: Org,
) -> None:
    from django.db.models.expressions import RawSQL
    from django.test.utils import CaptureQueriesContext

    populate(org, 1)
    connection.close()  # a new server session: nothing prepared there yet

    def setting() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW max_parallel_workers_per_gather")
            return str(cursor.fetchone()[0])

    before = setting()
    with CaptureQueriesContext(connection) as first:
        work = my_work(org.owner)
    with CaptureQueriesContext(connection) as second:
        again = my_work(org.owner)
    assert work == again and work.sections
    statements = [q["sql"] for q in first if "EXECUTE" in q["sql"]]
    # No BEGIN, SET or ROLLBACK of their own: each statement carries its SET LOCAL, and is
    # PREPAREd in front of its first EXECUTE on the session, then only executed.
    assert len(statements) == len(first) - 2  # the person's region and calendar: plain ORM reads
    assert all(sql.startswith(f"{SERIAL}PREPARE ") for sql in statements)
    assert [q["sql"].split("EXECUTE ")[0] for q in second if "EXECUTE" in q["sql"]] == [SERIAL] * len(
        statements
    )
    assert len(second) == len(first)
    assert setting() == before != "0"
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone()[0] == "auto"
        # Planned once for any person, not again for each call.
        cursor.execute(
            "SELECT count(*), bool_and(generic_plans = 2 AND custom_plans = 0) FROM pg_prepared_statements"
            " WHERE name LIKE 'collab_my_work_%%'"
        )
        assert cursor.fetchone() == (len(statements), True)
    # The statements do run without parallel workers.
    reads_setting = Notification.objects.filter(recipient=STAND_IN_USER).values(
        setting=RawSQL("current_setting('max_parallel_workers_per_gather')", [])
    )
    Notification.objects.create(recipient=org.owner, kind="test", title="x")
    rows = Prepared(connection, reads_setting).rows(org.owner.pk, timezone.now())
    assert rows and {row["setting"] for row in rows} == {"0"}
    assert setting() == before


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
@pytest.mark.django_db(transaction=True)
def test_a_session_that_lost_my_works_statements_prepares_them_again(org: Org) -> None:
    """Should the server session forget the statements (a DEALLOCATE, a pooler's reset), My work
    prepares them again at once, as the boards do (``execute_prepared``), instead of failing."""
    populate(org, 1)
    before = my_work(org.owner)
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    assert my_work(org.owner) == before and before.sections
