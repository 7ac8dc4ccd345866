"""Keyset paging of the register: a page starts after (or before) a row's sort values, carried in
the page's links, so page 1,000 reads what page 1 reads.

OFFSET reads and drops every row before the page, each probed for visibility (page 40 of the
register cost 26 ms of SQL at 100,000 items, page 1 under 1 ms, see bench/RESULTS.md). A cursor
instead holds the boundary row's sort values: ``beyond`` turns them into a condition whose first
term is a plain range on the sort's leading column, which the sort's index answers directly.

Every register sort ends with the primary key (``selectors.SORTS``), so the order is total and a
walk by cursors visits each row exactly once.
"""

import binascii
import json
from base64 import urlsafe_b64decode, urlsafe_b64encode
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import reduce
from operator import or_
from typing import Any

from django.db import connection
from django.db.models import DateField, Field, GeneratedField, IntegerField, Q, QuerySet

from requests_app.models import CollaborationItem

# A cursor carries at most a topic (200 characters, 600 bytes in UTF-8) and a few numbers.
MAX_CURSOR = 2000
BIGINT = 2**63


class BadCursor(ValueError):
    """A cursor that is not one the register wrote (cut short, edited, or of another version)."""


@dataclass(frozen=True)
class SortKey:
    name: str  # a column of CollaborationItem, or "pk"
    descending: bool

    @property
    def field(self) -> "Field[Any, Any]":
        field = CollaborationItem._meta.get_field("id" if self.name == "pk" else self.name)
        return field  # type: ignore[return-value]  # a concrete column, never a relation


def sort_keys(items: QuerySet[CollaborationItem]) -> list[SortKey]:
    """The sort of ``items`` (its ``order_by`` of column names) as keys."""
    return [SortKey(str(name).removeprefix("-"), str(name).startswith("-")) for name in items.query.order_by]


def reversed_order(keys: Sequence[SortKey]) -> list[str]:
    """The order_by that reads the same rows backwards (the previous page, read upwards)."""
    return [("" if key.descending else "-") + key.name for key in keys]


def cursor_of(values: Sequence[Any]) -> str:
    """A row's sort values as a URL-safe text."""
    plain = [value.isoformat() if isinstance(value, date) else value for value in values]
    text = json.dumps(plain, ensure_ascii=False, separators=(",", ":"))
    return urlsafe_b64encode(text.encode()).decode().rstrip("=")


def cursor_values(cursor: str, keys: Sequence[SortKey]) -> list[Any]:
    """The sort values a cursor carries, each checked against its column; BadCursor otherwise
    (a value the database would refuse must never reach it: that would be a server error)."""
    if len(cursor) > MAX_CURSOR:
        raise BadCursor(cursor[:20])
    try:
        values = json.loads(urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error) as error:  # not base64, not UTF-8, not JSON
        raise BadCursor(cursor[:20]) from error
    if not isinstance(values, list) or len(values) != len(keys):
        raise BadCursor(cursor[:20])
    return [_value(key.field, value) for key, value in zip(keys, values, strict=True)]


def _value(field: "Field[Any, Any]", value: Any) -> Any:
    kind = field.output_field if isinstance(field, GeneratedField) else field
    if value is None:
        if not field.null:
            raise BadCursor("null")
        return None
    if isinstance(kind, IntegerField):  # BigAutoField and BigIntegerField included
        if type(value) is not int or not -BIGINT <= value < BIGINT:
            raise BadCursor(repr(value)[:20])
        return value
    if isinstance(kind, DateField):
        if not isinstance(value, str):
            raise BadCursor(repr(value)[:20])
        try:
            return date.fromisoformat(value)
        except ValueError as error:
            raise BadCursor(value[:20]) from error
    if (
        not isinstance(value, str)
        or "\x00" in value
        or len(value) > (getattr(kind, "max_length", 0) or MAX_CURSOR)
    ):
        raise BadCursor(repr(value)[:20])
    return value


# Sort columns many rows share a value of (seven statuses among 100,000 items): a cursor inside
# one value's rows is read as two ranges, the rest of that value's rows, then the next values.
GROUPED = {"status"}


def beyond(keys: Sequence[SortKey], values: Sequence[Any], *, backwards: bool = False) -> list[Q]:
    """The rows after the row whose sort values are ``values`` (before it if ``backwards``), as
    conditions whose rows follow one another in the sort's order: the page reads them in turn
    until it has its rows, each through the sort index from where its rows start.

    1. Row by row comparison: (k1 past v1) or (k1 = v1 and k2 past v2) or ..., where "past" is
       greater or smaller depending on the key's direction, and NULL sorts as the database sorts
       it (PostgreSQL: above every value; SQLite: below).
    2. And, redundantly, k1 at or past v1: a plain range the planner starts the sort index's scan
       from (the OR of step 1 alone is a filter over every row before the cursor).
    3. Where step 2 cannot hold every row beyond, the rows are split in two conditions: the rest
       of v1's own rows (their k2, k3 compared by steps 1-2), then the rows past v1. So for a
       GROUPED column and for v1 NULL; when the NULLs sort beyond a value v1, they come last.
    """
    if not keys:
        return []
    key, value = keys[0], values[0]
    nulls_high = connection.vendor == "postgresql"
    upward = key.descending == backwards  # the rows beyond have greater values
    past = _past(key, value, upward=upward, nulls_high=nulls_high)
    if value is None or key.name in GROUPED:
        same = _same(key, value)
        parts = [same & part for part in beyond(keys[1:], values[1:], backwards=backwards)]
        return parts + ([past] if past is not None else [])
    clauses: list[Q] = [past] if past is not None else []
    ties = _same(key, value)
    for later, later_value in zip(keys[1:], values[1:], strict=True):
        later_upward = later.descending == backwards
        if (later_past := _past(later, later_value, upward=later_upward, nulls_high=nulls_high)) is not None:
            clauses.append(ties & later_past)
        ties &= _same(later, later_value)
    condition = reduce(or_, clauses) & Q(**{f"{key.name}__{'gte' if upward else 'lte'}": value})
    if key.field.null and upward == nulls_high:
        # The range above excludes the NULLs; they sort after every value, so they come next.
        return [condition, Q(**{f"{key.name}__isnull": True})]
    return [condition]


def _same(key: SortKey, value: Any) -> Q:
    return Q(**{f"{key.name}__isnull": True}) if value is None else Q(**{key.name: value})


def _past(key: SortKey, value: Any, *, upward: bool, nulls_high: bool) -> Q | None:
    """``key`` strictly past ``value``, or None when nothing can be (NULL at the far end)."""
    nullable = key.field.null
    if value is None:
        if upward == nulls_high:
            return None
        return Q(**{f"{key.name}__isnull": False})
    past = Q(**{f"{key.name}__{'gt' if upward else 'lt'}": value})
    if nullable and upward == nulls_high:
        past |= Q(**{f"{key.name}__isnull": True})
    return past
