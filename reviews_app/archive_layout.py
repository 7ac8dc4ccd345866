"""The archive's layout: which file goes where in the ZIP, and its manifest.

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
does not depend on who built it; the documents' labels follow the build language.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import IO, Any

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from collab.lib.filenames import safe_file_name, safe_name
from collab.org.models import display_name
from collab.pdf import render_pdf
from requests_app.models import CollaborationItem
from reviews_app import archive_documents as documents
from reviews_app.acceptance import acceptance_form_context, acceptance_queryset
from reviews_app.models import Deliverable
from tasks_app.selectors import sheet_tasks
from tasks_app.sheet import write_task_sheet_xlsx
from tasks_app.tracking import tracked_tasks, write_progress_record_xlsx

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


def archive_base_name(item: CollaborationItem) -> str:
    """``协作流程-<编号>-<主题>``: the template's folder convention, safe for file systems."""
    return f"协作流程-{item.number or item.pk}-{safe_name(item.topic, limit=60)}"


def archive_file_name(item: CollaborationItem) -> str:
    return f"{archive_base_name(item)}.zip"


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
    # The archive time: every PDF's "archived ... at", the manifest and every ZIP entry's date.
    archived_at: datetime = field(default_factory=timezone.now)
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

    @property
    def local_archived_at(self) -> datetime:
        """The archive time on the company's clock (TIME_ZONE), whoever's language builds it."""
        return timezone.localtime(self.archived_at, timezone.get_default_timezone())

    def zip_date_time(self) -> tuple[int, int, int, int, int, int]:
        """The archive time as a ZIP entry's date (local time, no zone, as ZIP has none)."""
        moment = self.local_archived_at
        return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)

    def pdf(self, template: str, context: Callable[[], dict[str, Any]]) -> Callable[[], bytes]:
        """Renders ``template`` dated with the archive time, like every other file of the plan."""
        return lambda: render_pdf(template, {**context(), "generated_at": self.local_archived_at})

    def document(self, folder: str, name: str, kind: str, render: Callable[[], bytes]) -> None:
        self.entries.append(Entry(path=self.path(folder, name), kind=kind, render=render))

    def form(self, folder: str, name: str, *, pdf: Callable[[], bytes], xlsx: Callable[[], bytes]) -> None:
        """A form of the process, as the template keeps it: a PDF and an Excel file of one name."""
        self.document(folder, f"{name}.pdf", "form", pdf)
        self.document(folder, f"{name}.xlsx", "form", xlsx)

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


