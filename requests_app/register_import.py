"""Importing an existing communication register (《协作沟通记录表》) from Excel.

The columns are the export's own (``REGISTER_COLUMNS``), found by their headers in Chinese or
English wherever the header row is, with the usual variations tolerated: a title above the
header, merged cells (a merged block's value counts for every row it covers), dates written as
dates or as text (2023-10-15, 2023/10/15, 2023年10月15日, 10月15日 with the year taken from the
item number), and department and person written together ("产品部/张伟", "产品部*经理").

1. ``read_register`` reads the workbook into rows and names every problem per row (missing or
   malformed number, a number twice, unknown department, unreadable deadline) without writing.
   Each item's coordinator: the row's coordinator column where the sheet has one (the template's
   11 columns have none; companies often add "协调人"), else the requesting department's head,
   else the importing admin, with a warning on that row of the dry run.
2. ``register_import`` applies a problem-free reading in one transaction: each new item keeps
   its number and its row's original cells, is marked imported, and the month's number sequence
   continues after it. A number imported before is skipped, so importing twice adds nothing.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import IO, Any
from zipfile import BadZipFile
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from collab.audit.services import audit_record
from collab.audit.texts import Text
from collab.org.models import Department, Person, display_name
from requests_app.models import (
    CollaborationItem,
    ItemNumberSequence,
    ItemStatus,
    Milestone,
    Participation,
    Scenario,
)
from requests_app.register import REGISTER_COLUMNS, register_texts
from requests_app.services import NUMBER_FORMAT, item_sync_permissions

LANGUAGES = ("zh-hans", "en")
# Words of a finished item's status cell: it comes in archived (read-only); anything else comes
# in submitted, for its coordinator to carry on.
FINISHED = re.compile(
    r"已完成|完成$|已归档|归档|已关闭|关闭|结束|done|closed|archived|finished|completed", re.I
)
SEPARATORS = re.compile(r"[/／*＊,，、;；\s]+")
DATE_PATTERNS = [
    re.compile(r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"),
    re.compile(r"(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日?"),
]


@dataclass
class RegisterRow:
    row: int
    number: str
    cells: list[str]
    problems: list[str] = field(default_factory=list)
    already_imported: bool = False
    department: Department | None = None
    requester: Any = None
    coordinator: Any = None  # None: the importing admin
    warnings: list[str] = field(default_factory=list)  # shown by the dry run; they block nothing
    participations: list[tuple[Department, str]] = field(default_factory=list)
    goal: str = ""
    scope: str = ""
    milestones: list[tuple[str, date]] = field(default_factory=list)
    finished: bool = False

    def value(self, key: str) -> str:
        return self.cells[KEYS.index(key)]

    @property
    def coordinator_name(self) -> str:
        return display_name(self.coordinator) if self.coordinator is not None else ""


KEYS = [column.key for column in REGISTER_COLUMNS]
# Columns a company's register may have beyond the template's 11; read, not kept in the cells.
EXTRA_KEYS = ["coordinator"]


@dataclass
class RegisterReading:
    rows: list[RegisterRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # about the whole file

    @property
    def all_problems(self) -> list[str]:
        return self.problems + [
            _("Row %(row)s: %(problem)s") % {"row": row.row, "problem": problem}
            for row in self.rows
            for problem in row.problems
        ]

    @property
    def all_warnings(self) -> list[str]:
        return [
            _("Row %(row)s: %(problem)s") % {"row": row.row, "problem": warning}
            for row in self.rows
            if not row.already_imported
            for warning in row.warnings
        ]

    @property
    def new_rows(self) -> list[RegisterRow]:
        return [row for row in self.rows if not row.already_imported]


def _normal(text: str) -> str:
    return re.sub(r"[\s*＊:：()（）/／、,，]", "", text).lower()


def _headers() -> dict[str, str]:
    keys: dict[str, str] = {}
    for language in LANGUAGES:
        with translation.override(language):
            keys.update({_normal(str(column.header)): column.key for column in REGISTER_COLUMNS})
            keys[_normal(_("Coordinator"))] = "coordinator"
    # The template's own wording where it differs from ours.
    keys.update({_normal("编号"): "number", _normal("事项编号"): "number", _normal("主题"): "topic"})
    keys.update({_normal("协调人员"): "coordinator", _normal("协调部门/人"): "coordinator"})
    return keys


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, date):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def parse_date(text: str, *, year: int | None = None) -> date | None:
    """The first date written in ``text``, or None. A date without its year takes ``year``."""
    for pattern in DATE_PATTERNS:
        match = pattern.search(text)
        if match is None:
            continue
        parts = match.groupdict()
        try:
            return date(int(parts.get("y") or year or 0), int(parts["m"]), int(parts["d"]))
        except ValueError:
            return None
    return None


def _all_dates(text: str, year: int | None) -> list[date]:
    found = []
    for piece in re.split(r"[-~～至到—]+(?=\s*\d)", text):
        parsed = parse_date(piece, year=year)
        if parsed is not None:
            found.append(parsed)
    return found


def _sheet_rows(sheet: Any) -> list[list[Any]]:
    """The sheet's values with every merged block's value copied into each cell it covers."""
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    for merged in sheet.merged_cells.ranges:
        value = sheet.cell(merged.min_row, merged.min_col).value
        for r in range(merged.min_row, merged.max_row + 1):
            for c in range(merged.min_col, merged.max_col + 1):
                if r - 1 < len(rows):
                    row = rows[r - 1]
                    row.extend([None] * (c - len(row)))
                    row[c - 1] = value
    return rows


def read_register(stream: IO[bytes]) -> RegisterReading:
    """Reads every register row of the workbook's first sheet that has the register's header."""
    reading = RegisterReading()
    try:
        workbook = load_workbook(stream, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, ValueError, OSError):
        # What openpyxl raises for a file that is not an .xlsx workbook, or a damaged one.
        reading.problems.append(_("The file is not an Excel workbook (.xlsx)."))
        return reading
    headers = _headers()
    for sheet in workbook.worksheets:
        rows = _sheet_rows(sheet)
        for index, values in enumerate(rows):
            found = {
                i: headers[_normal(_text(v))] for i, v in enumerate(values) if _normal(_text(v)) in headers
            }
            if {"number", "topic"} <= set(found.values()):
                _read_rows(reading, rows, index, found)
                return reading
    reading.problems.append(
        _("No sheet has the register's header row (%(number)s, %(topic)s, …).")
        % {"number": REGISTER_COLUMNS[0].header, "topic": REGISTER_COLUMNS[1].header}
    )
    return reading


def _read_rows(
    reading: RegisterReading, rows: list[list[Any]], header_index: int, columns: dict[int, str]
) -> None:
    lookup = _Lookup()
    seen: dict[str, int] = {}
    for offset, values in enumerate(rows[header_index + 1 :], start=header_index + 2):
        by_key = dict.fromkeys(KEYS + EXTRA_KEYS, "")
        for i, key in columns.items():
            if i < len(values):
                by_key[key] = _text(values[i])
        if not any(by_key.values()):
            continue
        row = RegisterRow(row=offset, number=by_key["number"], cells=[by_key[key] for key in KEYS])
        reading.rows.append(row)
        problem = row.problems.append
        if not row.number:
            problem(_("The item number is missing."))
        elif not NUMBER_FORMAT.match(row.number):
            problem(_('"%(number)s" is not a register number such as 20231001.') % {"number": row.number})
        elif row.number in seen:
            problem(
                _("The item number %(number)s is already on row %(row)s.")
                % {"number": row.number, "row": seen[row.number]}
            )
        else:
            seen[row.number] = offset
            existing = (
                CollaborationItem.objects.filter(number=row.number)
                .values_list("imported_at", flat=True)
                .first()
            )
            if existing is not None:
                row.already_imported = True
            elif CollaborationItem.objects.filter(number=row.number).exists():
                problem(_("Item number %(number)s is already in the register.") % {"number": row.number})
        if not by_key["topic"]:
            problem(_("The topic is missing."))
        year = int(row.number[:4]) if NUMBER_FORMAT.match(row.number) else None
        _read_people(row, by_key, lookup, problem)
        _read_requirement(row, by_key, year, problem)
        row.finished = bool(FINISHED.search(by_key["status"]))


class _Lookup:
    """Departments and people by the names a register writes."""

    def __init__(self) -> None:
        self.departments: dict[str, list[Department]] = {}
        for department in Department.objects.all():
            self.departments.setdefault(department.name, []).append(department)
        self.people: dict[str, list[Any]] = {}
        for person in Person.objects.select_related("user").filter(user__is_active=True):
            self.people.setdefault(display_name(person.user), []).append(person)

    def department(self, text: str, problem: Callable[[str], None]) -> tuple[Department | None, str]:
        """The department a cell starts with, and the rest of the cell (a person or a role)."""
        text = text.strip()
        for name in sorted(self.departments, key=len, reverse=True):
            if text.startswith(name):
                candidates = self.departments[name]
                if len(candidates) > 1:
                    problem(_('There are several departments named "%(name)s".') % {"name": name})
                    return None, ""
                return candidates[0], SEPARATORS.sub(" ", text[len(name) :]).strip()
        problem(_('There is no department named "%(name)s".') % {"name": SEPARATORS.split(text)[0]})
        return None, ""

    def person(self, name: str, department: Department | None) -> Any:
        candidates = self.people.get(name.strip(), [])
        preferred = [p for p in candidates if department and p.department_id == department.pk] or candidates
        return preferred[0].user if len(preferred) == 1 else None

    def named_person(self, text: str) -> Any:
        """The one active person a cell names: "李娜", or "项目管理办公室/李娜"."""
        text = text.strip()
        department = next(
            (
                found[0]
                for name in sorted(self.departments, key=len, reverse=True)
                if text.startswith(name) and len(found := self.departments[name]) == 1
            ),
            None,
        )
        if department is not None:
            rest = SEPARATORS.sub(" ", text[len(department.name) :]).strip()
            if rest:
                return self.person(rest, department)
        return self.person(text, None)


def _read_people(
    row: RegisterRow, by_key: dict[str, str], lookup: _Lookup, problem: Callable[[str], None]
) -> None:
    if not by_key["requester"]:
        problem(_("The initiating department is missing."))
    else:
        department, rest = lookup.department(by_key["requester"], problem)
        if department is not None:
            row.department = department
            # "产品部/张伟": that person; "产品部*经理" or a name we do not know: the department's head.
            row.requester = (lookup.person(rest, department) if rest else None) or department.head
    _read_coordinator(row, by_key["coordinator"], lookup, problem)
    for part in re.split(r"[,，、;；]+", by_key["participants"]):
        part = part.strip()
        if not part:
            continue
        role_match = re.match(r"^(.*?)[(（](.*)[)）]$", part)
        name, role = (role_match.group(1), role_match.group(2)) if role_match else (part, "")
        department, rest = lookup.department(name, problem)
        if department is not None:
            role = (role or rest)[:100]
            if (department, role) not in row.participations:
                row.participations.append((department, role))


def _read_coordinator(row: RegisterRow, text: str, lookup: _Lookup, problem: Callable[[str], None]) -> None:
    if text:
        row.coordinator = lookup.named_person(text)
        if row.coordinator is None:
            problem(_('There is no one active person named "%(name)s" to coordinate.') % {"name": text})
        return
    head = row.department.head if row.department is not None else None
    if head is not None and head.is_active:
        row.coordinator = head
    elif row.department is not None:
        row.warnings.append(
            _("No coordinator named and %(department)s has no head: you will be its coordinator.")
            % {"department": row.department.name}
        )


def _read_requirement(
    row: RegisterRow, by_key: dict[str, str], year: int | None, problem: Callable[[str], None]
) -> None:
    text = by_key["requirement"]
    labelled: dict[str, str] = {}
    for language in LANGUAGES:
        with translation.override(language):
            for key, label in (
                ("goal", _("Goal: %(text)s")),
                ("scope", _("Scope: %(text)s")),
                ("time", _("Time: %(text)s")),
            ):
                labelled[_normal(label.split("%(text)s")[0])] = key
    parts: dict[str, str] = {}
    for clause in re.split(r"[;；]\s*", text):
        match = re.match(r"^\s*([^:：]{1,12})[:：]\s*(.*)$", clause, re.S)
        label_key = labelled.get(_normal(match.group(1))) if match else None
        if match and label_key:
            parts[label_key] = match.group(2).strip()
        elif clause.strip():
            parts["goal"] = (parts.get("goal", "") + " " + clause.strip()).strip()
    row.goal, row.scope = parts.get("goal", ""), parts.get("scope", "")
    for when in _all_dates(parts.get("time", ""), year):
        row.milestones.append((_("Milestone"), when))
    deadline_text = by_key["deadline"]
    if deadline_text:
        deadline = parse_date(deadline_text, year=year)
        if deadline is None:
            problem(_('The deadline "%(text)s" is not a date.') % {"text": deadline_text})
        elif all(when != deadline for _name, when in row.milestones):
            row.milestones.append((_("Deadline"), deadline))


def register_import(*, actor: Any, reading: RegisterReading) -> list[CollaborationItem]:
    """Creates the reading's new items; refuses (changing nothing) while any row has a problem."""
    if reading.all_problems:
        raise ValueError("A register with problems cannot be imported.")
    rows = reading.new_rows
    with transaction.atomic():
        created = [_create(actor, row) for row in rows]
        _keep_cells(created, rows)
    return created


