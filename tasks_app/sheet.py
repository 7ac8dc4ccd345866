"""The task breakdown and assignment sheet (《任务分解与分配表》): its columns, declared once.

The printable page and the Excel export use TASK_SHEET_COLUMNS, so they cannot drift apart.
Rows come from tasks_app.selectors.sheet_tasks (owners, receivers, departments and collaborators
loaded up front), so writing costs no query per task.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from collab.lib.xlsx import XlsxBook, as_text
from collab.org.models import display_name
from requests_app.models import CollaborationItem
from tasks_app.models import Task


def _collaborators(task: Task) -> str:
    return pgettext("list separator", ", ").join(display_name(u) for u in task.collaborators.all())


@dataclass(frozen=True)
class SheetColumn:
    key: str
    header: Promise  # translated when rendered, so the export follows the reader's language
    value: Callable[[Task], Any]  # typed: the deadline is a date
    width: int  # the widest the Excel column may become, in characters
    # How a printed table breaks the value: "text" anywhere, "title" anywhere in a column kept
    # wide enough to read (a task's name), "line" never (a name, a date, a number: a Chinese name
    # broken 周/婷 reads as two people), "names" only between names.
    print_as: str = "text"


TASK_SHEET_COLUMNS: list[SheetColumn] = [
    SheetColumn("name", gettext_lazy("Task"), lambda t: t.name, 30, "title"),
    SheetColumn("department", gettext_lazy("Department"), lambda t: str(t.department), 14, "line"),
    SheetColumn("owner", gettext_lazy("Owner"), lambda t: display_name(t.owner), 12, "line"),
    SheetColumn("collaborators", gettext_lazy("Collaborators"), _collaborators, 24, "names"),
    SheetColumn("delivery_standard", gettext_lazy("Delivery standard"), lambda t: t.delivery_standard, 40),
    SheetColumn("deadline", gettext_lazy("Deadline"), lambda t: t.deadline, 14, "line"),
    SheetColumn("receiver", gettext_lazy("Receiver"), lambda t: display_name(t.receiver), 12, "line"),
]


def sheet_values(task: Task) -> list[Any]:
    return [column.value(task) for column in TASK_SHEET_COLUMNS]


def sheet_row(task: Task) -> list[str]:
    """One row as the page shows it."""
    return [as_text(v) for v in sheet_values(task)]


def task_sheet_book(item: CollaborationItem, tasks: Iterable[Task]) -> XlsxBook:
    """The item's task sheet: row 1 names the item, row 3 holds the headers ("No." first), tasks
    follow from row 4, numbered."""
    title = _("Task breakdown and assignment sheet: %(number)s %(topic)s") % {
        "number": item.number or "",
        "topic": item.topic,
    }
    book = XlsxBook(title=_("Task breakdown"))
    book.table(
        sheet_title=_("Task breakdown"),
        headers=[_("No."), *(str(column.header) for column in TASK_SHEET_COLUMNS)],
        rows=([index, *sheet_values(task)] for index, task in enumerate(tasks, start=1)),
        max_widths=[6, *(column.width for column in TASK_SHEET_COLUMNS)],
        title=title,
    )
    return book


def write_task_sheet_xlsx(
    item: CollaborationItem, tasks: Iterable[Task], target: str | Path | IO[bytes]
) -> int:
    """Writes the item's task sheet to ``target``; returns the row count."""
    return task_sheet_book(item, tasks).save(target)
