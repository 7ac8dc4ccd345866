"""Rows read by one key, from SQL compiled once per database connection.

A write reads a handful of rows by their key, with their related rows (``select_related``), some
of them row-locked (``select_for_update``): the item of the page, the item locked by the service,
the task or deliverable acted on. Building and compiling those querysets cost more CPU than
running them (bench/RESULTS.md, writes: about 2 ms of ORM for a statement of 0.4 ms). A
``PreparedRows`` compiles its queryset once, built for a stand-in key no row has, notes which
parameter the stand-in is, and on each call puts the real key there and runs the same SQL; the
rows become model instances as Django's own iterable makes them (the backend's converters,
``from_db``, the related populators of ``select_related``), or tuples for a ``values_list()``.

The querysets are written as usual, as a module-level function of the key (``build``) whose
queryset filters on it once, as a parameter: ``Task.objects.select_related("item").filter(
pk=key)``; a read that needs the key in several places says so (``key_repeats``: every
parameter that is the stand-in is the key). A stand-in that shows up anywhere else fails the
compilation loudly, and
``tests/test_prepared_rows.py`` compares each prepared read with its queryset run afresh.
No ``prefetch_related``, no ``iterator()``: a prefetch is a second statement. What a prefetch
would give is read by a prepared statement of its own and handed to the instance with
``prefetched`` (``obj.<relation>.all()`` then gives those rows, as after ``prefetch_related``).
"""

from collections.abc import Callable, Sequence
from typing import Any
from weakref import WeakKeyDictionary

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model, QuerySet
from django.db.models.query import (  # type: ignore[attr-defined]
    FlatValuesListIterable,
    ModelIterable,
    ValuesListIterable,
    _get_from_db,
    get_related_populators,
)
from django.db.models.signals import post_save, pre_save
from django.db.transaction import TransactionManagementError

# A key no row has: past any sequence of the project's tables (and unlike the one of
# collab.dashboards.prepared, so the two never meet in one statement).
STAND_IN_KEY = 2_147_480_531

Build = Callable[[Any], QuerySet[Any]]


class PreparedRows:
    """One queryset compiled for ``STAND_IN_KEY`` on one database connection (or for the
    ``stand_ins`` of several keys: ``prepared_for_keys``)."""

    def __init__(
        self,
        connection: BaseDatabaseWrapper,
        queryset: QuerySet[Any],
        *,
        key_repeats: bool = False,
        stand_ins: tuple[int, ...] = (STAND_IN_KEY,),
    ) -> None:
        state: Any = queryset  # the queryset's private settings, read as Django's iterables do
        if state._prefetch_related_lookups:
            raise ValueError("a prepared read is one statement: no prefetch_related")
        query = queryset.query
        compiler = query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        # (parameter, which key): where each stand-in is.
        slots = [
            (index, stand_ins.index(value))
            for index, value in enumerate(params)
            if type(value) is int and value in stand_ins
        ]
        keys = [key for _index, key in slots]
        indexes = {index for index, _key in slots}
        if (
            set(keys) != set(range(len(stand_ins)))
            or (len(keys) > len(stand_ins) and not key_repeats)
            or any(str(stand_in) in sql for stand_in in stand_ins)
            or any(
                str(stand_in) in str(value)
                for index, value in enumerate(params)
                if index not in indexes
                for stand_in in stand_ins
            )
        ):
            raise ValueError("the stand-in key must be one parameter of the statement, as it is")
        self.connection = connection
        self.compiler = compiler
        self.sql, self.params, self.slots = sql, list(params), slots
        self.locks = bool(query.select_for_update)
        # The columns' converters, found once (``results_iter`` looks them up for every read:
        # a converter check per column, sixty for an item).
        fields = [column[0] for column in compiler.select[0 : compiler.col_count]]
        self.converters = compiler.get_converters(fields)
        self.composite_fields = fields if compiler.has_composite_fields(fields) else None
        self.instances = queryset._iterable_class is ModelIterable
        self.flat = queryset._iterable_class is FlatValuesListIterable
        if not (self.instances or self.flat or queryset._iterable_class is ValuesListIterable):
            raise ValueError("a prepared read makes instances or values_list() rows")
        if self.instances:
            select, klass_info = compiler.select, compiler.klass_info
            if compiler.annotation_col_map or state._known_related_objects:
                raise ValueError("a prepared read makes plain instances: no annotations")
            self.model: type[Model] = klass_info["model"]
            fields = klass_info["select_fields"]
            self.start, self.end = fields[0], fields[-1] + 1
            self.init_list = [column[0].target.attname for column in select[self.start : self.end]]
            fetch_mode = state._fetch_mode
            if fetch_mode.track_peers:
                raise ValueError("a prepared read makes plain instances: no peers to fetch with")
            self.from_db = _get_from_db(self.model, fetch_mode)
            self.populators = get_related_populators(klass_info, select, connection.alias, fetch_mode)

    def all(self, key: Any) -> list[Any]:
        """The rows for ``key``: instances (with their related rows), tuples, or values (flat).
        Compiled for several keys, ``key`` is the sequence of them, in the stand-ins' order."""
        connection = self.connection
        if self.locks and connection.features.has_select_for_update and connection.get_autocommit():
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        params = self.params.copy()
        keys = key if isinstance(key, list | tuple) else None
        for slot, position in self.slots:
            params[slot] = key if keys is None else keys[position]
        with self.connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            fetched = cursor.fetchall()
        if not fetched:
            return []
        # As ``results_iter`` turns them into values, with the converters found once.
        rows: Any = fetched
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        if self.composite_fields is not None:
            rows = self.compiler.composite_fields_to_tuples(rows, self.composite_fields)
        if not self.instances:
            rows = map(tuple, rows)
        if self.flat:
            return [row[0] for row in rows]
        if not self.instances:
            return list(rows)
        found = []
        alias = self.connection.alias
        for row in rows:
            obj = self.from_db(alias, self.init_list, row[self.start : self.end])
            for populator in self.populators:
                populator.populate(row, obj)
            found.append(obj)
        return found

    def first(self, key: Any) -> Any:
        """The row for ``key``, or None."""
        rows = self.all(key)
        return rows[0] if rows else None


