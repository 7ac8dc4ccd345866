"""Building the archive: the ZIP written file by file, stored, and the item closed.

A Celery task builds a requested archive by id after commit (``archive_build``), updating
``progress`` and ``step`` as it goes, stores the ZIP under MEDIA_ROOT and closes the item. A
failed build leaves the item open and the archive "failed" with its error.
"""

import hashlib
import json
import logging
import tempfile
import time
import uuid
import zipfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from collab.audit.services import audit_record
from collab.audit.texts import Text
from collab.notify.models import Urgency
from collab.notify.services import notify
from requests_app.models import CollaborationItem, ItemStatus
from requests_app.services import ItemError, item_transition
from requests_app.transitions import sources_of
from reviews_app.archive_layout import (
    MANIFEST_JSON,
    MANIFEST_TEXT,
    Entry,
    Plan,
    archive_base_name,
    archive_plan,
    manifest,
    manifest_text,
)
from reviews_app.archive_readiness import archive_problems
from reviews_app.models import ARCHIVE_TRANSITIONS, Archive, ArchiveStatus

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, str], None]


def build_lease() -> timedelta:
    """How long a build's heartbeat stays valid: older, its worker is taken for dead and the sweep
    queues the archive again (``COLLAB_ARCHIVE_LEASE_SECONDS``)."""
    return timedelta(seconds=settings.COLLAB_ARCHIVE_LEASE_SECONDS)


def archive_move(archives: QuerySet[Archive], to: str, **fields: Any) -> int:
    """The archive's one status door: moves those of ``archives`` that may reach ``to`` along
    ARCHIVE_TRANSITIONS, in one conditional UPDATE with ``fields``; returns how many moved.

    The condition is the claim: of two workers handed the same archive, only the one whose
    UPDATE changed the row builds it. The callers write the audit rows (requested, built, failed).
    """
    return archives.filter(status__in=sources_of(ARCHIVE_TRANSITIONS, to)).update(status=to, **fields)


