"""The task breakdown and assignment sheet (《任务分解与分配表》): its columns, declared once.

The printable page and the Excel export use TASK_SHEET_COLUMNS, so they cannot drift apart.
Rows come from tasks_app.selectors.sheet_tasks (owners, receivers, departments and collaborators
loaded up front), so writing costs no query per task.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from openpyxl import Workbook

from collab.lib.xlsx import write_table
from collab.org.models import display_name
from requests_app.models import CollaborationItem
from tasks_app.models import Task


def _collaborators(task: Task) -> str:
    return pgettext("list separator", ", ").join(display_name(u) for u in task.collaborators.all())


@dataclass(frozen=True)
class SheetColumn:
    key: str
    header: Promise  # translated when rendered, so the export follows the reader's language
    value: Callable[[Task], str]
    width: int  # the widest the Excel column may become, in characters


TASK_SHEET_COLUMNS: list[SheetColumn] = [
    SheetColumn("name", gettext_lazy("Task"), lambda t: t.name, 30),
    SheetColumn("department", gettext_lazy("Department"), lambda t: str(t.department), 14),
    SheetColumn("owner", gettext_lazy("Owner"), lambda t: display_name(t.owner), 12),
    SheetColumn("collaborators", gettext_lazy("Collaborators"), _collaborators, 24),
    SheetColumn("delivery_standard", gettext_lazy("Delivery standard"), lambda t: t.delivery_standard, 40),
    SheetColumn("deadline", gettext_lazy("Deadline"), lambda t: f"{t.deadline:%Y-%m-%d}", 12),
    SheetColumn("receiver", gettext_lazy("Receiver"), lambda t: display_name(t.receiver), 12),
]


def sheet_row(task: Task) -> list[str]:
    return [column.value(task) for column in TASK_SHEET_COLUMNS]


def write_task_sheet_xlsx(
    item: CollaborationItem, tasks: Iterable[Task], target: str | Path | IO[bytes]
) -> int:
    """Writes the item's task sheet to ``target`` in openpyxl's write-only mode; returns the row count.

    Row 1 names the item, row 3 holds the headers ("No." first), tasks follow from row 4.
    Widths must be set before the first row in write-only mode, so rows are rendered first.
    """
    rows = [[str(index), *sheet_row(task)] for index, task in enumerate(tasks, start=1)]
    headers = [_("No."), *(str(column.header) for column in TASK_SHEET_COLUMNS)]
    limits = [6, *(column.width for column in TASK_SHEET_COLUMNS)]
    title = _("Task breakdown and assignment sheet: %(number)s %(topic)s") % {
        "number": item.number or "",
        "topic": item.topic,
    }
    workbook = Workbook(write_only=True)
    write_table(
        workbook, sheet_title=_("Task breakdown"), headers=headers, rows=rows, max_widths=limits, title=title
    )
    workbook.properties.title = _("Task breakdown")
    workbook.properties.created = timezone.now().replace(tzinfo=None)
    workbook.save(target)
    return len(rows)
