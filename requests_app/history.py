"""The item's audit history in words a person reads: who did what, and what changed from what."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from collab.audit.models import AuditEntry
from collab.audit.texts import render_value
from collab.org.models import display_name
from requests_app.models import CollaborationItem, ItemStatus, Scenario


def _action_labels() -> dict[str, str]:
    return {
        "item.created": _("created the draft"),
        "item.updated": _("edited the draft"),
        "item.submitted": _("submitted the requirement form"),
        "item.registered": _("entered the item from an existing register"),
        "item.requirement_changed": _("changed the requirement"),
        "item.status_changed": _("moved the item to a new stage"),
        "item.archived": _("built the archive and closed the item"),
        "meeting.scheduled": _("scheduled a meeting and sent the pre-read"),
        "meeting.pre_read_opened": _("opened the pre-read"),
        "minutes.recorded": _("recorded the minutes"),
        "minutes.revised": _("revised the minutes"),
        "minutes.confirmed": _("confirmed the minutes in writing"),
        "minutes.objected": _("objected to the minutes"),
        "task.created": _("assigned a task"),
        "task.updated": _("changed a task"),
        "todo.dropped": _("dropped a to-do of the minutes"),
        "department.exempted": _("recorded why a department has no task"),
        "department.exemption_removed": _("gave a department a task after all"),
        "item.cadence_changed": _("changed the progress report cadence"),
        "task.reported": _("reported progress"),
        "task.delivered": _("completed a task with a signed deliverable"),
        "task.under_review": _("delivered a task's result for review"),
        "task.changes_requested": _("sent a task back to work after a request for changes"),
        "problem.assigned": _("handed a problem over"),
        "problem.resolved": _("resolved a problem"),
        "deliverable.submitted": _("submitted a deliverable"),
        "deliverable.reviewed": _("reviewed a deliverable"),
        "deliverable.revised": _("submitted a revised deliverable"),
        "deliverable.signed": _("signed an acceptance form"),
        "deliverable.sign_failed": _("typed a wrong password to sign an acceptance form"),
        "retrospective.recorded": _("recorded the retrospective"),
        "retrospective.updated": _("edited the retrospective"),
        "improvement.added": _("added an improvement measure"),
        "improvement.done": _("marked an improvement measure done"),
        "archive.requested": _("asked for the archive"),
        "archive.built": _("built the archive"),
        "archive.failed": _("could not build the archive"),
        "attachment.added": _("attached a file"),
        "attachment.removed": _("removed a file"),
    }


def _field_labels() -> dict[str, str]:
    labels = {
        f.name: str(f.verbose_name)
        for f in CollaborationItem._meta.get_fields()
        if hasattr(f, "verbose_name")
    }
    labels.update(
        participations=_("Participating departments"),
        milestones=_("Milestones"),
        attachment=_("Attachment"),
        meeting=_("Meeting"),
        minutes=_("Minutes"),
        confirmation=_("Written confirmation"),
        task=_("Task"),
        owner=_("Owner"),
        collaborators=_("Collaborators"),
        delivery_standard=_("Delivery standard"),
        deadline=_("Deadline"),
        receiver=_("Receiver"),
        department=_("Department"),
        todo=_("To-do"),
        held_on=_("Retrospective date"),
        report_cadence=_("Progress report cadence"),
        percent_done=_("Percent done"),
        problem=_("Problem"),
        deliverable=_("Deliverable"),
        version=_("Version"),
        files=_("Files"),
        participants=_("Participants"),
        highlights=_("Highlights"),
        shortcomings=_("Shortcomings"),
        measures=_("Improvement measures"),
        measure=_("Improvement measure"),
        archive=_("Archive"),
        signed_as=_("Signed as"),
        content_digest=_("Content digest"),
        files_digest=_("Files digest"),
        sha256=_("SHA-256 checksum"),
        decision=_("Decision"),
    )
    return labels


def _readable(field: str, value: Any) -> str:
    if value in (None, ""):
        return "—"
    if isinstance(value, dict):
        return render_value(value)
    if field == "status" and value in ItemStatus.values:
        return str(ItemStatus(value).label)
    if field == "scenario" and value in Scenario.values:
        return str(Scenario(value).label)
    return str(value)


@dataclass
class HistoryRow:
    time: datetime
    actor: str
    action: str
    changes: list[tuple[str, str, str]]
    note: str


def _action(entry: AuditEntry) -> str:
    """The entry's action code; rows from before "item.archived" closed the item with a plain
    change of stage whose note was the archive's file name: they read as what happened too."""
    if entry.action == "item.status_changed" and (entry.changes.get("status") or [None, None])[1] == "closed":
        return "item.archived"
    return entry.action


def history_rows(entries: list[AuditEntry]) -> list[HistoryRow]:
    """The rows in the active language: actions, field names, choices and the system's notes
    are translated for the reader; what people wrote stays as written."""
    actions, fields = _action_labels(), _field_labels()
    return [
        HistoryRow(
            time=entry.created_at,
            actor=display_name(entry.actor) if entry.actor else _("the system"),
            action=actions.get(_action(entry), entry.action),
            changes=[
                (fields.get(name, name), _readable(name, old), _readable(name, new))
                for name, (old, new) in entry.changes.items()
            ],
            note=entry.note_display,
        )
        for entry in entries
    ]
