"""The item's archive (归档): one ZIP with every form, every file and a manifest of digests.

The template gathers every output of the process into one folder named after the project; here
that folder is a ZIP named ``协作流程-<编号>-<主题>.zip``, holding the same-named folder:

    协作流程-20261001-Q3产品上线测试/
      01-协作需求确认表/协作需求确认表.pdf, .xlsx, 背景资料/<each background file>
      02-会议纪要/会议纪要-<YYYYMMDD-HHMM>-v<version>.pdf, .xlsx     (each meeting with minutes)
      03-任务分解与分配表/任务分解与分配表.pdf, .xlsx
      04-进度跟踪记录表/进度跟踪记录表.pdf, .xlsx
      05-成果验收表/<NN>-<task>-<deliverable>/成果验收表.pdf, .xlsx, v<N>/<each file of version N>
      06-协作流程优化记录/协作流程优化记录.pdf, .xlsx
      manifest.json, 清单.txt      (path, size and SHA-256 of every other file)

Folder and file names are the forms' Chinese names whatever the language, so the archive's shape
does not depend on who built it; the documents' labels follow the build language (the company's,
settings.LANGUAGE_CODE, unless the command line says otherwise).

An item is ready to archive when it is in execution, every one of its tasks has at least one
deliverable signed by both sides, no deliverable is still in review, waiting for changes or for a
signature, and the retrospective is recorded. The coordinator requests the archive
(``archive_request``); a Celery task builds it by id after commit (``archive_build``), updating
``progress`` and ``step`` as it goes, stores the ZIP under MEDIA_ROOT and closes the item. A
failed build leaves the item open and the archive "failed" with its error.
"""

import hashlib
import io
import json
import logging
import re
import shutil
import tempfile
import unicodedata
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from collab.audit.services import audit_record
from collab.notify.models import Urgency
from collab.notify.services import notify
from collab.org.models import display_name
from collab.pdf import render_pdf
from requests_app.models import CollaborationItem, ItemStatus
from requests_app.services import ItemError, item_transition, require_open
from reviews_app import archive_documents as documents
from reviews_app.acceptance import acceptance_form_context, acceptance_queryset
from reviews_app.access import ARCHIVE
from reviews_app.models import Archive, ArchiveStatus, Deliverable, DeliverableStatus, Retrospective

logger = logging.getLogger(__name__)

# A queued or building archive older than this was lost (a worker killed mid-build): a new
# request marks it failed instead of waiting for it forever.
ARCHIVE_STALE_AFTER = timedelta(hours=1)

ACTIVE_STATUSES = (ArchiveStatus.QUEUED, ArchiveStatus.BUILDING)

FOLDERS = {
    "requirement": "01-协作需求确认表",
    "attachments": "背景资料",
    "minutes": "02-会议纪要",
    "tasks": "03-任务分解与分配表",
    "progress": "04-进度跟踪记录表",
    "acceptance": "05-成果验收表",
    "retrospective": "06-协作流程优化记录",
}
MANIFEST_JSON = "manifest.json"
MANIFEST_TEXT = "清单.txt"

ProgressCallback = Callable[[int, str], None]


# --- names ----------------------------------------------------------------------------------------

# Characters that Windows, macOS or Linux refuse in a name, and control characters.
_FORBIDDEN = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{n}" for p in ("COM", "LPT") for n in range(1, 10)}


def safe_name(text: str, *, limit: int = 60, default: str = "未命名") -> str:
    """``text`` as one file or folder name every common file system accepts.

    Forbidden characters (/ \\ : * ? " < > | and control characters) become "_", runs of white
    space one space; leading and trailing dots and spaces go (Windows drops them); at most
    ``limit`` characters (60 CJK characters are 180 bytes in UTF-8, within the usual 255);
    Windows' reserved device names (CON, NUL, COM1...) get a "_" in front.
    """
    name = unicodedata.normalize("NFC", text)
    name = re.sub(r"\s+", " ", name)  # tabs and line breaks too, before control characters go
    name = _FORBIDDEN.sub("_", name).strip(" .")
    name = name[:limit].rstrip(" .")
    if not name:
        name = default
    if name.split(".")[0].upper() in _RESERVED:
        name = "_" + name
    return name


