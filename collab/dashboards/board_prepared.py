"""A boards' model query compiled once per connection and run again with each request's values.

The boards read their rows shown (items with their health counts: ten correlated subqueries)
through querysets that differ between requests only in a few values: the ids of the rows, the
moment and the dates compared with it, a department. Building and compiling such a queryset
cost more app CPU than the database took to answer it. As ``collab.dashboards.prepared`` does
for My work's ``values()`` lists, a ``ModelStatement`` builds its queryset once for stand-in
values, notes where each sits among the SQL's parameters, and on each call puts the real ones
there, runs the same SQL and makes model instances as the ORM would (select_related and
annotations included). The ids are a fixed number of parameters, padded with 0 (no row's id).

A stand-in found anywhere else than as a parameter of its own (in a text, in the SQL itself)
fails the compilation loudly; a test compares the rows with those of the queryset run afresh.
"""

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.postgresql.psycopg_any import is_psycopg3
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

from collab.dashboards.prepared import cached, execute_prepared

# Values no real row has: ids past any sequence, a moment and two dates in 1901.
STAND_IN_ID = 2_147_470_000
STAND_IN_NOW = datetime(1901, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
STAND_IN_DATES = (date(1901, 6, 7), date(1901, 8, 9))
_MARKS = ("1901-05-06", "1901-06-07", "1901-08-09", str(STAND_IN_ID)[:6])


class ModelStatement:
    """``build(ids, now, dates, key)`` compiled once for the stand-ins; ``ids`` a fixed count."""

    def __init__(
        self,
        connection: BaseDatabaseWrapper,
        build: Callable[[list[int], datetime, tuple[date, ...], int], QuerySet[Any]],
        id_count: int,
        counted: bool = False,
    ) -> None:
        ids = [STAND_IN_ID + n for n in range(id_count)]
        key = STAND_IN_ID - 1
        queryset = build(ids, STAND_IN_NOW, STAND_IN_DATES, key)
        ops = connection.ops
        wanted: dict[Any, tuple[str, int]] = {STAND_IN_ID - 1: ("key", 0)}
        wanted.update({value: ("id", n) for n, value in enumerate(ids)})
        wanted[ops.adapt_datetimefield_value(STAND_IN_NOW)] = ("now", 0)
        wanted.update({ops.adapt_datefield_value(d): ("date", n) for n, d in enumerate(STAND_IN_DATES)})
        self.compiler = queryset.query.get_compiler(connection=connection)
        sql, params = self.compiler.as_sql()
        if counted:  # the number of rows (``count``), as QuerySet.count() of a sliced queryset
            sql = f"SELECT COUNT(*) FROM ({sql}) AS counted"  # noqa: S608 (the ORM's own SQL)
        if any(mark in sql for mark in _MARKS):
            raise ValueError("a stand-in value is written into the SQL itself")
        slots = []
        for index, value in enumerate(params):
            found = wanted.get(value) if isinstance(value, int | str | datetime | date) else None
            if found is not None and type(value) is not bool:
                slots.append((index, *found))
            elif any(mark in str(value) for mark in _MARKS):
                raise ValueError(f"a stand-in value changed shape in parameter {index}: {value!r}")
        self.connection = connection
        self.sql, self.params, self.slots = sql, tuple(params), tuple(slots)
        self.id_count = id_count
        self.model = queryset.model
        self.db = queryset.db
        self.fetch_mode = getattr(queryset, "_fetch_mode")  # noqa: B009 (Django's, untyped)
        query = queryset.query
        self.names = (
            list(query.selected)
            if query.selected
            else [*query.extra_select, *query.values_select, *query.annotation_select]
        )

    def objects(
        self, ids: Sequence[int], now: datetime, dates: tuple[date, ...], key: int = 0
    ) -> list[Model]:
        """The rows for the real values, as model instances (at most ``id_count`` ids)."""
        return self._instances(self._fetch(ids, now, dates, key))

    def values(
        self, ids: Sequence[int], now: datetime, dates: tuple[date, ...], key: int = 0
    ) -> list[tuple[Any, ...]]:
        """The rows of a ``values_list()`` queryset for the real values, as tuples of its fields
        (converted as the ORM converts them)."""
        fetched = self._fetch(ids, now, dates, key)
        width = len(self.names)
        return [tuple(row[:width]) for row in self.compiler.results_iter(results=[fetched])]

    def count(self, now: datetime, dates: tuple[date, ...], key: int = 0) -> int:
        """The number of rows, for a statement compiled ``counted``."""
        ((n,),) = self._fetch([], now, dates, key)
        return int(n)

    def _values(
        self, ids: Sequence[int], now: datetime, dates: tuple[date, ...], key: int
    ) -> dict[str, list[Any]]:
        """The request's values by slot name, adapted as the compiled SQL's parameters were."""
        if len(ids) > self.id_count:
            raise ValueError(f"{len(ids)} ids, compiled for {self.id_count}")
        ops = self.connection.ops
        return {
            "id": [*ids, *[0] * (self.id_count - len(ids))],
            "now": [ops.adapt_datetimefield_value(now)],
            "date": [ops.adapt_datefield_value(d) for d in dates],
            "key": [key],
        }

    def _fetch(
        self, ids: Sequence[int], now: datetime, dates: tuple[date, ...], key: int
    ) -> list[tuple[Any, ...]]:
        values = self._values(ids, now, dates, key)
        params = list(self.params)
        for index, name, n in self.slots:
            params[index] = values[name][n]
        with self.connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            return cursor.fetchall()

    def _instances(self, fetched: list[tuple[Any, ...]]) -> list[Model]:
        """What Django's ModelIterable makes of the rows (select_related, annotations)."""
        compiler = self.compiler
        select, klass_info, annotation_col_map = (
            compiler.select,
            compiler.klass_info,
            compiler.annotation_col_map,
        )
        if klass_info is None:
            raise ValueError("a model statement needs a model queryset, not values()")
        model_cls = klass_info["model"]
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        init_list = [f[0].target.attname for f in select[start:end]]
        populators = get_related_populators(klass_info, select, self.db, self.fetch_mode)
        objects = []
        for row in compiler.results_iter(results=[fetched]):
            obj = model_cls.from_db(self.db, init_list, row[start:end], fetch_mode=self.fetch_mode)
            for populator in populators:
                populator.populate(row, obj)
            for attr_name, col_pos in (annotation_col_map or {}).items():
                setattr(obj, attr_name, row[col_pos])
            objects.append(obj)
        return objects


def model_statement(
    name: str,
    build: Callable[[list[int], datetime, tuple[date, ...], int], QuerySet[Any]],
    id_count: int,
    using: str = "default",
    counted: bool = False,
) -> ModelStatement:
    """The statement ``name`` of this connection, compiled on first use."""
    return _cached(ModelStatement, name, build, id_count, using, counted)


def _cached(
    kind: type[ModelStatement],
    name: str,
    build: Callable[[list[int], datetime, tuple[date, ...], int], QuerySet[Any]],
    id_count: int,
    using: str,
    counted: bool,
) -> ModelStatement:
    return cached(
        (kind.__name__, name, id_count, counted),
        lambda connection: kind(connection, build, id_count, counted),
        using,
    )


# Each slot's type on the server: the PREPAREd statement's $n.
_SLOT_TYPES = {"id": "bigint", "key": "bigint", "now": "timestamptz", "date": "date"}


class ServerStatement(ModelStatement):
    """A ``ModelStatement`` PREPAREd once per PostgreSQL session (psycopg2) and run by EXECUTE
    with the request's values (``prepared.execute_prepared``, as My work's): planned once for
    any person and moment (a generic plan, no parallel workers), where the board's joins took
    1-2 ms each to plan, as long as they took to run. Elsewhere (SQLite, psycopg 3) the SQL runs
    as a ModelStatement's."""

    def _fetch(
        self, ids: Sequence[int], now: datetime, dates: tuple[date, ...], key: int
    ) -> list[tuple[Any, ...]]:
        connection = self.connection
        if connection.vendor != "postgresql" or is_psycopg3:
            return super()._fetch(ids, now, dates, key)
        values = self._values(ids, now, dates, key)
        order = sorted({(slot, n) for _index, slot, n in self.slots})
        number = {place: k + 1 for k, place in enumerate(order)}
        with connection.cursor() as cursor:
            execute_prepared(
                connection,
                cursor,
                self.sql,
                self.params,
                {index: number[slot, n] for index, slot, n in self.slots},
                [_SLOT_TYPES[slot] for slot, _n in order],
                [values[slot][n] for slot, n in order],
                "collab_board_",
            )
            return cursor.fetchall()


def server_statement(
    name: str,
    build: Callable[[list[int], datetime, tuple[date, ...], int], QuerySet[Any]],
    id_count: int,
    using: str = "default",
    counted: bool = False,
) -> ModelStatement:
    """The statement ``name`` of this connection, compiled on first use and PREPAREd on the
    PostgreSQL session (``ServerStatement``)."""
    return _cached(ServerStatement, name, build, id_count, using, counted)
