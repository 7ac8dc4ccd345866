"""Querysets compiled to SQL once per connection and run again for each person and moment.

My work asks every person the same fifteen questions; only the person and the moment change.
Building and compiling those querysets (filters, joins, subqueries, windows) was two thirds of
the page's CPU time at 100,000 items (bench/RESULTS.md), for SQL that differs from one request
to the next in two parameters only. A ``Prepared`` compiles its queryset once, built for stand-in
values (a person and a moment no row has), notes where the stand-ins sit among the parameters,
and on each call puts the real ones there and runs the same SQL.

The querysets are written as usual: a function of (person, moment) returning a ``values()``
queryset, the same function that serves the whole list, paged, through the ORM. A stand-in
that shows up anywhere else than as a parameter of its own (inside a text, in the SQL itself,
converted to a date) fails the compilation loudly, and a test compares every prepared query
with the queryset compiled afresh for real values.

The person's stand-in is an id like any other: the timeline's task query is compiled for it as
a stand-in item (``collab.dashboards.timeline``), the moment left unused.
"""

import itertools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from weakref import WeakKeyDictionary

from django.contrib.auth import get_user_model
from django.db import DatabaseError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.postgresql.psycopg_any import is_psycopg3
from django.db.models import QuerySet

# Values no real row has: a user id past any sequence and a moment in 1901.
STAND_IN_USER = 2_147_480_519
STAND_IN_NOW = datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)
_USER, _NOW = "user", "now"

Build = Callable[[Any, datetime], QuerySet[Any]]


def stand_in_user() -> Any:
    return get_user_model()(pk=STAND_IN_USER)


@dataclass(frozen=True)
class Statement:
    """SQL with its parameters; ``slots`` say which parameters take the person and the moment."""

    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[int, str], ...]

    def filled(self, connection: BaseDatabaseWrapper, user_pk: int, now: datetime) -> list[Any]:
        values = {_USER: user_pk, _NOW: connection.ops.adapt_datetimefield_value(now)}
        params = list(self.params)
        for index, name in self.slots:
            params[index] = values[name]
        return params


def _statement(connection: BaseDatabaseWrapper, sql: str, params: Sequence[Any]) -> Statement:
    now = connection.ops.adapt_datetimefield_value(STAND_IN_NOW)
    marks = (str(STAND_IN_USER), f"{STAND_IN_NOW:%Y-%m-%d}", f"{STAND_IN_NOW:%H:%M:%S}")
    slots = []
    for index, value in enumerate(params):
        if type(value) is int and value == STAND_IN_USER:
            slots.append((index, _USER))
        elif type(value) is type(now) and value == now:
            slots.append((index, _NOW))
        elif any(mark in str(value) for mark in marks):
            raise ValueError(f"a stand-in value changed shape in parameter {index}: {value!r}")
    if any(mark in sql for mark in marks):
        raise ValueError("a stand-in value is written into the SQL itself")
    return Statement(sql, tuple(params), tuple(slots))


# On PostgreSQL, in front of each statement run outside a transaction: a query string of several
# statements runs as one implicit transaction, so the SET LOCAL holds for this statement only.
# Besides no parallel workers: the plan made once per session for any person (a generic plan).
# PostgreSQL's own choice kept planning the counts afresh on every call (10 ms at load 11 for
# 5-10 ms of execution); the plan for any person executes in about the same time, a little
# slower for a coordinator, much faster for everyone else (bench/RESULTS.md).
SERIAL = "SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL plan_cache_mode = force_generic_plan; "


def _carries_serial(connection: BaseDatabaseWrapper) -> bool:
    """Whether each statement sets its own ``SERIAL`` (see ``without_parallel_workers``):
    PostgreSQL through psycopg2 (which sends a statement with its values as one query string)
    and no transaction open."""
    return connection.vendor == "postgresql" and not is_psycopg3 and connection.get_autocommit()


# Per psycopg2 connection (a server session): the name each statement is PREPAREd under there.
_NUMBERS = itertools.count(1)
_SERVER_NAMES: "WeakKeyDictionary[Any, dict[tuple[str, str], str]]" = WeakKeyDictionary()
# PostgreSQL's error for an EXECUTE of a name the session has not prepared.
_NO_SUCH_STATEMENT = "26000"


def execute_prepared(
    connection: BaseDatabaseWrapper,
    cursor: Any,
    sql: str,
    params: Sequence[Any],
    numbers: dict[int, int],
    types: Sequence[str],
    arguments: Sequence[Any],
    prefix: str,
) -> None:
    """Runs ``sql`` on PostgreSQL (psycopg2) as the EXECUTE of a statement PREPAREd once per
    server session, under a name starting with ``prefix``: the parameters at the indexes
    ``numbers`` names become $1, $2, … (of ``types``, in that order) and take ``arguments``;
    the other values are written in as literals (psycopg2's own quoting), so the planner sees
    them as before. The PREPARE goes in one query string with the first EXECUTE (no round trip
    of its own), and outside a transaction with ``SERIAL`` in front.

    Should the session lose its statements (a DEALLOCATE, a pooler's reset) or a PREPARE fail,
    each is prepared again, under a new name, on its next call; outside a transaction a lost
    statement is prepared again at once (no page fails for it)."""
    from psycopg2.extensions import AsIs

    session = connection.connection
    names = _SERVER_NAMES.setdefault(session, {})
    key = (sql, repr(params))
    prepare = ""
    if (name := names.get(key)) is None:
        values: list[Any] = list(params)
        for index, number in numbers.items():
            values[index] = AsIs(f"${number}")
        # The finished text goes through psycopg2 once more (with the EXECUTE's values): its % doubled.
        body = cursor.mogrify(sql, values).decode().replace("%", "%%")
        name = names[key] = f"{prefix}{next(_NUMBERS)}"
        prepare = f"PREPARE {name} ({', '.join(types)}) AS {body}; "
    serial = SERIAL if _carries_serial(connection) else ""
    marks = ", ".join(["%s"] * len(arguments))
    try:
        cursor.execute(f"{serial}{prepare}EXECUTE {name} ({marks})", list(arguments))
    except DatabaseError as error:
        _SERVER_NAMES.pop(session, None)
        lost = getattr(error.__cause__, "pgcode", None) == _NO_SUCH_STATEMENT
        if not (lost and not prepare and connection.get_autocommit()):
            raise
        execute_prepared(connection, cursor, sql, params, numbers, types, arguments, prefix)


