"""Writing thousands of rows without a model instance per row, for the paths that do (the
warning sweep: its notifications, their deliveries and the next warnings).

``QuerySet.bulk_create`` builds an instance per row (``__init__`` and its signals) and prepares
every field of every row through its field: most of a sweep batch's CPU when it was used.
``insert_rows`` takes each row as a tuple of the named fields' values, fills every other field
with its default once for all rows (``auto_now``/``auto_now_add``: now), adapts only the values
that need it (JSON, dates) and writes with multi-row INSERTs, as many rows per statement as the
database takes parameters. What a statement's shape needs (the columns, the adapters, the
defaults that do not change) is worked out once per connection and shape (``_shape``): a
request's few rows cost less than looking it up again.
"""

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import batched
from typing import Any
from weakref import WeakKeyDictionary

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

# Rows per INSERT when the database sets no limit of its own (PostgreSQL): bounds the statement.
ROWS_PER_INSERT = 2000


def _adapter(field: models.Field) -> Callable[[Any], Any] | None:
    """How a value of ``field`` becomes a query parameter: None when it goes as it is."""
    operations = connection.ops
    if isinstance(field, models.JSONField):
        # JSON text, which the INSERT turns into the column's type (jsonb on PostgreSQL): the
        # backend's own adapter (a psycopg wrapper per value) cost more than the rest of a row.
        encoder = field.encoder
        return lambda value: None if value is None else json.dumps(value, cls=encoder)
    if isinstance(field, models.DateTimeField):
        return operations.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return operations.adapt_datefield_value
    return None


def _field(model: type[models.Model], name: str) -> models.Field:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or not field.concrete:
        raise ValueError(f"{model.__name__}.{name} is not a column")
    return field


def _column(field: models.Field) -> str:
    return connection.ops.quote_name(str(field.column))


def _is_now(field: models.Field) -> bool:
    return bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))


@dataclass(frozen=True, slots=True)
class _Shape:
    """An INSERT of one model's named fields, worked out once (``_shape``)."""

    start: str  # INSERT INTO table (columns) VALUES
    placeholders: str  # one row's
    suffix: str  # ON CONFLICT, RETURNING
    adapters: list[tuple[int, Callable[[Any], Any]]]  # the named values that need adapting
    defaults: tuple[Any, ...]  # the other fields' values, those of ``fresh`` left to each call
    fresh: list[tuple[int, models.Field]]  # defaults made per call: now, or a callable's
    per_insert: int  # rows per statement
    # PostgreSQL: the same INSERT taking every row as one JSON document (``_insert_json``).
    from_json: str | None


_SHAPES: "WeakKeyDictionary[BaseDatabaseWrapper, dict[tuple[Any, ...], _Shape]]" = WeakKeyDictionary()


