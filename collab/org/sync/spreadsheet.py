"""Departments and people from an Excel workbook, for companies without a directory service.

The workbook has two sheets, departments then people, with the columns declared once below (the
template is written from them and reading matches them by header, in Chinese or English). It
becomes the same ``Snapshot`` a directory connector returns, so the preview and the application
are the directory sync's own. Every problem is reported with its sheet and row, in the reader's
language, and a workbook with problems changes nothing.
"""

import re
from collections.abc import Callable
from typing import IO, Any
from zipfile import BadZipFile

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from collab.lib.xlsx import XlsxBook
from collab.org.sync.snapshot import Snapshot, SourceDepartment, SourceUser

DEPARTMENT_COLUMNS = [
    ("id", gettext_lazy("Department ID")),
    ("name", gettext_lazy("Department name")),
    ("parent_id", gettext_lazy("Parent department ID")),
    ("head_id", gettext_lazy("Head's user ID")),
]
PEOPLE_COLUMNS = [
    ("id", gettext_lazy("User ID")),
    ("name", pgettext_lazy("person", "Name")),
    ("department_id", gettext_lazy("Department ID")),
    ("email", gettext_lazy("E-mail")),
    ("phone", gettext_lazy("Mobile phone")),
    ("position", gettext_lazy("Position")),
]
REQUIRED = {"id", "name"}
LANGUAGES = ("zh-hans", "en")


def write_template(stream: IO[bytes]) -> None:
    template_book().save(stream)


def template_book() -> XlsxBook:
    """The empty template in the active language, with one example row per sheet."""
    book = XlsxBook()
    book.table(
        sheet_title=_("Departments"),
        headers=[str(label) for _key, label in DEPARTMENT_COLUMNS],
        rows=[["D01", _("Head office"), "", "U001"], ["D02", _("General affairs"), "D01", ""]],
        max_widths=[20, 40, 20, 20],
    )
    book.table(
        sheet_title=_("People"),
        headers=[str(label) for _key, label in PEOPLE_COLUMNS],
        rows=[["U001", "张敏", "D01", "zhang.min@example.com", "13800000000", _("General manager")]],
        max_widths=[20, 20, 20, 40, 20, 30],
    )
    return book


def _header_keys(columns: list[tuple[str, Any]]) -> dict[str, str]:
    keys = {}
    for language in LANGUAGES:
        with translation.override(language):
            keys.update({_normal(str(label)): key for key, label in columns})
    return keys


def _normal(text: str) -> str:
    return re.sub(r"[\s*＊:：]", "", text).lower()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # an ID typed as a number comes back as 1001.0
    return str(value).strip()


def _rows(
    sheet: Any, columns: list[tuple[str, Any]], problem: Callable[[int, str], None]
) -> list[tuple[int, dict[str, str]]]:
    """The sheet's rows as {column key: text}, found by their header row: the first row that
    names the ID and name columns (a title above it is skipped)."""
    keys = _header_keys(columns)
    header: dict[int, str] = {}
    rows: list[tuple[int, dict[str, str]]] = []
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        if not header:
            found = {i: keys[_normal(_text(v))] for i, v in enumerate(values) if _normal(_text(v)) in keys}
            if set(found.values()) >= REQUIRED:
                header = found
            continue
        row = {key: _text(values[i]) if i < len(values) else "" for i, key in header.items()}
        if any(row.values()):
            rows.append((number, row))
    if not header:
        problem(
            0,
            _("No header row with the columns %(columns)s.")
            % {"columns": "、".join(str(label) for key, label in columns if key in REQUIRED)},
        )
    return rows


def read_workbook(stream: IO[bytes]) -> tuple[Snapshot, list[str]]:
    """The workbook's departments and people, and every problem found (empty when it can be applied)."""
    found: list[tuple[int, int, str]] = []  # (sheet, row, text): reported in the workbook's order
    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, ValueError, OSError):
        # What openpyxl raises for a file that is not an .xlsx workbook, or a damaged one.
        return Snapshot(), [_("The file is not an Excel workbook (.xlsx).")]
    sheets = workbook.worksheets
    if len(sheets) < 2:
        return Snapshot(), [_("The workbook needs two sheets: departments first, then people.")]

    def reporter(index: int) -> Callable[[int, str], None]:
        title = sheets[index].title

        def problem(row: int, text: str) -> None:
            where = (
                _("Sheet %(sheet)s, row %(row)s") % {"sheet": title, "row": row}
                if row
                else _("Sheet %(sheet)s") % {"sheet": title}
            )
            found.append((index, row, _("%(where)s: %(problem)s") % {"where": where, "problem": text}))

        return problem

    department_problem = reporter(0)
    department_rows = _rows(sheets[0], DEPARTMENT_COLUMNS, department_problem)
    people_problem = reporter(1)
    people_rows = _rows(sheets[1], PEOPLE_COLUMNS, people_problem)
    workbook.close()

    department_ids: dict[str, int] = {}
    for number, row in department_rows:
        if not row.get("id"):
            department_problem(number, _("The department ID is missing."))
        elif not row.get("name"):
            department_problem(number, _("The department name is missing."))
        elif row["id"] in department_ids:
            department_problem(
                number,
                _("The department ID %(id)s is already on row %(row)s.")
                % {"id": row["id"], "row": department_ids[row["id"]]},
            )
        else:
            department_ids[row["id"]] = number
    user_ids: dict[str, int] = {}
    users: list[SourceUser] = []
    for number, row in people_rows:
        user_id, department = row.get("id", ""), row.get("department_id", "")
        if not user_id:
            people_problem(number, _("The user ID is missing."))
            continue
        if not row.get("name"):
            people_problem(number, _("The name is missing."))
            continue
        if user_id in user_ids:
            people_problem(
                number,
                _("The user ID %(id)s is already on row %(row)s.")
                % {"id": user_id, "row": user_ids[user_id]},
            )
            continue
        user_ids[user_id] = number
        if department and department not in department_ids:
            people_problem(number, _("There is no department with the ID %(id)s.") % {"id": department})
        if row.get("email"):
            try:
                validate_email(row["email"])
            except ValidationError:
                people_problem(number, _("%(email)s is not an e-mail address.") % {"email": row["email"]})
        users.append(
            SourceUser(
                id=user_id,
                name=row["name"],
                department_ids=(department,) if department else (),
                email=row.get("email", ""),
                phone=row.get("phone", ""),
                position=row.get("position", ""),
                username=user_id,
            )
        )
    departments: list[SourceDepartment] = []
    for number, row in department_rows:
        if department_ids.get(row.get("id", "")) != number:
            continue
        parent, head = row.get("parent_id", ""), row.get("head_id", "")
        if parent and parent not in department_ids:
            department_problem(number, _("There is no department with the ID %(id)s.") % {"id": parent})
        if head and head not in user_ids:
            department_problem(number, _("There is no person with the user ID %(id)s.") % {"id": head})
        departments.append(
            SourceDepartment(
                id=row["id"], name=row["name"], parent_id=parent, head_ids=(head,) if head else ()
            )
        )
    return Snapshot(departments=departments, users=users), [text for _i, _r, text in sorted(found)]
