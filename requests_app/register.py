"""The communication register (《协作沟通记录表》): the template's 11 columns, declared once.

The register page, the Excel export and (later) the import all use REGISTER_COLUMNS, so the
columns cannot drift apart. Columns whose data comes from later stages show what exists so far:
the task columns (conclusions/assignments, owner, the deadline beyond the last milestone) are
filled by stage 3 through ``register_task_columns`` (called from its AppConfig.ready), since
stage 1 imports no later stage.
"""

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

from django.db import connection
from django.db.models import BooleanField, Model, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from collab.lib.read_ahead import read_ahead
from collab.lib.xlsx import XlsxBook, as_text
from collab.org.models import display_name, name_of
from requests_app.models import CollaborationItem, ItemStatus, Meeting, MeetingForm, Milestone, Participation


@dataclass(frozen=True)
class TaskColumns:
    """What a later stage (tasks_app) supplies for the register's task columns.

    An item's tasks reach the columns as plain "lines" (whatever ``lines_of``/``lines_for`` make,
    each with a ``deadline``): ``prefetch`` loads a page's tasks in one query and ``lines_of``
    reads them from an item; ``lines_for`` reads the lines of a chunk of item ids in one query
    (the export builds no model instances). ``texts`` is made once per page or export (its
    translated labels looked up once) and writes the assignment and owner texts of the lines."""

    prefetch: Callable[[], Prefetch | None]
    lines_of: Callable[[CollaborationItem], list[Any]]
    lines_for: Callable[[Sequence[int]], dict[int, list[Any]]]
    texts: Callable[[], Any]
    assignment: Callable[[Any, list[Any]], str]
    owners: Callable[[Any, list[Any]], str]


# Before stage 3 registers (never in a running site, where every app is installed): empty.
NO_TASKS = TaskColumns(
    prefetch=lambda: None,
    lines_of=lambda _item: [],
    lines_for=lambda _ids: {},
    texts=lambda: None,
    assignment=lambda _texts, _lines: "",
    owners=lambda _texts, _lines: "",
)


_TASK_COLUMNS: list[TaskColumns] = []


def register_task_columns(source: TaskColumns) -> None:
    """Stage 3 fills the register's task columns (called from its AppConfig.ready)."""
    _TASK_COLUMNS[:] = [source]


def task_columns() -> TaskColumns:
    return _TASK_COLUMNS[0] if _TASK_COLUMNS else NO_TASKS


@dataclass(slots=True)
class RegisterRecord:
    """What one register row is made of, as plain values: the page reads it from its 25 loaded
    items (``record_of``), the export from a chunk of rows without model instances
    (``register_records``)."""

    pk: int
    number: str
    topic: str
    goal: str
    scope: str
    remarks: str
    status: str
    last_milestone_due: date | None
    imported_cells: dict[str, Any] | None
    requesting_department: str
    requester: str
    participants: list[tuple[str, str]]  # (department, role) in participation order
    milestone_dates: list[date]
    meeting_forms: list[str]  # in meeting order
    tasks: list[Any]  # the task columns' lines, in deadline order


def record_of(item: CollaborationItem) -> RegisterRecord:
    """The record of a loaded item (its relations prefetched by ``with_register_data``)."""
    return RegisterRecord(
        pk=item.pk,
        number=item.number or "",
        topic=item.topic,
        goal=item.goal,
        scope=item.scope,
        remarks=item.remarks,
        status=item.status,
        last_milestone_due=item.last_milestone_due,
        imported_cells=item.imported_cells,
        requesting_department=str(item.requesting_department),
        requester=display_name(item.requester),
        participants=[(str(p.department), p.role) for p in item.participations.all()],
        milestone_dates=[m.due_date for m in item.milestones.all()],
        meeting_forms=[m.form for m in item.meetings.all()],
        tasks=task_columns().lines_of(item),
    )


_ITEM_VALUES = (
    "pk",
    "number",
    "topic",
    "goal",
    "scope",
    "remarks",
    "status",
    "last_milestone_due",
    "imported_cells",
    "requesting_department__name",
    "requester__first_name",
    "requester__last_name",
    "requester__username",
)