def safe_file_name(original: str, *, limit: int = 80) -> str:
    """An uploaded file's original name made safe, keeping its extension."""
    path = PurePosixPath(original.replace("\\", "/"))
    suffix = safe_name(path.suffix, limit=16, default="") if path.suffix else ""
    suffix = f".{suffix.lstrip('.')}" if suffix.strip("._") else ""
    stem = safe_name(path.name[: -len(path.suffix)] if path.suffix else path.name, limit=limit)
    return f"{stem}{suffix}"


def archive_base_name(item: CollaborationItem) -> str:
    """``协作流程-<编号>-<主题>``: the template's folder convention, safe for file systems."""
    return f"协作流程-{item.number or item.pk}-{safe_name(item.topic, limit=60)}"


def archive_file_name(item: CollaborationItem) -> str:
    return f"{archive_base_name(item)}.zip"


# --- readiness ------------------------------------------------------------------------------------


def _status_label(deliverable: Deliverable) -> str:
    return str(DeliverableStatus(deliverable.status).label)


def archive_problems(item: CollaborationItem) -> list[str]:
    """What stops ``item`` from being archived, in words; empty when it is ready.

    "Every deliverable accepted" means: each task has at least one deliverable that the receiver
    accepted and both sides signed, and no deliverable of the item is still in review, waiting
    for changes or waiting for a signature.
    """
    if item.status == ItemStatus.CLOSED:
        return [_("This item is already archived.")]
    if item.status != ItemStatus.EXECUTING:
        return [
            _("The item is not in execution: it is archived after its tasks were carried out and delivered.")
        ]
    from tasks_app.models import Task

    problems: list[str] = []
    tasks = list(Task.objects.filter(item=item).prefetch_related("deliverables").order_by("deadline", "pk"))
    if not tasks:
        problems.append(_("The item has no tasks, so nothing was delivered."))
    for task in tasks:
        deliverables = sorted(task.deliverables.all(), key=lambda d: d.pk)
        if not any(d.status == DeliverableStatus.SIGNED for d in deliverables):
            problems.append(
                _('Task "%(task)s" has no deliverable accepted and signed by both sides yet.')
                % {"task": task.name}
            )
        for deliverable in deliverables:
            if deliverable.status != DeliverableStatus.SIGNED:
                problems.append(
                    _(
                        'Deliverable "%(deliverable)s" of task "%(task)s" is "%(status)s": it must be '
                        "accepted and signed by both sides."
                    )
                    % {
                        "deliverable": deliverable.name,
                        "task": task.name,
                        "status": _status_label(deliverable),
                    }
                )
    if not Retrospective.objects.filter(item=item).exists():
        problems.append(_("The retrospective is not recorded yet."))
    return problems


def active_archive(item: CollaborationItem) -> Archive | None:
    """The archive being built for ``item`` (queued or building, not stale), if any."""
    since = timezone.now() - ARCHIVE_STALE_AFTER
    return (
        Archive.objects.filter(item=item, status__in=ACTIVE_STATUSES, requested_at__gte=since)
        .order_by("-requested_at", "-pk")
        .first()
    )


def _fail_stale(item: CollaborationItem) -> None:
    Archive.objects.filter(
        item=item,
        status__in=ACTIVE_STATUSES,
        requested_at__lt=timezone.now() - ARCHIVE_STALE_AFTER,
    ).update(
        status=ArchiveStatus.FAILED,
        error=_("The build stopped without finishing (the worker was interrupted)."),
        finished_at=timezone.now(),
    )


# --- requests -------------------------------------------------------------------------------------


