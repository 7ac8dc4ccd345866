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
) -> AuditEntry:
    """The one writer of the audit log. Call it inside the transaction that makes the change."""
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        target_type=ContentType.objects.get_for_model(target),
        target_id=str(target.pk),
        changes=changes or {},
        note=note,
    )