def rows_of(model: type[Model], column: str, ids: Sequence[int]) -> Q:
    """``<column> IN ids``; on PostgreSQL one array parameter (``= ANY(%s)``), because Django
    prepares an IN list value by value, a fifth of the export's CPU at 2,000 ids per chunk."""
    if connection.vendor != "postgresql":
        return Q(**{f"{column}__in": ids})
    sql = f'"{model._meta.db_table}"."{column}" = ANY(%s)'
    # Only our own table and column names are interpolated; the ids are one bound parameter.
    return Q(RawSQL(sql, [list(ids)], output_field=BooleanField()))  # noqa: S611


def register_records(items: QuerySet[CollaborationItem], chunk: int) -> Iterator[RegisterRecord]:
    """The records of ``items`` in their order, read ``chunk`` items at a time.

    1. One query for the ordered ids (a few bytes per item; no server-side cursor, whose plan
       PostgreSQL tunes for the first 10 % of rows, and no transaction held open while the
       file streams).
    2. Per chunk, five queries whatever its size: the items' own columns and the names they
       point to, their participations, milestones, meetings and (stage 3) task lines, all as
       plain values. The next chunk is read while this one is written (``read_ahead``).
    """
    ids = list(items.prefetch_related(None).values_list("pk", flat=True))
    parts = (ids[start : start + chunk] for start in range(0, len(ids), chunk))
    return read_ahead(parts, lambda part: list(records_of(part)))


def records_of(part: Sequence[int]) -> Iterator[RegisterRecord]:
    """The records of the items ``part`` names, in its order, in five queries (the register page
    reads its 25 rows so too: no model instances)."""
    columns = task_columns()
    items_part = CollaborationItem.objects.filter(rows_of(CollaborationItem, "id", part))
    rows = {row[0]: row for row in items_part.values_list(*_ITEM_VALUES)}
    participants: dict[int, list[tuple[str, str]]] = {}
    for item_id, department, role in (
        Participation.objects.filter(rows_of(Participation, "item_id", part))
        .order_by("pk")
        .values_list("item_id", "department__name", "role")
    ):
        participants.setdefault(item_id, []).append((department, role))
    milestones: dict[int, list[date]] = {}
    for item_id, due in (
        Milestone.objects.filter(rows_of(Milestone, "item_id", part))
        .order_by("due_date", "pk")
        .values_list("item_id", "due_date")
    ):
        milestones.setdefault(item_id, []).append(due)
    meetings: dict[int, list[str]] = {}
    for item_id, form in (
        Meeting.objects.filter(rows_of(Meeting, "item_id", part))
        .order_by("starts_at", "pk")
        .values_list("item_id", "form")
    ):
        meetings.setdefault(item_id, []).append(form)
    tasks = columns.lines_for(part)
    for pk in part:
        if (row := rows.get(pk)) is None:
            continue  # deleted since the ids were read
        _pk, number, topic, goal, scope, remarks, status, last_due, cells, department, first, last, login = (
            row
        )
        yield RegisterRecord(
            pk=pk,
            number=number or "",
            topic=topic,
            goal=goal,
            scope=scope,
            remarks=remarks,
            status=status,
            last_milestone_due=last_due,
            imported_cells=cells,
            requesting_department=department,
            requester=name_of(first, last, login),
            participants=participants.get(pk, []),
            milestone_dates=milestones.get(pk, []),
            meeting_forms=meetings.get(pk, []),
            tasks=tasks.get(pk, []),
        )


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


def _requester(record: RegisterRecord, labels: RegisterLabels) -> str:
    return labels.requester % {"department": record.requesting_department, "person": record.requester}


def _participants(record: RegisterRecord, labels: RegisterLabels) -> str:
    return labels.items.join(
        f"{department}({role})" if role else department for department, role in record.participants
    )


def _milestone_span(record: RegisterRecord, labels: RegisterLabels) -> str:
    dates = record.milestone_dates
    if not dates:
        return ""
    # isoformat() is 2026-10-15, as %Y-%m-%d, without strftime's cost (an export writes 100,000).
    if len(dates) == 1:
        return dates[0].isoformat()
    return labels.span % {"start": min(dates).isoformat(), "end": max(dates).isoformat()}


