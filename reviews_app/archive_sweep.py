"""Archives whose build message or worker was lost: queued again, or failed after a few tries.

Run every few minutes by beat (``reviews_app.requeue_archives``).

1. A building archive whose heartbeat is older than the build lease (``build_lease()``,
   ``COLLAB_ARCHIVE_LEASE_SECONDS``, five minutes) lost its worker (killed, out of memory,
   restarted): it is queued again, or failed after ``MAX_BUILD_ATTEMPTS`` claims. The builder
   renews the heartbeat at every file and every quarter lease while copying a large one, so a
   live build never loses its lease.
2. A queued archive older than ``QUEUED_GRACE`` lost its message (the broker was down when it was
   requested, or was restarted): its build is sent again. Sending it twice is harmless: the
   builder claims the row queued → building, so a second message builds nothing.
"""

import logging
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from collab.queueing import enqueue_after_commit
from reviews_app.archive_builder import archive_move, build_lease
from reviews_app.archive_tasks import build_archive_task
from reviews_app.models import Archive, ArchiveStatus

logger = logging.getLogger(__name__)

QUEUED_GRACE = timedelta(minutes=2)
MAX_BUILD_ATTEMPTS = 3


def abandoned_builds(now: datetime) -> Q:
    """Building archives whose worker stopped renewing its lease."""
    lease = build_lease()
    return Q(status=ArchiveStatus.BUILDING) & (
        Q(heartbeat_at__lt=now - lease) | Q(heartbeat_at=None, requested_at__lt=now - lease)
    )


def archives_requeue(*, now: datetime | None = None) -> dict[str, int]:
    """Requeues or fails abandoned builds and sends lost builds again; returns counts."""
    now = now or timezone.now()
    abandoned = Archive.objects.filter(abandoned_builds(now))
    failed = archive_move(
        abandoned.filter(build_attempts__gte=MAX_BUILD_ATTEMPTS),
        ArchiveStatus.FAILED,
        error=_("The build stopped without finishing (the worker was interrupted)."),
        finished_at=now,
    )
    requeued = archive_move(abandoned, ArchiveStatus.QUEUED, progress=0, step="", heartbeat_at=None)
    lost = list(
        Archive.objects.filter(
            Q(status=ArchiveStatus.QUEUED)
            & (Q(requested_at__lt=now - QUEUED_GRACE) | Q(build_attempts__gt=0))
        ).values_list("pk", flat=True)
    )
    for archive_id in lost:
        enqueue_after_commit(build_archive_task, archive_id)
    if failed or requeued or lost:
        logger.warning("Archives: %s failed, %s requeued, %s sent again", failed, requeued, len(lost))
    return {"failed": failed, "requeued": requeued, "sent": len(lost)}