# Per connection object (one per thread and database alias), so each keeps its own backend's SQL
# and converters; dropped with the connection.
_CACHE: "WeakKeyDictionary[BaseDatabaseWrapper, dict[Any, PreparedRows]]" = WeakKeyDictionary()


def prepared(build: Build, using: str = DEFAULT_DB_ALIAS, *, key_repeats: bool = False) -> PreparedRows:
    """``build(STAND_IN_KEY)`` compiled once per connection (``build``: a module-level function,
    the cache's key). ``key_repeats``: the statement holds the key in several places."""
    connection = connections[using]
    per_connection = _CACHE.setdefault(connection, {})
    found = per_connection.get(build)
    if found is None:
        found = per_connection[build] = PreparedRows(connection, build(STAND_IN_KEY), key_repeats=key_repeats)
    return found


# Statements compiled for several keys are kept for up to this many keys; more go the usual way.
MOST_KEYS = 8


def rows_for_keys(build: Callable[[list[int]], QuerySet[Any]], keys: Sequence[int]) -> list[Any]:
    """The rows of ``build(keys)`` (``keys``: distinct ids, e.g. for ``pk__in``), through a
    statement compiled once per connection for each number of keys, up to ``MOST_KEYS``."""
    if not keys:
        return []
    if len(keys) > MOST_KEYS:
        return list(build(list(keys)))
    connection = connections[DEFAULT_DB_ALIAS]
    per_connection = _CACHE.setdefault(connection, {})
    cache_key: Any = (build, len(keys))
    found = per_connection.get(cache_key)
    if found is None:
        stand_ins = tuple(STAND_IN_KEY - number for number in range(len(keys)))
        found = per_connection[cache_key] = PreparedRows(
            connection, build(list(stand_ins)), stand_ins=stand_ins
        )
    return found.all(list(keys))


def row_by_key(build: Build, key: Any, using: str = DEFAULT_DB_ALIAS) -> Any:
    """The first row of ``build(key)``, or None, through its prepared statement."""
    return prepared(build, using).first(key)


def prefetched(obj: Model, relation: str, rows: list[Any]) -> None:
    """``obj.<relation>.all()`` gives ``rows`` from now on, without a query, as after
    ``prefetch_related(relation)`` (a reverse foreign key): ``rows`` must be exactly the related
    rows, in the order the relation lists them. Each row's own foreign key to ``obj`` is set too.
    Anything chained on the relation (``filter``, ``order_by``) still queries, scoped to ``obj``."""
    manager: Any = getattr(obj, relation)
    field = manager.field  # the foreign key of the rows' model to obj's
    queryset = manager.get_queryset()
    for row in rows:
        field.set_cached_value(row, obj)
    queryset._result_cache = rows
    queryset._prefetch_done = True
    if not hasattr(obj, "_prefetched_objects_cache"):
        obj._prefetched_objects_cache = {}  # type: ignore[attr-defined]
    obj._prefetched_objects_cache[field.remote_field.cache_name] = queryset  # type: ignore[attr-defined]


# UPDATE statements of ``save_fields``, per connection and (model, fields).
_UPDATES: "WeakKeyDictionary[BaseDatabaseWrapper, dict[Any, tuple[str, list[Any]]]]" = WeakKeyDictionary()


def save_fields(obj: Model, fields: Sequence[str]) -> None:
    """``obj.save(update_fields=fields)`` for a row that exists, as one UPDATE by its key written
    once per connection (a write saves two or three rows; compiling each UPDATE cost three times
    running it). The fields' own ``pre_save`` runs (``auto_now`` sets the time on ``obj`` too).
    A model that overrides ``save`` or has save signals goes through ``save`` as usual."""
    model = type(obj)
    if (
        model.save is not Model.save
        or obj._state.adding
        or obj.pk is None
        or pre_save.has_listeners(model)
        or post_save.has_listeners(model)
    ):
        obj.save(update_fields=fields)
        return
    connection = connections[obj._state.db or DEFAULT_DB_ALIAS]
    per_connection = _UPDATES.setdefault(connection, {})
    key = (model, tuple(fields))
    found = per_connection.get(key)
    if found is None:
        meta = model._meta
        columns: list[Any] = []
        for name in dict.fromkeys(fields):
            field: Any = meta.get_field(name)
            if not getattr(field, "concrete", False) or field.primary_key:
                raise ValueError(f"{model.__name__}.{name} is not a column to update")
            columns.append(field)
        quote = connection.ops.quote_name
        pk_column = str(meta.pk.column) if meta.pk is not None else "id"
        assignments = ", ".join(f"{quote(field.column)} = %s" for field in columns)
        found = per_connection[key] = (
            f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(pk_column)} = %s",  # noqa: S608
            columns,
        )
    sql, columns = found
    params = [field.get_db_prep_save(field.pre_save(obj, False), connection) for field in columns]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, obj.pk])
        if cursor.rowcount != 1:
            raise DatabaseError("Save with update_fields did not affect any rows.")
