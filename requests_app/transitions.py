"""The one door of every status change, for every stateful thing of every stage.

Each stateful model keeps its transition table (a dict of allowed moves) next to it: the item
(``ITEM_TRANSITIONS``), the meeting's minutes (``MINUTES_TRANSITIONS``: issued, objected to,
confirmed), the task, the problem, the deliverable, the improvement measure and the archive.
``transition`` is the only code that writes a ``status``: it

1. refuses any write to an archived item (``CollaborationItem.require_writable``);
2. checks the move against the table and refuses an illegal one with a clear message;
3. saves the new status with ``update_fields`` (and the row's version and update time, if it
   keeps them), then writes the audit row, in the caller's transaction.
"""

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from collab.audit.services import audit_record
from collab.audit.texts import FieldChoice, Text
from collab.prepared_rows import save_fields
from requests_app.errors import ItemError
from requests_app.models import CollaborationItem

Table = Mapping[str, Collection[str]]


def status_label(model: type[models.Model], status: str) -> str:
    field = model._meta.get_field("status")
    return str(dict(getattr(field, "choices", None) or [])[status])


def _statuses(obj: models.Model, current: str, to: str) -> list[FieldChoice]:
    return [FieldChoice(type(obj), "status", current), FieldChoice(type(obj), "status", to)]


def may_move(table: Table, current: str, to: str) -> bool:
    return to in table.get(current, ())


def sources_of(table: Table, to: str) -> list[str]:
    """Every status from which ``to`` may be reached: for conditional UPDATEs that claim a row."""
    return [status for status, targets in table.items() if to in targets]


def transition(
    *,
    actor: Any,
    obj: Any,
    to: str,
    table: Table,
    item: CollaborationItem,
    action: str,
    fields: Sequence[str] = (),
    changes: dict[str, Any] | None = None,
    note: str | Text = "",
    refusal: str = "",
    read_only_ok: bool = False,
) -> str:
    """Moves the row-locked ``obj`` to ``to`` along ``table``; returns the status it left.

    ``fields`` are other columns the caller set on ``obj`` with the move (saved together);
    ``changes`` are recorded in the audit row next to the status. ``read_only_ok`` is for the
    archive's own rows, which keep moving while the item closes.
    """
    if not read_only_ok:
        item.require_writable()
    current: str = obj.status
    if not may_move(table, current, to):
        model = type(obj)
        raise ItemError(
            refusal
            or _('This %(thing)s cannot move from "%(current)s" to "%(target)s".')
            % {
                "thing": model._meta.verbose_name,
                "current": status_label(model, current),
                "target": status_label(model, to),
            }
        )
    obj.status = to
    update = ["status", *fields]
    names = {f.name for f in obj._meta.concrete_fields}
    # A row's version is its optimistic lock, bumped by every write, unless the model says it
    # counts something else (the minutes' revisions, which confirmations name).
    if "version" in names and getattr(obj, "version_is_lock", True):
        obj.version = obj.version + 1
        update.append("version")
    if "updated_at" in names:
        update.append("updated_at")
    save_fields(obj, list(dict.fromkeys(update)))
    audit_record(
        actor=actor,
        action=action,
        target=item,
        # The item's status as its codes (the history labels them); another model's through its
        # field's choices, so a task's "in_progress" reads as the reader's word for it.
        changes={"status": [current, to] if obj is item else _statuses(obj, current, to), **(changes or {})},
        note=note,
        # Checked in step 1, before the move: closing the item is recorded on the closed item.
        read_only_ok=True,
    )
    return current