def archive_plan(
    item: CollaborationItem, *, archiving: bool = False, archived_at: datetime | None = None
) -> Plan:
    """Every file of ``item``'s archive, in order; nothing is rendered yet.

    ``archiving``: the build closes the item (or it is closed already), so the forms state the
    status "Archived" that the item has once its archive is made. ``archived_at`` dates them all.
    """
    plan = Plan(archived_at=archived_at or timezone.now())
    _pdf = plan.pdf

    # 1. 《协作需求确认表》 and the background files sent with it.
    folder = FOLDERS["requirement"]
    plan.form(
        folder,
        "协作需求确认表",
        pdf=_pdf(
            "reviews_app/pdf/requirement_form.html",
            lambda: documents.requirement_form_context(item, archiving=archiving),
        ),
        xlsx=lambda: _xlsx(
            lambda target: documents.write_requirement_form_xlsx(item, target, archiving=archiving)
        ),
    )
    for attachment in item.attachments.order_by("uploaded_at", "pk"):
        plan.stored(
            f"{folder}/{FOLDERS['attachments']}", attachment.original_name, "attachment", attachment.file
        )

    # 2. 《会议纪要》 of each meeting that has minutes.
    for minutes in (
        documents.minutes_queryset().filter(meeting__item=item).order_by("meeting__starts_at", "pk")
    ):
        when = minutes.meeting.local_starts_at
        plan.form(
            FOLDERS["minutes"],
            f"会议纪要-{when:%Y%m%d-%H%M}-v{minutes.version}",
            pdf=_pdf("reviews_app/pdf/minutes.html", partial(documents.minutes_context, minutes)),
            xlsx=partial(_xlsx_of, documents.write_minutes_xlsx_for_archive, minutes),
        )
    for meeting in item.meetings.filter(minutes__isnull=True).order_by("starts_at", "pk"):
        plan.notes.append(
            _("The meeting of %(time)s has no minutes.")
            % {"time": f"{timezone.localtime(meeting.starts_at):%Y-%m-%d %H:%M}"}
        )

    # 3. 《任务分解与分配表》 and 4. 《进度跟踪记录表》, from their stages' writers.
    plan.form(
        FOLDERS["tasks"],
        "任务分解与分配表",
        pdf=_pdf(
            "reviews_app/pdf/task_sheet.html", lambda: documents.task_sheet_context(item, archiving=archiving)
        ),
        xlsx=lambda: _xlsx(lambda target: write_task_sheet_xlsx(item, sheet_tasks(item), target)),
    )
    plan.form(
        FOLDERS["progress"],
        "进度跟踪记录表",
        pdf=_pdf("reviews_app/pdf/progress_record.html", lambda: documents.progress_record_context(item)),
        xlsx=lambda: _xlsx(lambda target: write_progress_record_xlsx(item, tracked_tasks(item), target)),
    )

    # 5. 《成果验收表》 of each deliverable, with every file of every version.
    for index, deliverable in enumerate(documents.acceptance_deliverables(item), start=1):
        task_name, name = safe_name(deliverable.task.name, limit=30), safe_name(deliverable.name, limit=30)
        folder = plan.path(FOLDERS["acceptance"], f"{index:02d}-{task_name}-{name}")
        plan.form(
            folder,
            "成果验收表",
            pdf=partial(_acceptance_pdf, deliverable, plan.local_archived_at),
            xlsx=partial(_xlsx_of, documents.write_acceptance_form_xlsx, deliverable),
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
        plan.form(
            FOLDERS["retrospective"],
            "协作流程优化记录",
            pdf=_pdf(
                "reviews_app/pdf/retrospective.html", lambda: documents.retrospective_context(retrospective)
            ),
            xlsx=lambda: _xlsx(lambda target: documents.write_retrospective_xlsx(retrospective, target)),
        )
    return plan


def _acceptance_pdf(deliverable: Deliverable, archived_at: datetime) -> bytes:
    """The acceptance form's PDF, from stage 5's context and template."""
    form = acceptance_queryset().get(pk=deliverable.pk)
    return render_pdf(
        "reviews_app/acceptance_pdf.html", {**acceptance_form_context(form), "generated_at": archived_at}
    )


def manifest(plan: Plan, item: CollaborationItem, rows: list[dict[str, Any]]) -> dict[str, Any]:
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
        "generated_at": plan.local_archived_at.isoformat(timespec="seconds"),
        "language": translation.get_language(),
        "hash": "sha256",
        "files": rows,
        "notes": plan.notes,
    }


def manifest_text(plan: Plan, item: CollaborationItem, rows: list[dict[str, Any]]) -> str:
    lines = [
        _("Archive of collaboration item %(number)s %(topic)s")
        % {"number": item.number or "", "topic": item.topic},
        _("Built %(time)s by Collab.") % {"time": f"{plan.local_archived_at:%Y-%m-%d %H:%M}"},
        _(
            "Every file of the archive is listed below with its size in bytes and its SHA-256 digest "
            "(the manifest files themselves excepted)."
        ),
        "",
    ]
    lines += [f"{row['sha256']}  {row['size']:>10}  {row['path']}" for row in rows]
    if plan.notes:
        lines += ["", _("Notes:"), *(f"- {note}" for note in plan.notes)]
    return "\n".join(lines) + "\n"