@transaction.atomic
def archive_request(*, actor: Any, item_id: int) -> Archive:
    """The coordinator asks for the item's archive; it is built in the background.

    1. Lock the item; refuse an archived item, anyone but the coordinator, a build under way and
       an item that is not ready (the message lists everything missing).
    2. Create the archive row (queued), write the audit row.
    3. After commit, enqueue the build by id.
    """
    item = CollaborationItem.objects.select_for_update().get(pk=item_id)
    require_open(item)
    ARCHIVE.require(actor, item)
    _fail_stale(item)
    if active_archive(item) is not None:
        raise ItemError(_("The archive of this item is being built already."))
    problems = archive_problems(item)
    if problems:
        raise ItemError(_("The item cannot be archived yet:"), {"__all__": problems})
    archive = Archive.objects.create(item=item, requested_by=actor, file_name=archive_file_name(item))
    audit_record(
        actor=actor, action="archive.requested", target=item, changes={"archive": [None, archive.file_name]}
    )
    archive_id = archive.pk

    def enqueue() -> None:
        from reviews_app.archive_tasks import build_archive_task

        build_archive_task.delay(archive_id)

    transaction.on_commit(enqueue)
    return archive


def archive_snapshot(
    *,
    actor: Any,
    item_id: int,
    close: bool,
    language: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> Archive:
    """Builds the archive now, in this process (the ``archive_item`` command).

    Without ``close`` it builds whatever the item's state (a snapshot of an open item, or again
    for an archived one) and leaves the item's status alone. With ``close`` the item must be
    ready, and is closed at the end like a build the coordinator requested.
    """
    with transaction.atomic():
        item = CollaborationItem.objects.select_for_update().get(pk=item_id)
        _fail_stale(item)
        if close:
            require_open(item)
            if active_archive(item) is not None:
                raise ItemError(_("The archive of this item is being built already."))
            problems = archive_problems(item)
            if problems:
                raise ItemError(_("The item cannot be archived yet:"), {"__all__": problems})
        archive = Archive.objects.create(item=item, requested_by=actor, file_name=archive_file_name(item))
        audit_record(
            actor=actor,
            action="archive.requested",
            target=item,
            changes={"archive": [None, archive.file_name]},
            note=_("from the command line"),
        )
    return archive_build(archive_id=archive.pk, close=close, language=language, on_progress=on_progress)


# --- the plan: every file of the archive ----------------------------------------------------------


@dataclass
class Entry:
    """One file of the archive: a document rendered now, or a stored file copied as it is."""

    path: str  # inside the archive's root folder
    kind: str
    render: Callable[[], bytes] | None = None
    stored: Any = None  # a FieldFile
    recorded_sha256: str = ""  # what the application recorded for a stored file, if anything


@dataclass
class Plan:
    entries: list[Entry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _used: set[str] = field(default_factory=set)

    def path(self, folder: str, name: str) -> str:
        """A unique path in ``folder``: a repeated name gets "-2", "-3"... before its extension."""
        candidate = f"{folder}/{name}" if folder else name
        stem, dot, suffix = name.rpartition(".")
        if not dot:
            stem, suffix = name, ""
        n = 1
        while candidate.casefold() in self._used:
            n += 1
            numbered = f"{stem}-{n}.{suffix}" if dot else f"{name}-{n}"
            candidate = f"{folder}/{numbered}" if folder else numbered
        self._used.add(candidate.casefold())
        return candidate

    def document(self, folder: str, name: str, kind: str, render: Callable[[], bytes]) -> None:
        self.entries.append(Entry(path=self.path(folder, name), kind=kind, render=render))

    def stored(
        self, folder: str, original_name: str, kind: str, file: Any, recorded_sha256: str = ""
    ) -> None:
        self.entries.append(
            Entry(
                path=self.path(folder, safe_file_name(original_name)),
                kind=kind,
                stored=file,
                recorded_sha256=recorded_sha256,
            )
        )


def _xlsx(write: Callable[[IO[bytes]], Any]) -> bytes:
    buffer = io.BytesIO()
    write(buffer)
    return buffer.getvalue()


def _xlsx_of(write: Callable[[Any, IO[bytes]], Any], document: Any) -> bytes:
    return _xlsx(lambda target: write(document, target))


def _pdf(template: str, context: Callable[[], dict[str, Any]]) -> Callable[[], bytes]:
    return lambda: render_pdf(template, context())


def _plan(item: CollaborationItem) -> Plan:
    """Every file of ``item``'s archive, in order; nothing is rendered yet."""
    plan = Plan()

    # 1. 《协作需求确认表》 and the background files sent with it.
    folder = FOLDERS["requirement"]
    plan.document(
        folder,
        "协作需求确认表.pdf",
        "form",
        _pdf("reviews_app/pdf/requirement_form.html", lambda: documents.requirement_form_context(item)),
    )
    plan.document(
        folder,
        "协作需求确认表.xlsx",
        "form",
        lambda: _xlsx(lambda target: documents.write_requirement_form_xlsx(item, target)),
    )
    for attachment in item.attachments.order_by("uploaded_at", "pk"):
        plan.stored(
            f"{folder}/{FOLDERS['attachments']}", attachment.original_name, "attachment", attachment.file
        )

    # 2. 《会议纪要》 of each meeting that has minutes.
    for minutes in (
        documents.minutes_queryset().filter(meeting__item=item).order_by("meeting__starts_at", "pk")
    ):
        meeting = minutes.meeting
        when = meeting.local_starts_at
        name = f"会议纪要-{when:%Y%m%d-%H%M}-v{minutes.version}"
        plan.document(
            FOLDERS["minutes"],
            f"{name}.pdf",
            "form",
            _pdf("reviews_app/pdf/minutes.html", partial(documents.minutes_context, minutes)),
        )
        plan.document(
            FOLDERS["minutes"],
            f"{name}.xlsx",
            "form",
            partial(_xlsx_of, documents.write_minutes_xlsx_for_archive, minutes),
        )
    for meeting in item.meetings.filter(minutes__isnull=True).order_by("starts_at", "pk"):
        plan.notes.append(
            _("The meeting of %(time)s has no minutes.")
            % {"time": f"{timezone.localtime(meeting.starts_at):%Y-%m-%d %H:%M}"}
        )

    # 3. 《任务分解与分配表》 and 4. 《进度跟踪记录表》, from their stages' writers.
    from tasks_app.selectors import sheet_tasks
    from tasks_app.sheet import write_task_sheet_xlsx
    from tasks_app.tracking import tracked_tasks, write_progress_record_xlsx

    plan.document(
        FOLDERS["tasks"],
        "任务分解与分配表.pdf",
        "form",
        _pdf("reviews_app/pdf/task_sheet.html", lambda: documents.task_sheet_context(item)),
    )
    plan.document(
        FOLDERS["tasks"],
        "任务分解与分配表.xlsx",
        "form",
        lambda: _xlsx(lambda target: write_task_sheet_xlsx(item, sheet_tasks(item), target)),
    )
    plan.document(
        FOLDERS["progress"],
        "进度跟踪记录表.pdf",
        "form",
        _pdf("reviews_app/pdf/progress_record.html", lambda: documents.progress_record_context(item)),
    )
    plan.document(
        FOLDERS["progress"],
        "进度跟踪记录表.xlsx",
        "form",
        lambda: _xlsx(lambda target: write_progress_record_xlsx(item, tracked_tasks(item), target)),
    )

    # 5. 《成果验收表》 of each deliverable, with every file of every version.
    for index, deliverable in enumerate(documents.acceptance_deliverables(item), start=1):
        task_name, name = safe_name(deliverable.task.name, limit=30), safe_name(deliverable.name, limit=30)
        folder = plan.path(FOLDERS["acceptance"], f"{index:02d}-{task_name}-{name}")
        plan.document(folder, "成果验收表.pdf", "form", partial(_acceptance_pdf, deliverable))
        plan.document(
            folder,
            "成果验收表.xlsx",
            "form",
            partial(_xlsx_of, documents.write_acceptance_form_xlsx, deliverable),
        )
        for version in deliverable.versions.all():
            for file in version.files.all():
                plan.stored(
                    f"{folder}/v{version.number}", file.original_name, "deliverable", file.file, file.sha256
                )

    # 6. 《协作流程优化记录》.
    retrospective = documents.retrospective_queryset().filter(item=item).first()
    if retrospective is None:
        plan.notes.append(_("The retrospective is not recorded yet."))
    else:
        plan.document(
            FOLDERS["retrospective"],
            "协作流程优化记录.pdf",
            "form",
            _pdf(
                "reviews_app/pdf/retrospective.html", lambda: documents.retrospective_context(retrospective)
            ),
        )
        plan.document(
            FOLDERS["retrospective"],
            "协作流程优化记录.xlsx",
            "form",
            lambda: _xlsx(lambda target: documents.write_retrospective_xlsx(retrospective, target)),
        )
    return plan


def _acceptance_pdf(deliverable: Deliverable) -> bytes:
    """The acceptance form's PDF, from stage 5's context and template."""
    form = acceptance_queryset().get(pk=deliverable.pk)
    return render_pdf("reviews_app/acceptance_pdf.html", acceptance_form_context(form))


# --- the build ------------------------------------------------------------------------------------


class _Progress:
    """Saves progress (0-99 while building) and the current file on the archive row, and tells
    the command line. An UPDATE outside any transaction, so the page polling sees it at once."""

    def __init__(self, archive_id: int, total: int, on_progress: ProgressCallback | None) -> None:
        self.archive_id, self.total, self.done, self.on_progress = archive_id, max(total, 1), 0, on_progress

    def step(self, label: str) -> None:
        percent = min(99, self.done * 100 // self.total)
        Archive.objects.filter(pk=self.archive_id).update(progress=percent, step=label[-200:])
        if self.on_progress is not None:
            self.on_progress(percent, label)
        self.done += 1


def _copy_stored(entry: Entry, target: "_Hashing") -> None:
    try:
        source = entry.stored.storage.open(entry.stored.name, "rb")
    except OSError as error:
        raise ItemError(
            _('The stored file "%(name)s" is missing, so the archive cannot be complete.')
            % {"name": PurePosixPath(entry.path).name}
        ) from error
    with source:
        shutil.copyfileobj(source, target, 1024 * 1024)


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
    Linux unzip tools read, so Chinese names arrive intact.
    """
    root = archive_base_name(item)
    rows: list[dict[str, Any]] = []
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as bundle:
        for entry in plan.entries:
            progress.step(f"{root}/{entry.path}")
            # force_zip64: a stored file's size is not known to zipfile before it is streamed.
            with bundle.open(f"{root}/{entry.path}", "w", force_zip64=entry.stored is not None) as member:
                sink = _Hashing(member)
                if entry.render is not None:
                    sink.write(entry.render())
                else:
                    _copy_stored(entry, sink)
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
        manifest = _manifest(item, rows, plan.notes)
        bundle.writestr(f"{root}/{MANIFEST_JSON}", json.dumps(manifest, ensure_ascii=False, indent=2))
        bundle.writestr(f"{root}/{MANIFEST_TEXT}", _manifest_text(item, rows, plan.notes))
    return rows


def _manifest(item: CollaborationItem, rows: list[dict[str, Any]], notes: list[str]) -> dict[str, Any]:
    return {
        "format": "collab-archive/1",
        "item": {
            "number": item.number,
            "topic": item.topic,
            "requesting_department": str(item.requesting_department),
            "requester": display_name(item.requester),
            "coordinator": display_name(item.coordinator),
            "submitted_at": item.submitted_at.isoformat() if item.submitted_at else None,
        },
        "generated_at": timezone.localtime().isoformat(timespec="seconds"),
        "language": translation.get_language(),
        "hash": "sha256",
        "files": rows,
        "notes": notes,
    }


def _manifest_text(item: CollaborationItem, rows: list[dict[str, Any]], notes: list[str]) -> str:
    lines = [
        _("Archive of collaboration item %(number)s %(topic)s")
        % {"number": item.number or "", "topic": item.topic},
        _("Built %(time)s by Collab.") % {"time": f"{timezone.localtime():%Y-%m-%d %H:%M}"},
        _(
            "Every file of the archive is listed below with its size in bytes and its SHA-256 digest "
            "(the manifest files themselves excepted)."
        ),
        "",
    ]
    lines += [f"{row['sha256']}  {row['size']:>10}  {row['path']}" for row in rows]
    if notes:
        lines += ["", _("Notes:"), *(f"- {note}" for note in notes)]
    return "\n".join(lines) + "\n"


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
    claimed = Archive.objects.filter(pk=archive_id, status=ArchiveStatus.QUEUED).update(
        status=ArchiveStatus.BUILDING, progress=0, step="", error=""
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
                plan = _plan(item)
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
        locked = CollaborationItem.objects.select_for_update().get(pk=item.pk)
        closing = close and locked.status != ItemStatus.CLOSED
        if closing:
            problems = archive_problems(locked)
            if problems:
                raise ItemError(
                    _("The item changed while its archive was built: %(problems)s")
                    % {"problems": " ".join(problems)}
                )
            item_transition(
                actor=archive.requested_by, item=locked, to=ItemStatus.CLOSED, note=archive.file_name
            )
        now = timezone.now()
        Archive.objects.filter(pk=archive.pk).update(
            status=ArchiveStatus.READY,
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
            note=_("The item is archived and read-only.") if closing else "",
        )
        _tell_requester(archive, locked, ready=True)


def _fail(archive: Archive, error: Exception, *, stored_name: str) -> None:
    if isinstance(error, ItemError):
        message = " ".join([error.message, *(m for ms in error.problems.values() for m in ms)])
    else:
        logger.exception("archive %s failed", archive.pk)
        message = _("The archive could not be built: %(error)s") % {
            "error": f"{type(error).__name__}: {error}"
        }
    if stored_name:
        archive.file.storage.delete(stored_name)
    with transaction.atomic():
        Archive.objects.filter(pk=archive.pk).update(
            status=ArchiveStatus.FAILED, error=message, finished_at=timezone.now()
        )
        item = CollaborationItem.objects.get(pk=archive.item_id)
        audit_record(
            actor=archive.requested_by,
            action="archive.failed",
            target=item,
            changes={"archive": [archive.file_name, None]},
            note=message,
        )
        _tell_requester(archive, item, ready=False, error=message)


def _tell_requester(archive: Archive, item: CollaborationItem, *, ready: bool, error: str = "") -> None:
    """The person who asked for the archive hears when it is ready or failed: it is built in the
    background and they may have left the page."""
    values = {"number": item.number or "", "topic": item.topic, "name": archive.file_name, "error": error}

    def render() -> tuple[str, str]:
        if ready:
            return _("The archive of %(number)s %(topic)s is ready") % values, values["name"]
        return _("The archive of %(number)s %(topic)s could not be built") % values, values["error"]

    notify(
        recipients=[archive.requested_by],
        kind="archive.ready" if ready else "archive.failed",
        render=render,
        url=reverse("reviews_app:archive", args=[item.pk]),
        item=item,
        dedupe=f"archive:{archive.pk}:{'ready' if ready else 'failed'}",
        urgency=Urgency.NORMAL,
    )
