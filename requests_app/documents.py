"""Excel versions of the stage 1-2 forms, built with openpyxl's write-only mode."""

from typing import IO, Any

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from collab.lib.xlsx import text_cell
from collab.org.models import display_name
from requests_app.models import AgendaPoint, Minutes


def write_minutes_xlsx(minutes: Minutes, target: IO[bytes], confirmations: list[dict[str, Any]]) -> None:
    """《会议纪要》 as one sheet: meeting facts, agenda, conclusions, responsibilities,
    final milestones, to-dos and the written confirmations."""
    meeting = minutes.meeting
    item = meeting.item
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_("Minutes")[:31])
    for letter, width in zip("ABCD", (18, 40, 20, 14), strict=True):
        sheet.column_dimensions[letter].width = width

    def row(*values: Any, bold: bool = False) -> None:
        sheet.append([text_cell(sheet, str(v), bold=bold, wrap=True) for v in values])

    when = timezone.localtime(meeting.starts_at)
    row(_("Minutes") + " 《会议纪要》", bold=True)
    row(_("Item number"), item.number or "")
    row(_("Topic"), item.topic)
    row(_("Meeting form"), meeting.get_form_display())
    row(_("Time"), formats.date_format(when, "Y-m-d H:i"))
    row(_("Place or link"), meeting.location)
    row(_("Version"), str(minutes.version))
    row(_("Attendees"), "、".join(display_name(u) for u in minutes.attendees.all()))
    row("")
    for point in AgendaPoint:
        row(str(point.label), minutes.agenda.get(point.value, ""))
    row(_("Conclusions"), minutes.conclusions)
    row("")
    row(_("Responsibilities"), bold=True)
    for responsibility in minutes.responsibilities.all():
        row(str(responsibility.department), responsibility.text)
    row("")
    row(_("Final milestones"), bold=True)
    for day, name in minutes.final_milestones:
        row(day, name)
    row("")
    row(_("To-dos"), _("Owner"), _("Due date"), bold=True)
    for todo in minutes.todos.all():
        row(todo.text, display_name(todo.owner), f"{todo.due_date:%Y-%m-%d}")
    row("")
    row(_("Written confirmations"), _("Decision"), _("By"), _("Time"), bold=True)
    for state in confirmations:
        latest = state["latest"]
        if latest is None:
            row(str(state["department"]), _("Awaiting confirmation"))
        else:
            row(
                str(state["department"]),
                latest.get_decision_display() + (f": {latest.reason}" if latest.reason else ""),
                display_name(latest.decided_by),
                formats.date_format(timezone.localtime(latest.decided_at), "Y-m-d H:i"),
            )
    workbook.save(target)
