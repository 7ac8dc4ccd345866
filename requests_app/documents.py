"""Excel versions of the stage 1-2 forms, built with openpyxl's write-only mode."""

from datetime import date
from typing import IO, Any

from django.utils.translation import gettext as _

from collab.lib.xlsx import Bold, XlsxBook
from collab.org.models import display_name
from requests_app.models import AgendaPoint, Minutes


def minutes_book(minutes: Minutes, confirmations: list[dict[str, Any]]) -> XlsxBook:
    """《会议纪要》 as one sheet: meeting facts, agenda, conclusions, responsibilities,
    final milestones, to-dos and the written confirmations. Times and dates are Excel dates."""
    meeting = minutes.meeting
    item = meeting.item
    rows: list[Any] = [
        Bold([_("Minutes") + " 《会议纪要》"]),
        [_("Item number"), item.number or ""],
        [_("Topic"), item.topic],
        [_("Meeting form"), meeting.get_form_display()],
        [_("Time"), meeting.starts_at],
        [_("Place or link"), meeting.location],
        [_("Version"), minutes.version],
        [_("Attendees"), "、".join(display_name(u) for u in minutes.attendees.all())],
        [],
    ]
    rows += [[str(point.label), minutes.agenda.get(point.value, "")] for point in AgendaPoint]
    rows += [[_("Conclusions"), minutes.conclusions], [], Bold([_("Responsibilities")])]
    rows += [[str(r.department), r.text] for r in minutes.responsibilities.all()]
    rows += [[], Bold([_("Final milestones")])]
    rows += [[_as_date(day), name] for day, name in minutes.final_milestones]
    rows += [[], Bold([_("To-dos"), _("Owner"), _("Due date")])]
    rows += [[todo.text, display_name(todo.owner), todo.due_date] for todo in minutes.todos.all()]
    rows += [[], Bold([_("Written confirmations"), _("Decision"), _("By"), _("Time")])]
    for state in confirmations:
        latest = state["latest"]
        if latest is None:
            rows.append([str(state["department"]), _("Awaiting confirmation")])
        else:
            rows.append(
                [
                    str(state["department"]),
                    latest.get_decision_display() + (f": {latest.reason}" if latest.reason else ""),
                    display_name(latest.decided_by),
                    latest.decided_at,
                ]
            )
    book = XlsxBook(title=_("Minutes"))
    book.free_sheet(sheet_title=_("Minutes"), widths=[18, 40, 20, 20], rows=rows)
    return book


def _as_date(day: Any) -> Any:
    """A final milestone's date as stored in the minutes (ISO text), as a date when it is one."""
    try:
        return date.fromisoformat(day) if isinstance(day, str) else day
    except ValueError:
        return day


def write_minutes_xlsx(minutes: Minutes, target: IO[bytes], confirmations: list[dict[str, Any]]) -> None:
    minutes_book(minutes, confirmations).save(target)