def _requirement(record: RegisterRecord, labels: RegisterLabels) -> str:
    parts = [labels.goal % {"text": record.goal}, labels.scope % {"text": record.scope}]
    if span := _milestone_span(record, labels):
        parts.append(labels.time % {"text": span})
    return labels.clauses.join(parts)


def _deadline(record: RegisterRecord, labels: RegisterLabels) -> date | None:
    # The item's own deadline, as in the template's example: its last milestone, or a task
    # deadline beyond it.
    task_deadline = max((line.deadline for line in record.tasks), default=None)
    dates = [d for d in (record.last_milestone_due, task_deadline) if d is not None]
    return max(dates, default=None)


def _methods(record: RegisterRecord, labels: RegisterLabels) -> str:
    """The forms of the item's meetings, in order, each once: "线上研讨会"."""
    forms: list[str] = []
    for form in record.meeting_forms:
        label = labels.forms.get(form, form)
        if label not in forms:
            forms.append(label)
    return labels.items.join(forms)


@dataclass(frozen=True)
class RegisterColumn:
    key: str
    header: Promise  # translated when rendered, so the export follows the reader's language
    value: Callable[[RegisterRecord, RegisterLabels], Any]  # typed: the deadline is a date
    width: int  # the widest the Excel column may become, in characters


REGISTER_COLUMNS: list[RegisterColumn] = [
    RegisterColumn("number", gettext_lazy("Item number"), lambda r, _l: r.number, 12),
    RegisterColumn("topic", gettext_lazy("Topic"), lambda r, _l: r.topic, 30),
    RegisterColumn("requester", gettext_lazy("Initiating department/person"), _requester, 24),
    RegisterColumn("participants", gettext_lazy("Participating departments/persons"), _participants, 30),
    RegisterColumn("requirement", gettext_lazy("Requirement (goal, scope, time)"), _requirement, 60),
    RegisterColumn("method", gettext_lazy("Communication method"), _methods, 16),
    RegisterColumn(
        "conclusions",
        gettext_lazy("Key conclusions/task assignments"),
        lambda r, labels: labels.task_columns.assignment(labels.tasks, r.tasks),
        50,
    ),
    RegisterColumn(
        "owner",
        gettext_lazy("Owner"),
        lambda r, labels: labels.task_columns.owners(labels.tasks, r.tasks),
        16,
    ),
    RegisterColumn("deadline", gettext_lazy("Deadline"), _deadline, 14),
    RegisterColumn("status", gettext_lazy("Current status"), lambda r, labels: labels.statuses[r.status], 16),
    RegisterColumn("remarks", gettext_lazy("Remarks"), lambda r, _l: r.remarks, 40),
]


def register_values(record: RegisterRecord, labels: RegisterLabels) -> list[Any]:
    """One row as Excel stores it: text, and the deadline as a date."""
    return imported_cells(record, [column.value(record, labels) for column in REGISTER_COLUMNS])


ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def imported_cells(record: RegisterRecord, live: list[Any]) -> list[Any]:
    """An imported item's original cells, column by column, while the app still derives for that
    column what it derived at import; a column the item's later life changed shows the new value."""
    kept = record.imported_cells or {}
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
    """One row as the page shows it (``item`` loaded with ``with_register_data``)."""
    return [as_text(v) for v in register_values(record_of(item), labels)]


# Items read per chunk by the export: five queries per chunk, a few MB of values at most.
CHUNK = 2000


def register_book(items: QuerySet[CollaborationItem]) -> XlsxBook:
    """The register as a workbook streamed in openpyxl's write-only mode: rows are read as plain
    values, a chunk at a time (``register_records``), never all at once."""
    labels = RegisterLabels()
    book = XlsxBook(title=_("Communication register"))
    book.table(
        sheet_title=_("Communication register"),
        headers=[str(column.header) for column in REGISTER_COLUMNS],
        rows=(register_values(record, labels) for record in register_records(items, CHUNK)),
        max_widths=[column.width for column in REGISTER_COLUMNS],
    )
    return book


def write_register_xlsx(items: QuerySet[CollaborationItem], target: str | Path | IO[bytes]) -> int:
    """Writes the register to ``target``; returns the row count."""
    return register_book(items).save(target)