def _keep_cells(items: list[CollaborationItem], rows: list[RegisterRow]) -> None:
    """Each new item keeps its row's original cells, with what the register derives for it now
    (its baseline: a column whose derived text later changes shows the new text), read as the
    register reads its rows (``register_texts``: five queries per 2,000 items)."""
    baselines = register_texts([item.pk for item in items])
    for item, row in zip(items, rows, strict=True):
        item.imported_cells = {"cells": row.cells, "baseline": baselines[item.pk]}
        CollaborationItem.objects.filter(pk=item.pk).update(imported_cells=item.imported_cells)


def _create(actor: Any, row: RegisterRow) -> CollaborationItem:
    if row.department is None:  # a row without its department has a problem and never comes here
        raise ValueError(row.row)
    number = row.number
    zone = ZoneInfo(settings.TIME_ZONE)
    submitted = datetime.combine(date(int(number[:4]), int(number[4:6]), 1), time(9), tzinfo=zone)
    item = CollaborationItem.objects.create(
        number=number,
        topic=row.value("topic")[:200],
        scenario=Scenario.CROSS_DEPARTMENT,
        goal=row.goal,
        scope=row.scope,
        requesting_department=row.department,
        requester=row.requester or actor,
        coordinator=row.coordinator or actor,
        remarks=row.value("remarks"),
        status=ItemStatus.CLOSED if row.finished else ItemStatus.SUBMITTED,
        submitted_at=submitted,
        last_milestone_due=max((when for _n, when in row.milestones), default=None),
        imported_at=timezone.now(),
    )
    Participation.objects.bulk_create(
        Participation(item=item, department=department, role=role, core_need=role or department.name)
        for department, role in row.participations
    )
    Milestone.objects.bulk_create(
        Milestone(item=item, name=name, due_date=when) for name, when in row.milestones
    )
    # The month's sequence continues after the imported number, never below it.
    period, sequence = number[:6], int(number[6:])
    ItemNumberSequence.objects.get_or_create(period=period)
    ItemNumberSequence.objects.filter(period=period, last__lt=sequence).update(last=sequence)
    item_sync_permissions(item=item)
    # The history's own wording for entering an item from an existing register.
    audit_record(
        actor=actor,
        action="item.registered",
        target=item,
        changes={"number": [None, number]},
        note=Text(gettext_noop("Imported from an Excel register, row %(row)s."), row=row.row),
        # A finished register row arrives archived: recording its arrival is no write to it.
        read_only_ok=True,
    )
    return item
