"""Writing thousands of rows without a model instance per row, for the paths that do (the
warning sweep: its notifications, their deliveries and the next warnings).

``QuerySet.bulk_create`` builds an instance per row (``__init__`` and its signals) and prepares
every field of every row through its field: most of a sweep batch's CPU when it was used.
``insert_rows`` takes each row as a tuple of the named fields' values, fills every other field
with its default once for all rows (``auto_now``/``auto_now_add``: now), adapts only the values
that need it (JSON, dates) and writes with multi-row INSERTs, as many rows per statement as the
database takes parameters.
"""

import json
from collections.abc import Callable, Iterable, Sequence
from itertools import batched
from typing import Any

from django.db import connection, models
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
    meta = model._meta
    named = [_field(model, name) for name in fields]
    now = timezone.now()
    rest = [
        field
        for field in meta.concrete_fields
        if field not in named and not (field.primary_key and isinstance(field, models.AutoField))
    ]
    # Every row gets the same defaults: prepared once.
    defaults = tuple(
        field.get_db_prep_save(
            now
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
            else field.get_default(),
            connection,
        )
        for field in rest
    )
    adapters = [(index, adapter) for index, field in enumerate(named) if (adapter := _adapter(field))]
    columns = ", ".join(_column(field) for field in [*named, *rest])
    placeholders = "(" + ", ".join(["%s"] * (len(named) + len(rest))) + ")"
    suffix = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    if returning:
        suffix += " RETURNING " + ", ".join(_column(_field(model, name)) for name in returning)
    limit = connection.features.max_query_params
    per_insert = min(ROWS_PER_INSERT, limit // (len(named) + len(rest))) if limit else ROWS_PER_INSERT
    inserted: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for chunk in batched(rows, per_insert):
            params: list[Any] = []
            for row in chunk:
                if adapters:
                    row = list(row)
                    for index, adapter in adapters:
                        row[index] = adapter(row[index])
                params += row
                params += defaults
            values = ", ".join([placeholders] * len(chunk))
            # Only the model's own names and placeholders: the values go as parameters.
            sql = (
                f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({columns}) VALUES {values}{suffix}"  # noqa: S608
            )
            cursor.execute(sql, params)
            if returning:
                inserted += cursor.fetchall()
    return inserted
