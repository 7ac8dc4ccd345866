"""The communication register (《协作沟通记录表》): the template's 11 columns, declared once.

The register page, the Excel export and (later) the import all use REGISTER_COLUMNS, so the
columns cannot drift apart. Columns whose data comes from later stages show what exists so far:
the task columns (conclusions/assignments, owner, the deadline beyond the last milestone) are
filled by stage 3 through ``register_task_columns`` (called from its AppConfig.ready), since
stage 1 imports no later stage.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

from django.db.models import Prefetch, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from collab.lib.xlsx import XlsxBook, as_text
from collab.org.models import display_name
from requests_app.models import CollaborationItem, ItemStatus, MeetingForm


@dataclass(frozen=True)
class TaskColumns:
    """What a later stage (tasks_app) supplies for the register's task columns.

    ``prefetch`` loads an item queryset's tasks in one query; ``texts`` is made once per page or
    export (its translated labels looked up once) and writes the assignment and owner texts of
    an item's prefetched tasks."""

    prefetch: Callable[[], Prefetch | None]
    texts: Callable[[], Any]
    assignment: Callable[[Any, CollaborationItem], str]
    owners: Callable[[Any, CollaborationItem], str]
    latest_deadline: Callable[[CollaborationItem], date | None]


# Before stage 3 registers (never in a running site, where every app is installed): empty.
NO_TASKS = TaskColumns(
    prefetch=lambda: None,
    texts=lambda: None,
    assignment=lambda _texts, _item: "",
    owners=lambda _texts, _item: "",
    latest_deadline=lambda _item: None,
)


_TASK_COLUMNS: list[TaskColumns] = []


def register_task_columns(source: TaskColumns) -> None:
    """Stage 3 fills the register's task columns (called from its AppConfig.ready)."""
    _TASK_COLUMNS[:] = [source]


def task_columns() -> TaskColumns:
    return _TASK_COLUMNS[0] if _TASK_COLUMNS else NO_TASKS


class RegisterLabels:
    """Every translated label of a register row, looked up once per page or export."""

    def __init__(self) -> None:
        self.requester = _("%(department)s, %(person)s")
        self.items = pgettext("list separator", ", ")
        self.clauses = pgettext("clause separator", "; ")
        self.span = _("%(start)s to %(end)s")
        self.goal = _("Goal: %(text)s")
        self.scope = _("Scope: %(text)s")
        self.time = _("Time: %(text)s")
        self.statuses = {value: str(label) for value, label in ItemStatus.choices}
        self.forms = {value: str(label) for value, label in MeetingForm.choices}
        self.task_columns = task_columns()
        self.tasks = self.task_columns.texts()


def _requester(item: CollaborationItem, labels: RegisterLabels) -> str:
    return labels.requester % {
        "department": item.requesting_department,
        "person": display_name(item.requester),
    }


def _participants(item: CollaborationItem, labels: RegisterLabels) -> str:
    return labels.items.join(
        f"{p.department}({p.role})" if p.role else str(p.department) for p in item.participations.all()
    )


def _milestone_span(item: CollaborationItem, labels: RegisterLabels) -> str:
    dates = [m.due_date for m in item.milestones.all()]
    if not dates:
        return ""
    if len(dates) == 1:
        return f"{dates[0]:%Y-%m-%d}"
    return labels.span % {"start": f"{min(dates):%Y-%m-%d}", "end": f"{max(dates):%Y-%m-%d}"}


def _requirement(item: CollaborationItem, labels: RegisterLabels) -> str:
    parts = [labels.goal % {"text": item.goal}, labels.scope % {"text": item.scope}]
    if span := _milestone_span(item, labels):
        parts.append(labels.time % {"text": span})
    return labels.clauses.join(parts)


def _deadline(item: CollaborationItem, labels: RegisterLabels) -> date | None:
    # The item's own deadline, as in the template's example: its last milestone, or a task
    # deadline beyond it.
    dates = [d for d in (item.last_milestone_due, labels.task_columns.latest_deadline(item)) if d is not None]
    return max(dates, default=None)


