"""The communication register (《协作沟通记录表》): the template's 11 columns, declared once.

The register page, the Excel export and (later) the import all use REGISTER_COLUMNS, so the
columns cannot drift apart. Columns whose data comes from later stages show what exists so far:
the task columns (conclusions/assignments, owner, the deadline beyond the last milestone) are
filled by stage 3 through ``register_task_columns`` (called from its AppConfig.ready), since
stage 1 imports no later stage.
"""

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import chain
from pathlib import Path
from typing import IO, Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import BooleanField, JSONField, Model, Q, QuerySet, TextField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import NullIf
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from collab.lib.fill import by_position
from collab.lib.read_ahead import read_ahead
from collab.lib.xlsx import XlsxBook, as_text
from collab.org.models import Department, name_of
from requests_app.models import CollaborationItem, ItemStatus, Meeting, MeetingForm, Milestone, Participation


@dataclass(frozen=True)
class TaskColumns:
    """What a later stage (tasks_app) supplies for the register's task columns.

    An item's tasks reach the columns as plain "lines" (whatever ``lines_for`` makes, each with a
    ``deadline``): ``lines_for`` reads the lines of a chunk of item ids in one query (no model
    instances), with the departments' and owners' names joined, or taken from a long export's
    ``Names``. ``texts`` is made once per page or export (its translated labels looked up once)
    and writes the assignment and owner texts of the lines."""

    lines_for: Callable[[Sequence[int], "Names | None"], dict[int, list[Any]]]
    texts: Callable[[], Any]
    assignment: Callable[[Any, list[Any]], str]
    owners: Callable[[Any, list[Any]], str]


