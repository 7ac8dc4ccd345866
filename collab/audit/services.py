from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from collab.audit.models import AuditEntry


def audit_record(
    *,
    actor: Any,
    action: str,
    target: models.Model,
    changes: dict[str, Any] | None = None,
    note: str = "",
    read_only_ok: bool = False,
) -> AuditEntry:
    """The one writer of the audit log. Call it inside the transaction that makes the change.

    A target that may refuse writes (an archived collaboration item) defines ``audit_guard()``;
    it is called first, so a write to a read-only target is refused and its transaction rolled
    back whichever service made it. ``read_only_ok`` is for the few writes that belong to the
    read-only state itself: closing the item, building its archive.
    """
    guard = getattr(target, "audit_guard", None)
    if guard is not None and not read_only_ok:
        guard()
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        target_type=ContentType.objects.get_for_model(target),
        target_id=str(target.pk),
        changes=changes or {},
        note=note,
    )
