"""The communication register (《协作沟通记录表》): the template's 11 columns, declared once.

The register page, the Excel export and (later) the import all use REGISTER_COLUMNS, so the
columns cannot drift apart. Columns whose data comes from later stages show what exists so far.
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
from tasks_app.selectors import latest_deadline, owners_text, task_assignment_text


def _requester(item: CollaborationItem) -> str:
    return _("%(department)s, %(person)s") % {
        "department": item.requesting_department,
        "person": display_name(item.requester),
    }


def _participants(item: CollaborationItem) -> str:
    return pgettext("list separator", ", ").join(
        f"{p.department}({p.role})" if p.role else str(p.department) for p in item.participations.all()
    )


def _milestone_span(item: CollaborationItem) -> str:
    dates = [m.due_date for m in item.milestones.all()]
    if not dates:
        return ""
    if len(dates) == 1:
        return f"{dates[0]:%Y-%m-%d}"
    return _("%(start)s to %(end)s") % {"start": f"{min(dates):%Y-%m-%d}", "end": f"{max(dates):%Y-%m-%d}"}


def _requirement(item: CollaborationItem) -> str:
    parts = [
        _("Goal: %(text)s") % {"text": item.goal},
        _("Scope: %(text)s") % {"text": item.scope},
    ]
    if span := _milestone_span(item):
        parts.append(_("Time: %(text)s") % {"text": span})
    return pgettext("clause separator", "; ").join(parts)


def _deadline(item: CollaborationItem) -> str:
    # The item's own deadline, as in the template's example: its last milestone, or a task
    # deadline beyond it.
    dates = [m.due_date for m in item.milestones.all()]
    if task_deadline := latest_deadline(item.tasks.all()):
        dates.append(task_deadline)
    return f"{max(dates):%Y-%m-%d}" if dates else ""


def _methods(item: CollaborationItem) -> str:
    """The forms of the item's meetings, in order, each once: "线上研讨会"."""
    forms: list[str] = []
    for meeting in item.meetings.all():
        label = str(meeting.get_form_display())
        if label not in forms:
            forms.append(label)
    return pgettext("list separator", ", ").join(forms)


@dataclass(frozen=True)
class RegisterColumn:
    key: str
    header: Promise  # translated when rendered, so the export follows the reader's language
    value: Callable[[CollaborationItem], str]
    width: int  # the widest the Excel column may become, in characters


REGISTER_COLUMNS: list[RegisterColumn] = [
    RegisterColumn("number", gettext_lazy("Item number"), lambda i: i.number or "", 12),
    RegisterColumn("topic", gettext_lazy("Topic"), lambda i: i.topic, 30),
    RegisterColumn("requester", gettext_lazy("Initiating department/person"), _requester, 24),
    RegisterColumn("participants", gettext_lazy("Participating departments/persons"), _participants, 30),
    RegisterColumn("requirement", gettext_lazy("Requirement (goal, scope, time)"), _requirement, 60),
    RegisterColumn("method", gettext_lazy("Communication method"), _methods, 16),
    RegisterColumn(
        "conclusions",
        gettext_lazy("Key conclusions/task assignments"),
        lambda i: task_assignment_text(i.tasks.all()),
        50,
    ),
    RegisterColumn("owner", gettext_lazy("Owner"), lambda i: owners_text(i.tasks.all()), 16),
    RegisterColumn("deadline", gettext_lazy("Deadline"), _deadline, 12),
    RegisterColumn("status", gettext_lazy("Current status"), lambda i: str(i.get_status_display()), 16),
    RegisterColumn("remarks", gettext_lazy("Remarks"), lambda i: i.remarks, 40),
]


def register_row(item: CollaborationItem) -> list[str]:
    live = [column.value(item) for column in REGISTER_COLUMNS]
    return imported_cells(item, live)


def imported_cells(item: CollaborationItem, live: list[str]) -> list[str]:
    """An imported item's original cells, column by column, while the app still derives for that
    column what it derived at import; a column the item's later life changed shows the new value."""
    kept = item.imported_cells or {}
    cells, baseline = kept.get("cells"), kept.get("baseline")
    if not cells or not baseline or len(cells) != len(live) or len(baseline) != len(live):
        return live
    return [cell if now == then else now for cell, now, then in zip(cells, live, baseline, strict=True)]


def write_register_xlsx(items: Iterable[CollaborationItem], target: str | Path | IO[bytes]) -> int:
    """Writes the register to ``target`` in openpyxl's write-only mode; returns the row count.

    Widths must be set before the first row in write-only mode, so rows are rendered first
    (as text, a fraction of the items' size) and the widths taken from them.
    """
    rows = [register_row(item) for item in items]
    workbook = Workbook(write_only=True)
    write_table(
        workbook,
        sheet_title=_("Communication register"),
        headers=[str(column.header) for column in REGISTER_COLUMNS],
        rows=rows,
        max_widths=[column.width for column in REGISTER_COLUMNS],
    )
    workbook.properties.title = _("Communication register")
    workbook.properties.created = timezone.now().replace(tzinfo=None)
    workbook.save(target)
    return len(rows)
