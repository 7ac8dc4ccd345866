"""The health facts stored on each item, so the dashboards rank every item by its columns.

The health light (collab/dashboards/health.py) looks at late tasks, unanswered escalations,
overdue reviews, missing progress reports, open problems, blocked tasks and tasks due soon and
behind. Counted live, ranking the 35,000 open items of a large department scanned the company's
open tasks once per rule (about 1 s). The facts are kept on the item instead
(``CollaborationItem.health_*``), each either

- a count or a flag that only a write changes (unanswered escalations, open problems, blocked
  tasks, a breakdown that leaves something out, a meeting scheduled), or
- the earliest date or moment at which time alone makes a rule fire, with no write: the earliest
  deadline of an open task (late once it is before today), of an open task under BEHIND_PERCENT
  done (due soon and behind once it is within a working day), the earliest due moment of a
  "report missing" warning not answered by a report (a report is missing once it has passed),
  the earliest review deadline of a version waiting for its review (overdue once passed);
- and the number of versions waiting for their review, for the coordinator's count.

The dashboards compare these with today and now (``board_selectors.health_rank``).

The facts are read from the rows of later stages (tasks, warnings, problems, deliverables), which
this stage cannot import: each later stage registers the expressions of its facts
(``register_health_facts``, from its AppConfig.ready) and ``item_health_refresh`` writes them
all with one UPDATE. Who calls it:

1. every service that changes what a fact reads, as its last write, in its transaction and
   under the item's row lock (so two writes of one item cannot store facts out of order);
2. the warning sweep, inside each batch's transaction, for the facts it changes
   (``tasks_app.health_facts.sweep_store_facts``, set-based over the batch's items): it locks
   those items with SKIP LOCKED, since it holds warning rows that a service holding an item may
   wait for, and leaves the warnings of an item a writer holds for the next batch. Under READ
   COMMITTED its statements after the lock see every write committed before, and the facts
   commit with the batch (nothing is left stale if the process dies between two batches).

A new item needs no refresh: the columns' database defaults are the facts of an item without
any task (``health_gap``: no task planned yet). Rows written behind the services' back (the
benchmark's generator, tests' raw rows) call ``item_health_refresh`` themselves; the migration
that added the columns filled them for every existing item.
"""

from collections.abc import Callable, Collection, Iterable
from typing import Any, cast

from django.db import connections, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.sql import UpdateQuery

from requests_app.models import CollaborationItem, Meeting

# A task due within a working day is behind when it is under this percent done.
BEHIND_PERCENT = 80

# Each later stage's facts: column name -> an expression correlated to the item (OuterRef("pk")).
FactColumns = Callable[[], dict[str, Any]]


def _item_facts() -> dict[str, Any]:
    """This stage's own fact: a meeting is scheduled (an emergency waits for none)."""
    return {"health_meeting": Exists(Meeting.objects.filter(item=OuterRef("pk")))}


_SOURCES: list[FactColumns] = [_item_facts]


def register_health_facts(columns: FactColumns) -> None:
    """A later stage names the facts it keeps and how to compute them (from AppConfig.ready)."""
    if columns not in _SOURCES:
        _SOURCES.append(columns)


def health_fact_columns() -> dict[str, Any]:
    """Every registered fact: column name -> expression correlated to the item."""
    columns: dict[str, Any] = {}
    for source in _SOURCES:
        columns.update(source())
    return columns


def item_health_refresh(
    items: Iterable[int] | QuerySet[CollaborationItem], *, lock: bool = False, only: Collection[str] = ()
) -> None:
    """Recomputes the stored health facts of ``items`` (ids or a queryset) with one UPDATE.

    ``lock`` first row-locks the items in id order, in a transaction of its own if none is open:
    for callers that do not hold the items' locks already (the warning sweep). ``only`` names the
    facts a caller can change, when it knows (the sweep changes the warnings' two).
    """
    if isinstance(items, QuerySet):
        rows = items
    else:
        ids = list(items)
        if len(ids) == 1 and not lock and not only:
            # The writes' path: the compiled UPDATE, without building the facts' expressions.
            _refresh_one(ids[0])
            return
        rows = CollaborationItem.objects.filter(pk__in=ids)
    columns = {name: value for name, value in health_fact_columns().items() if not only or name in only}
    if not lock:
        rows.update(**columns)
        return
    with transaction.atomic():
        locked = list(rows.order_by("pk").select_for_update(no_key=True).values_list("pk", flat=True))
        CollaborationItem.objects.filter(pk__in=locked).update(**columns)


# The UPDATE of one item's facts, compiled once per database: it differs between items only in
# the id, its last parameter, and compiling its dozen subqueries cost more than running them.
_ONE: dict[str, tuple[str, list[Any]]] = {}
_PLACEHOLDER_ID = -1


def _refresh_one(item_id: int) -> None:
    alias = CollaborationItem.objects.db
    if alias not in _ONE:
        query = cast(
            UpdateQuery, CollaborationItem.objects.filter(pk=_PLACEHOLDER_ID).query.chain(UpdateQuery)
        )
        query.add_update_values(health_fact_columns())
        sql, params = query.get_compiler(alias).as_sql()
        if not params or params[-1] != _PLACEHOLDER_ID:  # not the shape this relies on
            CollaborationItem.objects.filter(pk=item_id).update(**health_fact_columns())
            return
        _ONE[alias] = (sql, list(params[:-1]))
    sql, params = _ONE[alias]
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, [*params, item_id])