def _methods(item: CollaborationItem, labels: RegisterLabels) -> str:
    """The forms of the item's meetings, in order, each once: "线上研讨会"."""
    forms: list[str] = []
    for meeting in item.meetings.all():
        label = labels.forms.get(meeting.form, meeting.form)
        if label not in forms:
            forms.append(label)
    return labels.items.join(forms)


@dataclass(frozen=True)
class RegisterColumn:
    key: str
    header: Promise  # translated when rendered, so the export follows the reader's language
    value: Callable[[CollaborationItem, RegisterLabels], Any]  # typed: the deadline is a date
    width: int  # the widest the Excel column may become, in characters


REGISTER_COLUMNS: list[RegisterColumn] = [
    RegisterColumn("number", gettext_lazy("Item number"), lambda i, _l: i.number or "", 12),
    RegisterColumn("topic", gettext_lazy("Topic"), lambda i, _l: i.topic, 30),
    RegisterColumn("requester", gettext_lazy("Initiating department/person"), _requester, 24),
    RegisterColumn("participants", gettext_lazy("Participating departments/persons"), _participants, 30),
    RegisterColumn("requirement", gettext_lazy("Requirement (goal, scope, time)"), _requirement, 60),
    RegisterColumn("method", gettext_lazy("Communication method"), _methods, 16),
    RegisterColumn(
        "conclusions",
        gettext_lazy("Key conclusions/task assignments"),
        lambda i, labels: labels.task_columns.assignment(labels.tasks, i),
        50,
    ),
    RegisterColumn(
        "owner", gettext_lazy("Owner"), lambda i, labels: labels.task_columns.owners(labels.tasks, i), 16
    ),
    RegisterColumn("deadline", gettext_lazy("Deadline"), _deadline, 14),
    RegisterColumn("status", gettext_lazy("Current status"), lambda i, labels: labels.statuses[i.status], 16),
    RegisterColumn("remarks", gettext_lazy("Remarks"), lambda i, _l: i.remarks, 40),
]


def register_values(item: CollaborationItem, labels: RegisterLabels) -> list[Any]:
    """One row as Excel stores it: text, and the deadline as a date."""
    return imported_cells(item, [column.value(item, labels) for column in REGISTER_COLUMNS])


ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def imported_cells(item: CollaborationItem, live: list[Any]) -> list[Any]:
    """An imported item's original cells, column by column, while the app still derives for that
    column what it derived at import; a column the item's later life changed shows the new value."""
    kept = item.imported_cells or {}
    cells, baseline = kept.get("cells"), kept.get("baseline")
    if not cells or not baseline or len(cells) != len(live) or len(baseline) != len(live):
        return live
    row: list[Any] = []
    for column, cell, now, then in zip(REGISTER_COLUMNS, cells, live, baseline, strict=True):
        if as_text(now) != then:
            row.append(now)
        elif column.key == "deadline" and ISO_DATE.match(cell):
            row.append(date.fromisoformat(cell))  # typed like the export's own deadlines
        else:
            row.append(cell)
    return row


def register_row(item: CollaborationItem, labels: RegisterLabels) -> list[str]:
    """One row as the page shows it."""
    return [as_text(v) for v in register_values(item, labels)]


def register_book(items: QuerySet[CollaborationItem]) -> XlsxBook:
    """The register as a workbook streamed in openpyxl's write-only mode: items are read in
    chunks (each chunk with its prefetches), never all at once."""
    labels = RegisterLabels()
    book = XlsxBook(title=_("Communication register"))
    book.table(
        sheet_title=_("Communication register"),
        headers=[str(column.header) for column in REGISTER_COLUMNS],
        rows=(register_values(item, labels) for item in items.iterator(chunk_size=CHUNK)),
        max_widths=[column.width for column in REGISTER_COLUMNS],
    )
    return book


CHUNK = 1000


def write_register_xlsx(items: QuerySet[CollaborationItem], target: str | Path | IO[bytes]) -> int:
    """Writes the register to ``target``; returns the row count."""
    return register_book(items).save(target)
