from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import QuerySet

from collab.audit.models import AuditEntry


def audit_history(*, target: models.Model) -> QuerySet[AuditEntry]:
    """The audit entries of one object, newest first (served by the target index)."""
    return AuditEntry.objects.filter(
        target_type=ContentType.objects.get_for_model(target), target_id=str(target.pk)
    ).select_related("actor")