# Before stage 3 registers (never in a running site, where every app is installed): empty.
NO_TASKS = TaskColumns(
    lines_for=lambda _ids, _names: {},
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
    """What one register row is made of, as plain values, read without model instances: the
    page's 25 rows and the export's chunks alike (``records_of``)."""

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


def rows_of(model: type[Model], column: str, ids: Sequence[int]) -> Q:
    """``<column> IN ids``; on PostgreSQL one array parameter (``= ANY(%s)``), because Django
    prepares an IN list value by value, a fifth of the export's CPU at 2,000 ids per chunk."""
    if connection.vendor != "postgresql":
        return Q(**{f"{column}__in": ids})
    sql = f'"{model._meta.db_table}"."{column}" = ANY(%s)'
    # Only our own table and column names are interpolated; the ids are one bound parameter.
    return Q(RawSQL(sql, [list(ids)], output_field=BooleanField()))  # noqa: S611


class Names:
    """The names of departments and people for a long export, each read once and kept for all
    its chunks, instead of joined to each of its items, participations and tasks (a third of the
    strings an export read). The register page's 25 rows join them: two more queries would cost
    it more than the joins save."""

    def __init__(self) -> None:
        self.departments: dict[int, str] = {}
        self.people: dict[int, str] = {}

    def read(self, departments: Iterable[int], people: Iterable[int]) -> None:
        """Reads the names of ``departments`` and ``people`` not read yet: a query for each kind
        with a name missing, none once every name in use is known."""
        known = self.departments
        if missing := [pk for pk in set(departments) if pk not in known]:
            known.update(
                Department.objects.filter(rows_of(Department, "id", missing)).values_list("pk", "name")
            )
        known = self.people
        if missing := [pk for pk in set(people) if pk not in known]:
            users = get_user_model().objects.filter(rows_of(get_user_model(), "id", missing))
            for pk, first, last, login in users.values_list("pk", "first_name", "last_name", "username"):
                known[pk] = name_of(first, last, login)


_ITEM_VALUES = (
    "pk",
    "number",
    "topic",
    "goal",
    "scope",
    "remarks",
    "status",
    "last_milestone_due",
)
# The page's rows join the names; an export reads them once (``Names``).
_ITEM_NAMES = (
    "requesting_department__name",
    "requester__first_name",
    "requester__last_name",
    "requester__username",
)
_ITEM_IDS = ("requesting_department_id", "requester_id")


def _imported_cells() -> NullIf:
    """The item's imported cells as JSON text, NULL for the items not imported (all but a few):
    decoding 100,000 empty objects was a tenth of reading an export's items."""
    return NullIf(
        "imported_cells",
        Value({}, output_field=JSONField()),
        output_field=TextField(),
    )


def register_records(items: QuerySet[CollaborationItem], chunk: int) -> Iterator[RegisterRecord]:
    """The records of ``items`` in their order, read ``chunk`` items at a time.

    1. One query for the ordered ids (a few bytes per item; no server-side cursor, whose plan
       PostgreSQL tunes for the first 10 % of rows, and no transaction held open while the
       file streams).
    2. Per chunk, five queries whatever its size: the items' own columns, their participations,
       milestones, meetings and (stage 3) task lines, all as plain values; the names of the
       departments and people they point to are read once for the whole export (``Names``: a
       query for those not read yet). The next chunk is read while this one is written
       (``read_ahead``).
    """
    ids = list(items.prefetch_related(None).values_list("pk", flat=True))
    parts = (ids[start : start + chunk] for start in range(0, len(ids), chunk))
    names = Names()
    return read_ahead(parts, lambda part: list(records_of(part, names)))


def records_of(part: Sequence[int], names: Names | None = None) -> Iterator[RegisterRecord]:
    """The records of the items ``part`` names, in its order, in five queries: the register
    page's rows with the names joined, an export's chunks with the names of ``names`` (a query
    or two more, until every name in use has been read)."""
    columns = task_columns()
    items_part = CollaborationItem.objects.filter(rows_of(CollaborationItem, "id", part))
    rows = {
        row[0]: row
        for row in items_part.values_list(
            *_ITEM_VALUES, _imported_cells(), *(_ITEM_IDS if names else _ITEM_NAMES)
        )
    }
    participations = Participation.objects.filter(rows_of(Participation, "item_id", part)).order_by("pk")
    participants: dict[int, list[tuple[str, str]]] = {}
    if names is None:
        for item_id, department, role in participations.values_list("item_id", "department__name", "role"):
            participants.setdefault(item_id, []).append((department, role))
    else:
        taking_part = list(participations.values_list("item_id", "department_id", "role"))
        names.read(
            chain((row[9] for row in rows.values()), (row[1] for row in taking_part)),
            (row[10] for row in rows.values()),
        )
        departments = names.departments
        for item_id, department_id, role in taking_part:
            participants.setdefault(item_id, []).append((departments[department_id], role))
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
    tasks = columns.lines_for(part, names)
    for pk in part:
        if (row := rows.get(pk)) is None:
            continue  # deleted since the ids were read
        if names is None:
            department, requester = row[9], name_of(row[10], row[11], row[12])
        else:
            department, requester = names.departments[row[9]], names.people[row[10]]
        yield RegisterRecord(
            pk,
            row[1] or "",
            row[2],
            row[3],
            row[4],
            row[5],
            row[6],
            row[7],
            json.loads(row[8]) if row[8] is not None else {},
            department,
            requester,
            participants.get(pk, []),
            milestones.get(pk, []),
            meetings.get(pk, []),
            tasks.get(pk, []),
        )


class RegisterLabels:
    """Every translated label of a register row, looked up once per page or export."""

    def __init__(self) -> None:
        # Filled by position (``by_position``): an export fills each about 100,000 times.
        self.requester = by_position(_("%(department)s, %(person)s"), "department", "person")
        self.items = pgettext("list separator", ", ")
        self.clauses = pgettext("clause separator", "; ")
        self.span = by_position(_("%(start)s to %(end)s"), "start", "end")
        self.goal = by_position(_("Goal: %(text)s"), "text")
        self.scope = by_position(_("Scope: %(text)s"), "text")
        self.time = by_position(_("Time: %(text)s"), "text")
        self.statuses = {value: str(label) for value, label in ItemStatus.choices}
        self.forms = {value: str(label) for value, label in MeetingForm.choices}
        self.task_columns = task_columns()
        self.tasks = self.task_columns.texts()


def _requester(record: RegisterRecord, labels: RegisterLabels) -> str:
    return labels.requester((record.requesting_department, record.requester))


def _participants(record: RegisterRecord, labels: RegisterLabels) -> str:
    return labels.items.join(
        [f"{department}({role})" if role else department for department, role in record.participants]
    )


def _milestone_span(record: RegisterRecord, labels: RegisterLabels) -> str:
    dates = record.milestone_dates  # in date order
    if not dates:
        return ""
    # isoformat() is 2026-10-15, as %Y-%m-%d, without strftime's cost (an export writes 100,000).
    if len(dates) == 1:
        return dates[0].isoformat()
    return labels.span((dates[0].isoformat(), dates[-1].isoformat()))


def _requirement(record: RegisterRecord, labels: RegisterLabels) -> str:
    goal, scope = labels.goal((record.goal,)), labels.scope((record.scope,))
    if span := _milestone_span(record, labels):
        return labels.clauses.join((goal, scope, labels.time((span,))))
    return labels.clauses.join((goal, scope))


def _deadline(record: RegisterRecord, labels: RegisterLabels) -> date | None:
    # The item's own deadline, as in the template's example: its last milestone, or a task
    # deadline beyond it.
    deadline = record.last_milestone_due
    for line in record.tasks:
        if deadline is None or line.deadline > deadline:
            deadline = line.deadline
    return deadline


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


_VALUES = [column.value for column in REGISTER_COLUMNS]


def register_values(record: RegisterRecord, labels: RegisterLabels) -> list[Any]:
    """One row as Excel stores it: text, and the deadline as a date."""
    live = [value(record, labels) for value in _VALUES]
    return imported_cells(record, live) if record.imported_cells else live


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


def register_texts(ids: Sequence[int]) -> dict[int, list[str]]:
    """The rows of the items ``ids`` as the page shows them (texts), by item id, read as the page
    and the export read theirs (five queries per ``CHUNK`` items)."""
    labels = RegisterLabels()
    return {
        record.pk: [as_text(value) for value in register_values(record, labels)]
        for start in range(0, len(ids), CHUNK)
        for record in records_of(ids[start : start + CHUNK])
    }


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