def _shape(
    model: type[models.Model], fields: Sequence[str], returning: Sequence[str], ignore_conflicts: bool
) -> _Shape:
    wrapper = connections[DEFAULT_DB_ALIAS]
    shapes = _SHAPES.setdefault(wrapper, {})
    key = (model, tuple(fields), tuple(returning), ignore_conflicts)
    found = shapes.get(key)
    if found is not None:
        return found
    meta = model._meta
    named = [_field(model, name) for name in fields]
    rest = [
        field
        for field in meta.concrete_fields
        if field not in named and not (field.primary_key and isinstance(field, models.AutoField))
    ]
    # Every row of a call gets the same defaults; those that cannot change between calls are
    # prepared here, the others (now, a callable default) by each call.
    fresh = [(index, field) for index, field in enumerate(rest) if _is_now(field) or callable(field.default)]
    defaults = tuple(
        None
        if _is_now(field) or callable(field.default)
        else field.get_db_prep_save(field.get_default(), connection)
        for field in rest
    )
    suffix = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    if returning:
        suffix += " RETURNING " + ", ".join(_column(_field(model, name)) for name in returning)
    limit = connection.features.max_query_params
    columns = ", ".join(_column(field) for field in [*named, *rest])
    from_json = None
    # A JSON value with an encoder of its own is written as that encoder writes it (VALUES).
    encoded = any(isinstance(field, models.JSONField) and field.encoder is not None for field in named)
    if connection.vendor == "postgresql" and not encoded:
        # Each named value a key of a row object, typed as its column; the defaults typed too
        # (an untyped value in a SELECT list is text, which no jsonb or timestamp column takes).
        keys = [f"v{index}" for index in range(len(named))]
        from_json = (
            f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({columns}) "  # noqa: S608
            f"SELECT {', '.join([*(f'r.{key}' for key in keys), *(_typed(field) for field in rest)])} "
            "FROM json_to_recordset(%s) AS r("
            + ", ".join(f"{key} {field.db_type(connection)}" for key, field in zip(keys, named, strict=True))
            + ")"
        )
    found = shapes[key] = _Shape(
        # Only the model's own names and placeholders: the values go as parameters.
        start=f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({columns}) VALUES ",  # noqa: S608
        placeholders="(" + ", ".join(["%s"] * (len(named) + len(rest))) + ")",
        suffix=suffix,
        adapters=[(index, adapter) for index, field in enumerate(named) if (adapter := _adapter(field))],
        defaults=defaults,
        fresh=fresh,
        per_insert=min(ROWS_PER_INSERT, limit // (len(named) + len(rest))) if limit else ROWS_PER_INSERT,
        from_json=from_json,
    )
    return found


def _typed(field: models.Field) -> str:
    return f"CAST(%s AS {field.db_type(connection)})"


def _json_value(value: Any) -> Any:
    """A value of a row in the JSON document that PostgreSQL reads back as its column's type:
    moments and days in ISO 8601 (microseconds and offset kept), anything else as its text."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def insert_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    returning: Sequence[str] = (),
    ignore_conflicts: bool = False,
) -> list[tuple[Any, ...]]:
    """Inserts ``rows`` (tuples of the values of ``fields``, attribute names such as
    ``task_id``) into ``model``'s table; returns the ``returning`` columns of each new row.

    With ``ignore_conflicts`` a row that breaks a unique constraint (an event told already) is
    left out, and only the rows inserted are returned (``ON CONFLICT DO NOTHING``).
    """
    shape = _shape(model, fields, returning, ignore_conflicts)
    defaults = shape.defaults
    if shape.fresh:
        now = timezone.now()
        made = list(defaults)
        for index, field in shape.fresh:
            made[index] = field.get_db_prep_save(now if _is_now(field) else field.get_default(), connection)
        defaults = tuple(made)
    if shape.from_json is not None:
        return _insert_json(shape, rows, defaults, returning)
    adapters, placeholders = shape.adapters, shape.placeholders
    inserted: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for chunk in batched(rows, shape.per_insert):
            params: list[Any] = []
            for row in chunk:
                if adapters:
                    row = list(row)
                    for index, adapter in adapters:
                        row[index] = adapter(row[index])
                params += row
                params += defaults
            cursor.execute(shape.start + ", ".join([placeholders] * len(chunk)) + shape.suffix, params)
            if returning:
                inserted += cursor.fetchall()
    return inserted


def _insert_json(
    shape: _Shape, rows: Iterable[Sequence[Any]], defaults: tuple[Any, ...], returning: Sequence[str]
) -> list[tuple[Any, ...]]:
    """PostgreSQL: the rows as one parameter, a JSON array of objects that ``json_to_recordset``
    reads as typed columns, and the defaults once. Beside a VALUES list it saves the driver
    quoting each of ten thousand values (2 µs each) and the server parsing them: a batch of the
    warning sweep's 1,000 notifications cost 9 instead of 23 ms of the worker's CPU. JSON
    columns go in as JSON (no text in between), as ``json.dumps`` writes them in the VALUES
    path."""
    sql = shape.from_json + shape.suffix  # type: ignore[operator]  # set on PostgreSQL
    inserted: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for chunk in batched(rows, shape.per_insert):
            document = json.dumps(
                [{f"v{index}": value for index, value in enumerate(row)} for row in chunk],
                ensure_ascii=False,
                default=_json_value,
            )
            cursor.execute(sql, [*defaults, document])
            if returning:
                inserted += cursor.fetchall()
    return inserted
