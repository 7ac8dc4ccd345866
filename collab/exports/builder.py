"""Writing a requested export in the background: the worker's side (``export_build``) and the
export's one status door (``export_move``)."""

import logging
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from collab.audit.services import audit_record
from collab.audit.texts import DateTime, Text
from collab.exports.kinds import export_kind
from collab.exports.models import EXPORT_TRANSITIONS, Export, ExportStatus
from collab.notify.services import notify

logger = logging.getLogger(__name__)


def export_lease() -> timedelta:
    """How long a build's heartbeat stays valid (``COLLAB_EXPORT_LEASE_SECONDS``)."""
    return timedelta(seconds=settings.COLLAB_EXPORT_LEASE_SECONDS)


def export_move(exports: QuerySet[Export], to: str, **fields: Any) -> int:
    """The export's one status door: moves those of ``exports`` that may reach ``to`` along
    EXPORT_TRANSITIONS, in one conditional UPDATE with ``fields``; returns how many moved.

    The condition is the claim: of two workers handed the same export, only the one whose UPDATE
    changed the row writes it. The callers write the audit rows."""
    sources = [status for status, targets in EXPORT_TRANSITIONS.items() if to in targets]
    return exports.filter(status__in=sources).update(status=to, **fields)


class _Progress:
    """Saves the rows written and renews the lease about once a second: an UPDATE outside any
    transaction, so the page polling sees it at once."""

    EVERY = 1.0

    def __init__(self, export_id: int) -> None:
        self.export_id, self.saved = export_id, time.monotonic()

    def rows(self, done: int) -> None:
        if time.monotonic() - self.saved >= self.EVERY:
            Export.objects.filter(pk=self.export_id).update(rows_done=done, heartbeat_at=timezone.now())
            self.saved = time.monotonic()


def export_build(*, export_id: int) -> Export:
    """Writes a queued export.

    1. Claim the row (queued → building) with a conditional UPDATE: a message delivered twice
       writes once.
    2. In the request's language and time zone, make the workbook and stream it into a
       temporary file, saving the rows written as it goes.
    3. Store the file under MEDIA_ROOT with a neutral name (the person's name for it is a
       column); ready, kept for ``COLLAB_EXPORT_KEEP_HOURS``; audited; the person who asked is
       told, with the link to the download page (they need not keep the page open).
    4. On any error: failed with its message, the stored file removed, audited, the person
       told; unexpected errors are raised again for the worker's log.
    """
    claimed = export_move(
        Export.objects.filter(pk=export_id),
        ExportStatus.BUILDING,
        rows_done=0,
        error="",
        heartbeat_at=timezone.now(),
        build_attempts=F("build_attempts") + 1,
    )
    export = Export.objects.select_related("requested_by").get(pk=export_id)
    if not claimed:
        logger.info("export %s is %s already; not writing it again", export_id, export.status)
        return export
    stored_name = ""
    try:
        with (
            translation.override(export.language),
            timezone.override(export.zone),
            tempfile.TemporaryDirectory(prefix="collab-export-") as scratch,
        ):
            book, total = export_kind(export.kind).book(export.requested_by, export.query)
            Export.objects.filter(pk=export_id).update(rows_total=total)
            progress = _Progress(export_id)
            path = Path(scratch) / "export.xlsx"
            with path.open("wb") as target:
                for piece in book.stream():
                    target.write(piece)
                    progress.rows(book.row_count)
            with path.open("rb") as source:
                stored_name = export.file.storage.save(f"exports/{uuid.uuid4().hex}.xlsx", File(source))
        _finish(export, stored_name=stored_name, rows=book.row_count)
    except Exception as error:
        _fail(export, error, stored_name=stored_name)
        raise
    export.refresh_from_db()
    return export


def _finish(export: Export, *, stored_name: str, rows: int) -> None:
    now = timezone.now()
    expires_at = now + timedelta(hours=settings.COLLAB_EXPORT_KEEP_HOURS)
    with transaction.atomic():
        export_move(
            Export.objects.filter(pk=export.pk),
            ExportStatus.READY,
            file=stored_name,
            rows_done=rows,
            rows_total=rows,
            finished_at=now,
            expires_at=expires_at,
        )
        audit_record(
            actor=export.requested_by,
            action="export.built",
            target=export,
            changes={"export": [None, export.file_name], "rows": [None, rows]},
        )
        _tell(
            export,
            "export.ready",
            Text(gettext_noop('Your Excel export "%(name)s" is ready'), name=export.file_name),
            Text(
                gettext_noop("%(rows)s rows. Download it before %(until)s."),
                rows=rows,
                until=DateTime(expires_at),
            ),
        )


def _fail(export: Export, error: Exception, *, stored_name: str) -> None:
    logger.exception("export %s failed", export.pk)
    message = Text(gettext_noop("The export could not be written: %(error)s"), error=type(error).__name__)
    if stored_name:
        export.file.storage.delete(stored_name)
    with transaction.atomic():
        export_move(
            Export.objects.filter(pk=export.pk),
            ExportStatus.FAILED,
            error=str(message),
            finished_at=timezone.now(),
        )
        audit_record(
            actor=export.requested_by,
            action="export.failed",
            target=export,
            changes={"export": [export.file_name, None]},
            note=message,
        )
        _tell(
            export,
            "export.failed",
            Text(gettext_noop('Your Excel export "%(name)s" could not be written'), name=export.file_name),
            message,
        )


def _tell(export: Export, kind: str, title: Text, body: Text) -> None:
    """Tells the person who asked, in the notification centre and by e-mail: the file is written
    after they may have left its page."""
    notify(
        recipients=[export.requested_by],
        kind=kind,
        render=lambda: (title, body),
        url=reverse("exports:export", args=[export.pk]),
        dedupe=f"{kind}:{export.pk}",
    )
