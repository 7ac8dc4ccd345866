"""Exports whose message or worker was lost, and files past their time.

Run every two minutes by beat (``exports.sweep``).

1. A building export whose heartbeat is older than the lease (``COLLAB_EXPORT_LEASE_SECONDS``)
   lost its worker (killed, out of memory, restarted): queued again, or failed after
   ``MAX_BUILD_ATTEMPTS`` claims (an export that kills its worker each time must end).
2. A queued export older than ``QUEUED_GRACE`` lost its message (the broker was down): sent again.
   Sending twice is harmless: the builder claims the row queued → building.
3. A ready export past ``expires_at``: its file is removed and the row says so (audited).
"""

import logging
from datetime import datetime, timedelta
from functools import partial

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from collab.audit.services import audit_record
from collab.audit.texts import Text
from collab.exports.build_task import build_export_task
from collab.exports.builder import export_lease, export_move
from collab.exports.models import Export, ExportStatus
from collab.queueing import enqueue_after_commit

logger = logging.getLogger(__name__)

QUEUED_GRACE = timedelta(minutes=2)
MAX_BUILD_ATTEMPTS = 3
INTERRUPTED = gettext_noop("The export stopped without finishing (the worker was interrupted).")


def exports_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Requeues or fails abandoned builds, sends lost ones again, removes expired files."""
    now = now or timezone.now()
    lease = export_lease()
    abandoned = Export.objects.filter(
        Q(status=ExportStatus.BUILDING)
        & (Q(heartbeat_at__lt=now - lease) | Q(heartbeat_at=None, requested_at__lt=now - lease))
    )
    failed = 0
    for export in abandoned.filter(build_attempts__gte=MAX_BUILD_ATTEMPTS).select_related("requested_by"):
        with transaction.atomic():
            if export_move(
                Export.objects.filter(pk=export.pk, status=ExportStatus.BUILDING),
                ExportStatus.FAILED,
                error=str(Text(INTERRUPTED)),
                finished_at=now,
            ):
                failed += 1
                audit_record(
                    actor=None,
                    action="export.failed",
                    target=export,
                    changes={"export": [export.file_name, None]},
                    note=Text(INTERRUPTED),
                )
    requeued = export_move(abandoned, ExportStatus.QUEUED, rows_done=0, heartbeat_at=None)
    lost = list(
        Export.objects.filter(
            Q(status=ExportStatus.QUEUED) & (Q(requested_at__lt=now - QUEUED_GRACE) | Q(build_attempts__gt=0))
        ).values_list("pk", flat=True)
    )
    for export_id in lost:
        enqueue_after_commit(build_export_task, export_id)
    expired = 0
    for export in Export.objects.filter(status=ExportStatus.READY, expires_at__lt=now):
        with transaction.atomic():
            if export_move(Export.objects.filter(pk=export.pk), ExportStatus.EXPIRED, file=""):
                expired += 1
                audit_record(
                    actor=None,
                    action="export.expired",
                    target=export,
                    changes={"export": [export.file_name, None]},
                )
                if export.file:
                    # After commit: a rolled-back move must not lose a file the row still names.
                    transaction.on_commit(partial(export.file.storage.delete, str(export.file.name)))
    if failed or requeued or lost or expired:
        logger.warning(
            "Exports: %s failed, %s requeued, %s sent again, %s removed", failed, requeued, len(lost), expired
        )
    return {"failed": failed, "requeued": requeued, "sent": len(lost), "expired": expired}
