"""The item's forms as documents for the archive and the retrospective's pages.

PDF contexts (rendered by templates/reviews_app/pdf/*.html, which extend pdf/base.html) and the
Excel writers that did not exist before: the requirement form (《协作需求确认表》), the acceptance
form (《成果验收表》) and the process-improvement record (《协作流程优化记录》). The minutes, the task
sheet and the progress record reuse the writers of their own stages.

Every writer uses openpyxl's write-only mode and collab.lib.xlsx, so user text stays text.
Contexts read everything they show up front; nothing here needs a request.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from collab.lib.xlsx import XlsxBook
from collab.org.models import display_name
from requests_app.meeting_selectors import confirmation_states
from requests_app.models import CollaborationItem, ItemStatus, Minutes
from reviews_app.models import (
    Deliverable,
    DeliverableVersion,
    ImprovementMeasure,
    Retrospective,
    ReviewDecision,
)

FIELD_WIDTHS = [22, 80]


def _fields_sheet(book: XlsxBook, *, sheet_title: str, title: str, rows: list[list[Any]]) -> None:
    book.table(
        sheet_title=sheet_title,
        headers=[_("Field"), _("Value")],
        rows=rows,
        max_widths=FIELD_WIDTHS,
        title=title,
    )


@dataclass(frozen=True)
class PrintCell:
    """A cell of a printed table and how its line may break (``SheetColumn.print_as``): "text"
    anywhere, "title" anywhere in a column kept readable, "line" never (names, dates, numbers),
    "names" only between the names of a list.

    WeasyPrint breaks Chinese text between any two characters and ignores ``word-break:
    keep-all``, so a squeezed column printed 周/婷; the templates keep a "line" cell, and each
    name of a "names" cell, in a ``nowrap`` span, and the table gives the rest to the long text.
    """

    text: str
    print_as: str = "text"

    @property
    def css(self) -> str:
        return {"line": "nowrap", "title": "title"}.get(self.print_as, "")

    @property
    def separator(self) -> str:
        return pgettext("list separator", ", ")

    @property
    def names(self) -> list[str]:
        if self.print_as != "names" or not self.text:
            return []
        return self.text.split(self.separator)


def print_header(columns: Iterable[Any]) -> list[PrintCell]:
    return [PrintCell(str(c.header), c.print_as) for c in columns]


def print_row(columns: Sequence[Any], values: Sequence[str]) -> list[PrintCell]:
    return [PrintCell(value, column.print_as) for column, value in zip(columns, values, strict=True)]


def archived_status(item: CollaborationItem, *, archiving: bool) -> str:
    """The item's status as its archive states it: "Archived" when the archive closes the item
    (the documents are rendered a moment before the close), else the status it has."""
    return str(ItemStatus.CLOSED.label) if archiving else str(item.get_status_display())


def _form_title(chinese: str, translated: str) -> dict[str, Any]:
    return {"form_title": chinese, "form_title_translated": translated, "generated_at": timezone.localtime()}


# --- 《协作需求确认表》 ------------------------------------------------------------------------------------


def requirement_form_context(item: CollaborationItem, *, archiving: bool = False) -> dict[str, Any]:
    """What "reviews_app/pdf/requirement_form.html" renders (the printable page's content)."""
    return {
        "item": item,
        "status_label": archived_status(item, archiving=archiving),
        "participations": list(item.participations.select_related("department")),
        "milestones": list(item.milestones.all()),
        "attachments": list(item.attachments.select_related("uploaded_by")),
        "changes": list(item.requirement_changes.select_related("actor").order_by("created_at", "pk")),
        **_form_title("协作需求确认表", _("Collaboration requirement form")),
    }


def requirement_form_book(item: CollaborationItem, *, archiving: bool = False) -> XlsxBook:
    """《协作需求确认表》: a sheet of field/value rows, then the participations, the milestones,
    the background files and the recorded requirement changes, one sheet each."""
    context = requirement_form_context(item, archiving=archiving)
    book = XlsxBook()
    title = _("Collaboration requirement form: %(number)s %(topic)s") % {
        "number": item.number or "",
        "topic": item.topic,
    }
    _fields_sheet(
        book,
        sheet_title=_("Requirement form"),
        title=title,
        rows=[
            [_("Item number"), item.number or ""],
            [_("Topic"), item.topic],
            [_("Scenario"), str(item.get_scenario_display())],
            [_("Requesting department"), str(item.requesting_department)],
            [_("Requester"), display_name(item.requester)],
            [_("Coordinator"), display_name(item.coordinator)],
            [_("Status"), context["status_label"]],
            [_("Goal"), item.goal],
            [_("Scope"), item.scope],
            [_("Expected outcome"), item.expected_outcome],
            [_("Remarks"), item.remarks],
            [_("Submitted"), item.submitted_at],
        ],
    )
    book.table(
        sheet_title=_("Participating departments"),
        headers=[_("Department"), _("Role"), _("Core need")],
        rows=[[str(p.department), p.role, p.core_need] for p in context["participations"]],
        max_widths=[16, 16, 60],
    )
    book.table(
        sheet_title=_("Milestones"),
        headers=[_("Date"), _("Milestone")],
        rows=[[m.due_date, m.name] for m in context["milestones"]],
        max_widths=[12, 60],
    )
    book.table(
        sheet_title=_("Background files"),
        headers=[_("File name"), _("Size (bytes)"), _("Uploaded by"), _("Uploaded")],
        rows=[
            [a.original_name, a.size, display_name(a.uploaded_by), a.uploaded_at]
            for a in context["attachments"]
        ],
        max_widths=[50, 14, 12, 16],
    )
    book.table(
        sheet_title=_("Requirement changes"),
        headers=[_("Time"), _("By"), _("Reason for the change"), _("What changed")],
        rows=[
            [
                change.created_at,
                display_name(change.actor),
                change.reason_display,
                "\n".join(
                    f"{name}: {old or '—'} → {new or '—'}" for name, (old, new) in change.changes.items()
                ),
            ]
            for change in context["changes"]
        ],
        max_widths=[16, 12, 40, 80],
    )
    book.title = _("Collaboration requirement form")
    return book


def write_requirement_form_xlsx(
    item: CollaborationItem, target: IO[bytes], *, archiving: bool = False
) -> None:
    requirement_form_book(item, archiving=archiving).save(target)


# --- 《会议纪要》, 《任务分解与分配表》, 《进度跟踪记录表》: the stages' own writers and pages


def minutes_queryset() -> QuerySet[Minutes]:
    return Minutes.objects.select_related("meeting__item").prefetch_related("attendees__person")


def minutes_context(minutes: Minutes) -> dict[str, Any]:
    """What "reviews_app/pdf/minutes.html" renders: the printed minutes' context."""
    meeting = minutes.meeting
    return {
        "item": meeting.item,
        "meeting": meeting,
        "minutes": minutes,
        "todos": list(minutes.todos.select_related("owner__person")),
        "responsibilities": list(minutes.responsibilities.select_related("department")),
        "states": confirmation_states(minutes),
        "local_time": meeting.local_starts_at,
        **_form_title("会议纪要", _("Minutes")),
    }


def write_minutes_xlsx_for_archive(minutes: Minutes, target: IO[bytes]) -> None:
    from requests_app.documents import write_minutes_xlsx

    write_minutes_xlsx(minutes, target, confirmation_states(minutes))


def task_sheet_context(item: CollaborationItem, *, archiving: bool = False) -> dict[str, Any]:
    from tasks_app.selectors import sheet_tasks
    from tasks_app.sheet import TASK_SHEET_COLUMNS, sheet_row

    return {
        "item": item,
        "status_label": archived_status(item, archiving=archiving),
        "headers": print_header(TASK_SHEET_COLUMNS),
        "rows": [
            (index, print_row(TASK_SHEET_COLUMNS, sheet_row(task)))
            for index, task in enumerate(sheet_tasks(item), start=1)
        ],
        **_form_title("任务分解与分配表", _("Task breakdown and assignment sheet")),
    }


def progress_record_context(item: CollaborationItem) -> dict[str, Any]:
    from tasks_app.tracking import PROGRESS_RECORD_COLUMNS, open_problems, record_row, tracked_tasks

    return {
        "item": item,
        "headers": print_header(PROGRESS_RECORD_COLUMNS),
        "rows": [print_row(PROGRESS_RECORD_COLUMNS, record_row(s)) for s in tracked_tasks(item)],
        "problems": list(open_problems(item)),
        **_form_title("进度跟踪记录表", _("Progress tracking record")),
    }


# --- 《协作流程优化记录》 -----------------------------------------------------------------------------------


def retrospective_queryset() -> QuerySet[Retrospective]:
    """Retrospectives with everything their record shows, in a fixed number of queries."""
    return Retrospective.objects.select_related(
        "item__requesting_department", "item__coordinator", "item__requester", "recorded_by"
    ).prefetch_related(
        "participants__person__department",
        Prefetch(
            "measures",
            queryset=ImprovementMeasure.objects.select_related("owner__person", "department").order_by("pk"),
        ),
    )


def retrospective_context(retrospective: Retrospective) -> dict[str, Any]:
    """What the printable page and "reviews_app/pdf/retrospective.html" render."""
    today = timezone.localdate()
    measures = list(retrospective.measures.all())
    return {
        "item": retrospective.item,
        "retrospective": retrospective,
        "participants": [display_name(p) for p in retrospective.participants.all()],
        "measures": [
            {
                "measure": m,
                "owner": display_name(m.owner),
                "overdue": m.status == "open" and m.due_date < today,
            }
            for m in measures
        ],
        "recorded_by": display_name(retrospective.recorded_by),
        **_form_title("协作流程优化记录", _("Process improvement record")),
    }


def retrospective_book(retrospective: Retrospective) -> XlsxBook:
    """《协作流程优化记录》: the retrospective's facts, then its improvement measures."""
    item = retrospective.item
    context = retrospective_context(retrospective)
    book = XlsxBook()
    _fields_sheet(
        book,
        sheet_title=_("Retrospective"),
        title=_("Process improvement record: %(number)s %(topic)s")
        % {"number": item.number or "", "topic": item.topic},
        rows=[
            [_("Item number"), item.number or ""],
            [_("Project"), item.topic],
            [_("Retrospective date"), retrospective.held_on],
            [_("Participants"), pgettext("list separator", ", ").join(context["participants"])],
            [_("Highlights"), retrospective.highlights],
            [_("Shortcomings"), retrospective.shortcomings],
            [_("Recorded by"), context["recorded_by"]],
            [_("Recorded"), retrospective.recorded_at],
        ],
    )
    book.table(
        sheet_title=_("Improvement measures"),
        headers=[
            _("No."),
            _("Improvement measure"),
            _("Owner"),
            _("Department"),
            _("Due date"),
            _("Status"),
            _("Done"),
            _("How it was done"),
        ],
        rows=[
            [
                index,
                row["measure"].text,
                row["owner"],
                str(row["measure"].department),
                row["measure"].due_date,
                str(row["measure"].get_status_display()),
                row["measure"].done_at,
                row["measure"].done_note,
            ]
            for index, row in enumerate(context["measures"], start=1)
        ],
        max_widths=[6, 50, 12, 14, 12, 10, 16, 50],
    )
    book.title = _("Process improvement record")
    return book


def write_retrospective_xlsx(retrospective: Retrospective, target: IO[bytes]) -> None:
    retrospective_book(retrospective).save(target)


# --- 《成果验收表》 --------------------------------------------------------------------------------------


def acceptance_deliverables(item: CollaborationItem) -> QuerySet[Deliverable]:
    """The item's deliverables in the order of their tasks, with what their forms read."""
    return (
        Deliverable.objects.filter(task__item=item)
        .select_related("task__item", "deliverer__person__department", "receiver__person__department")
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=DeliverableVersion.objects.select_related("submitted_by", "reviewed_by")
                .prefetch_related("files")
                .order_by("number"),
            ),
            "signatures__signer",
        )
        .order_by("task__deadline", "task__pk", "created_at", "pk")
    )


