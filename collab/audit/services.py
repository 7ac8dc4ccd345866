from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone, translation

from collab.audit.models import AuditEntry
from collab.audit.texts import Text, stored
from collab.bulk import insert_rows


def audit_record(
    *,
    actor: Any,
    action: str,
    target: models.Model,
    changes: dict[str, Any] | None = None,
    note: str | Text = "",
    read_only_ok: bool = False,
) -> AuditEntry:
    """The one writer of the audit log. Call it inside the transaction that makes the change.

    A target that may refuse writes (an archived collaboration item) defines ``audit_guard()``;
    it is called first, so a write to a read-only target is refused and its transaction rolled
    back whichever service made it. ``read_only_ok`` is for the few writes that belong to the
    read-only state itself: closing the item, building its archive.

    Whatever the system says (a ``Text`` note, ``Text`` values in ``changes``) is stored
    untranslated and rendered for each reader; see ``collab.audit.texts``.
    """
    guard = getattr(target, "audit_guard", None)
    if guard is not None and not read_only_ok:
        guard()
    note_text = None
    if isinstance(note, Text):
        note_text = note.as_json()
        with translation.override(settings.LANGUAGE_CODE):
            note = str(note)
    values = {
        "created_at": timezone.now(),
        "actor_id": getattr(actor, "pk", None) or None,
        "action": action,
        "target_type_id": ContentType.objects.get_for_model(target).pk,
        "target_id": str(target.pk),
        "changes": stored(changes or {}),
        "note": note,
        "note_text": note_text,
    }
    # One INSERT of the row's values, without a model instance saved through the ORM (a write
    # records one to three entries; the save's machinery cost more than the statement).
    [(pk,)] = insert_rows(AuditEntry, tuple(values), [tuple(values.values())], returning=("id",))
    return AuditEntry(id=pk, **values)