class _Progress:
    """Saves progress (0-99 while building) and the current file on the archive row, and tells
    the command line. An UPDATE outside any transaction, so the page polling sees it at once."""

    def __init__(self, archive_id: int, total: int, on_progress: ProgressCallback | None) -> None:
        self.archive_id, self.total, self.done, self.on_progress = archive_id, max(total, 1), 0, on_progress
        # A quarter lease between heartbeats: three may be late before the lease runs out.
        self.beat_every = build_lease().total_seconds() / 4
        self.beaten = time.monotonic()

    def step(self, label: str) -> None:
        percent = min(99, self.done * 100 // self.total)
        Archive.objects.filter(pk=self.archive_id).update(
            progress=percent, step=label[-200:], heartbeat_at=timezone.now()
        )
        self.beaten = time.monotonic()
        if self.on_progress is not None:
            self.on_progress(percent, label)
        self.done += 1

    def beat(self) -> None:
        """Renews the lease while one large file is copied (a video of gigabytes takes minutes)."""
        if time.monotonic() - self.beaten >= self.beat_every:
            Archive.objects.filter(pk=self.archive_id).update(heartbeat_at=timezone.now())
            self.beaten = time.monotonic()


def _copy_stored(entry: Entry, target: "_Hashing", progress: _Progress) -> None:
    try:
        source = entry.stored.storage.open(entry.stored.name, "rb")
    except OSError as error:
        raise ItemError(
            _('The stored file "%(name)s" is missing, so the archive cannot be complete.')
            % {"name": PurePosixPath(entry.path).name}
        ) from error
    with source:
        for chunk in iter(lambda: source.read(1024 * 1024), b""):
            target.write(chunk)
            progress.beat()


class _Hashing:
    """A write-only stream that counts and hashes what passes through it into ``target``."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target, self.digest, self.size = target, hashlib.sha256(), 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.target.write(data)


def _write_zip(
    plan: Plan, item: CollaborationItem, target: IO[bytes], progress: _Progress
) -> list[dict[str, Any]]:
    """Writes every entry, then the manifests, into the ZIP; returns the manifest's rows.

    Python's zipfile marks non-ASCII names as UTF-8 (flag 0x800), which Windows 10+, macOS and
    Linux unzip tools read, so Chinese names arrive intact. Every entry is dated with the archive
    time on the company's clock: a name alone would date it 1980-01-01.
    """
    root = archive_base_name(item)
    rows: list[dict[str, Any]] = []

    def member_info(path: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(f"{root}/{path}", date_time=plan.zip_date_time())
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16  # an ordinary readable file once unpacked (not 0o000)
        return info

    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as bundle:
        for entry in plan.entries:
            progress.step(f"{root}/{entry.path}")
            # force_zip64: a stored file's size is not known to zipfile before it is streamed.
            with bundle.open(member_info(entry.path), "w", force_zip64=entry.stored is not None) as member:
                sink = _Hashing(member)
                if entry.render is not None:
                    sink.write(entry.render())
                else:
                    _copy_stored(entry, sink, progress)
            sha256 = sink.digest.hexdigest()
            if entry.recorded_sha256 and entry.recorded_sha256 != sha256:
                raise ItemError(
                    _(
                        'The stored file "%(name)s" no longer matches the SHA-256 recorded when it was '
                        "submitted, so it cannot be archived. Ask the administrator to check the stored "
                        "files."
                    )
                    % {"name": entry.path}
                )
            rows.append({"path": entry.path, "kind": entry.kind, "size": sink.size, "sha256": sha256})
        progress.step(f"{root}/{MANIFEST_JSON}")
        document = manifest(plan, item, rows)
        bundle.writestr(member_info(MANIFEST_JSON), json.dumps(document, ensure_ascii=False, indent=2))
        bundle.writestr(member_info(MANIFEST_TEXT), manifest_text(plan, item, rows))
    return rows


def archive_build(
    *,
    archive_id: int,
    close: bool = True,
    language: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> Archive:
    """Builds a queued archive: the ZIP, its storage, and (with ``close``) the item's closing.

    1. Claim the row (queued → building) with a conditional UPDATE: a task delivered twice
       builds once.
    2. Plan every file, then write them one by one into a temporary ZIP, hashing each and
       updating progress; a stored file that no longer matches its recorded SHA-256 fails it.
    3. Store the ZIP under MEDIA_ROOT with a neutral name (the Chinese name is a column).
    4. In one transaction: lock the item, check again that it is ready (nothing changed during
       the build), move it EXECUTING → CLOSED, mark the archive ready at 100 %, audit.
    5. On any error: the archive is failed with its message, the stored ZIP removed, the item
       left as it was; unexpected errors are raised again for the worker's log.
    """
    claimed = archive_move(
        Archive.objects.filter(pk=archive_id),
        ArchiveStatus.BUILDING,
        progress=0,
        step="",
        error="",
        heartbeat_at=timezone.now(),
        build_attempts=F("build_attempts") + 1,
    )
    archive = Archive.objects.select_related("item", "requested_by").get(pk=archive_id)
    if not claimed:
        logger.info("archive %s is %s already; not building it again", archive_id, archive.status)
        return archive
    item = CollaborationItem.objects.select_related("requesting_department", "requester", "coordinator").get(
        pk=archive.item_id
    )
    stored_name = ""
    with tempfile.TemporaryDirectory(prefix="collab-archive-") as scratch:
        try:
            with translation.override(language or settings.LANGUAGE_CODE):
                # Fail fast when the item stopped being ready between the request and the build.
                if close and item.status != ItemStatus.CLOSED and (problems := archive_problems(item)):
                    raise ItemError(_("The item cannot be archived yet:"), {"__all__": problems})
                # The documents state the item as archived when this build closes it (or it is).
                archiving = close or item.status == ItemStatus.CLOSED
                plan = archive_plan(item, archiving=archiving, archived_at=timezone.now())
                progress = _Progress(archive_id, len(plan.entries) + 2, on_progress)
                zip_path = Path(scratch) / "archive.zip"
                with zip_path.open("wb") as target:
                    _write_zip(plan, item, target, progress)
                progress.step(_("Storing the archive"))
                digest = hashlib.sha256()
                with zip_path.open("rb") as source:
                    for chunk in iter(lambda: source.read(1024 * 1024), b""):
                        digest.update(chunk)
                    source.seek(0)
                    stored_name = archive.file.storage.save(
                        f"archives/{item.pk}/{uuid.uuid4().hex}.zip", File(source)
                    )
                _finish(archive, item, stored_name=stored_name, sha256=digest.hexdigest(), close=close)
        except Exception as error:
            _fail(archive, error, stored_name=stored_name)
            if not isinstance(error, ItemError):
                raise
    archive.refresh_from_db()
    if on_progress is not None and archive.status == ArchiveStatus.READY:
        on_progress(100, archive.file_name)
    return archive


def _finish(archive: Archive, item: CollaborationItem, *, stored_name: str, sha256: str, close: bool) -> None:
    with transaction.atomic():
        locked = CollaborationItem.objects.select_for_update(no_key=True).get(pk=item.pk)
        closing = close and locked.status != ItemStatus.CLOSED
        if closing:
            problems = archive_problems(locked)
            if problems:
                raise ItemError(
                    _("The item changed while its archive was built: %(problems)s")
                    % {"problems": " ".join(problems)}
                )
            # Said as what happened, not as "a new stage": the history reads "built the archive
            # … and closed the item".
            item_transition(
                actor=archive.requested_by,
                item=locked,
                to=ItemStatus.CLOSED,
                action="item.archived",
                note=Text(
                    gettext_noop("The archive %(file)s is built; the item is closed and read-only."),
                    file=archive.file_name,
                ),
            )
        now = timezone.now()
        archive_move(
            Archive.objects.filter(pk=archive.pk),
            ArchiveStatus.READY,
            progress=100,
            step="",
            file=stored_name,
            sha256=sha256,
            error="",
            finished_at=now,
        )
        audit_record(
            actor=archive.requested_by,
            action="archive.built",
            target=locked,
            changes={"archive": [None, archive.file_name], "sha256": [None, sha256]},
            note=Text(gettext_noop("The item is archived and read-only.")) if closing else "",
            read_only_ok=True,
        )
        _tell_requester(archive, locked, ready=True)


def _fail(archive: Archive, error: Exception, *, stored_name: str) -> None:
    message: str | Text
    if isinstance(error, ItemError):
        message = " ".join([error.message, *(m for ms in error.problems.values() for m in ms)])
    else:
        logger.exception("archive %s failed", archive.pk)
        message = Text(
            gettext_noop("The archive could not be built: %(error)s"),
            error=f"{type(error).__name__}: {error}",
        )
    if stored_name:
        archive.file.storage.delete(stored_name)
    with transaction.atomic():
        archive_move(
            Archive.objects.filter(pk=archive.pk),
            ArchiveStatus.FAILED,
            error=str(message),
            finished_at=timezone.now(),
        )
        item = CollaborationItem.objects.get(pk=archive.item_id)
        audit_record(
            actor=archive.requested_by,
            action="archive.failed",
            target=item,
            changes={"archive": [archive.file_name, None]},
            note=message,
            read_only_ok=True,
        )
        _tell_requester(archive, item, ready=False, error=message)


def _tell_requester(
    archive: Archive, item: CollaborationItem, *, ready: bool, error: str | Text = ""
) -> None:
    """The person who asked for the archive hears when it is ready or failed: it is built in the
    background and they may have left the page."""
    values = {"number": item.number or "", "topic": item.topic}

    def render() -> tuple[Text, str | Text]:
        if ready:
            return Text(
                gettext_noop("The archive of %(number)s %(topic)s is ready"), **values
            ), archive.file_name
        return Text(gettext_noop("The archive of %(number)s %(topic)s could not be built"), **values), error

    notify(
        recipients=[archive.requested_by],
        kind="archive.ready" if ready else "archive.failed",
        render=render,
        url=reverse("reviews_app:archive", args=[item.pk]),
        item=item,
        dedupe=f"archive:{archive.pk}:{'ready' if ready else 'failed'}",
        urgency=Urgency.NORMAL,
    )