def acceptance_form_book(deliverable: Deliverable) -> XlsxBook:
    """《成果验收表》 of one deliverable: the form (deliverable, deliverer, receiver, criteria,
    result), every version with its review and files, and both signatures with their digests.

    Read from the models (Deliverable, DeliverableVersion, DeliverableFile, Signature); pass a
    deliverable from ``acceptance_deliverables`` to read it without a query per row.
    """
    task = deliverable.task
    item = task.item
    versions = list(deliverable.versions.all())
    accepted = [v for v in versions if v.decision == ReviewDecision.ACCEPTED]
    shown = accepted[-1] if accepted else (versions[-1] if versions else None)
    book = XlsxBook()
    _fields_sheet(
        book,
        sheet_title=_("Acceptance form"),
        title=_("Deliverable acceptance form: %(number)s %(deliverable)s")
        % {"number": item.number or "", "deliverable": deliverable.name},
        rows=[
            [_("Item number"), item.number or ""],
            [_("Topic"), item.topic],
            [_("Task"), task.name],
            [_("Deliverable"), deliverable.name],
            [_("Deliverer"), display_name(deliverable.deliverer)],
            [_("Receiver"), display_name(deliverable.receiver)],
            [_("Acceptance criteria"), deliverable.acceptance_criteria],
            [_("Accepted version"), accepted[-1].number if accepted else ""],
            [_("Versions submitted"), len(versions)],
            [_("Files"), "\n".join(f.original_name for f in shown.files.all()) if shown else ""],
            [_("Note"), shown.note if shown else ""],
            [_("Result"), str(deliverable.get_status_display())],
            [_("Reviewed by"), display_name(accepted[-1].reviewed_by) if accepted else ""],
            [_("Reviewed"), accepted[-1].reviewed_at if accepted else ""],
            [_("Locked"), deliverable.locked_at],
        ],
    )
    book.table(
        sheet_title=_("Review history"),
        headers=[
            _("Version"),
            _("Submitted"),
            _("Submitted by"),
            _("Note"),
            _("Decision"),
            _("Feedback"),
            _("Reviewed by"),
            _("Reviewed"),
            _("Files"),
        ],
        rows=[
            [
                v.number,
                v.submitted_at,
                display_name(v.submitted_by),
                v.note,
                str(v.get_decision_display()) if v.decision else _("Waiting for review"),
                v.comments,
                display_name(v.reviewed_by) if v.reviewed_by else "",
                v.reviewed_at,
                "\n".join(f"{f.original_name} (SHA-256 {f.sha256})" for f in v.files.all()),
            ]
            for v in versions
        ],
        max_widths=[8, 16, 12, 40, 12, 40, 12, 16, 60],
    )
    book.table(
        sheet_title=_("Signatures"),
        headers=[
            _("Signed as"),
            _("Signer"),
            _("Time"),
            _("IP address"),
            _("Content digest"),
            _("Files digest"),
            _("Handwritten signature"),
        ],
        rows=[
            [
                str(s.get_role_display()),
                display_name(s.signer),
                s.signed_at,
                s.ip_address or "",
                s.content_digest,
                s.files_digest,
                _("drawn") if s.drawing else _("password only"),
            ]
            for s in deliverable.signatures.all()
        ],
        max_widths=[10, 12, 16, 16, 66, 66, 14],
    )
    book.title = _("Deliverable acceptance form")
    return book


def write_acceptance_form_xlsx(deliverable: Deliverable, target: IO[bytes]) -> None:
    acceptance_form_book(deliverable).save(target)