def run(connection: BaseDatabaseWrapper, statement: Statement, user_pk: int, now: datetime) -> list[Any]:
    """The rows of ``statement`` for the person and moment, read without parallel workers on
    PostgreSQL, where it is planned once per server session (``execute_prepared``): planning
    the counts took longer than running them (bench/RESULTS.md)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not is_psycopg3:
            numbers = {index: 1 if slot == _USER else 2 for index, slot in statement.slots}
            now_value = connection.ops.adapt_datetimefield_value(now)
            execute_prepared(
                connection,
                cursor,
                statement.sql,
                statement.params,
                numbers,
                ("integer", "timestamptz"),
                [user_pk, now_value],
                "collab_my_work_",
            )
        else:
            cursor.execute(statement.sql, statement.filled(connection, user_pk, now))
        return cursor.fetchall()


class Prepared:
    """One ``values()`` (or ``values_list()``) queryset compiled for the stand-ins, for one
    database connection."""

    def __init__(self, connection: BaseDatabaseWrapper, queryset: QuerySet[Any]) -> None:
        query = queryset.query
        self.connection = connection
        self.compiler = query.get_compiler(connection=connection)
        sql, params = self.compiler.as_sql()
        self.statement = _statement(connection, sql, params)
        fields = [column[0] for column in self.compiler.select[: self.compiler.col_count]]
        self.as_fetched = not self.compiler.get_converters(fields) and not self.compiler.has_composite_fields(
            fields
        )
        # The names ValuesIterable gives the columns.
        self.names = (
            list(query.selected)
            if query.selected
            else [*query.extra_select, *query.values_select, *query.annotation_select]
        )

    def rows(self, user_pk: int, now: datetime) -> list[dict[str, Any]]:
        statement = self.statement
        fetched = run(self.connection, statement, user_pk, now)
        names = self.names
        return [dict(zip(names, row, strict=True)) for row in self.compiler.results_iter(results=[fetched])]

    def tuples(self, user_pk: int, now: datetime) -> list[Sequence[Any]]:
        """The rows as sequences of values, in the queryset's column order (``values_list``):
        as the database driver gives them when no column needs converting."""
        fetched = run(self.connection, self.statement, user_pk, now)
        if self.as_fetched:
            return fetched
        return list(self.compiler.results_iter(results=[fetched]))


class Counts:
    """The number of rows of several querysets in one statement: ``SELECT (SELECT COUNT(*) FROM
    (<first>)), (SELECT COUNT(*) FROM (<second>)), …``, each queryset reduced to its keys."""

    def __init__(self, connection: BaseDatabaseWrapper, querysets: Sequence[QuerySet[Any]]) -> None:
        parts, params = [], []
        for n, queryset in enumerate(querysets):
            sql, part_params = (
                queryset.order_by().values("pk").query.get_compiler(connection=connection).as_sql()
            )
            # The ORM's own SQL, its values left as parameters: nothing of a request is written in.
            parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS counted_{n})")  # noqa: S608
            params.extend(part_params)
        self.connection = connection
        self.statement = _statement(connection, "SELECT " + ", ".join(parts), params)

    def counts(self, user_pk: int, now: datetime) -> list[int]:
        statement = self.statement
        (row,) = run(self.connection, statement, user_pk, now)
        return [int(n) for n in row]


# Per connection object (one per thread and database alias), so each keeps its own backend's SQL
# and converters; dropped with the connection.
_CACHE: "WeakKeyDictionary[BaseDatabaseWrapper, dict[Any, Any]]" = WeakKeyDictionary()


def cached(key: Any, make: Callable[[BaseDatabaseWrapper], Any], using: str = "default") -> Any:
    """``make(connection)`` once per connection and ``key``."""
    connection = connections[using]
    per_connection = _CACHE.setdefault(connection, {})
    if key not in per_connection:
        per_connection[key] = make(connection)
    return per_connection[key]


@contextmanager
def without_parallel_workers(using: str = "default") -> Iterator[None]:
    """On PostgreSQL, reads with no parallel worker. One person's rows are a few hundred at most,
    read through that person's indexes, but the planner costs a list by the average person
    (1,400 deliverables per receiver at 100,000 items) and starts a worker for it: 0.25 ms of
    work, 19 ms waiting for the worker on a busy 2-core machine (bench/RESULTS.md).

    Outside a transaction (a page served normally), each statement carries its own ``SET LOCAL``
    (``run``): no BEGIN, SET and ROLLBACK round trips around the reads. Inside one (a test, a
    probe), ``SET LOCAL`` in a savepoint that is rolled back at the end. Either way the setting
    never outlives these reads; they only read.
    """
    connection = connections[using]
    if connection.vendor != "postgresql" or _carries_serial(connection):
        yield
        return
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            cursor.execute(SERIAL)
        yield
        transaction.set_rollback(True, using=using)
