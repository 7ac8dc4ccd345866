"""Writes of stage 2: meetings, pre-reads, minutes and written confirmations (《会议纪要》).

The requester or coordinator schedules a meeting; invitees get the requirement form as a pre-read
and opening it is recorded; the minutes fix conclusions, responsibilities, final milestones and
to-dos; each participating department confirms the current version of the minutes in writing,
or objects with a reason. When every participating department has confirmed, the item reaches
consensus. A revision of the minutes asks for confirmation again.

The minutes' status (``MINUTES_TRANSITIONS``: issued, objected to, confirmed) is the departments'
word on the current version; it moves only through ``requests_app.transitions.transition``.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from collab.audit.services import audit_record
from collab.audit.texts import Choice, DateTime, Text
from collab.notify.handoffs import tell
from collab.org.models import Department, display_name
from requests_app.access import RUN_MEETINGS, require_confirmer
from requests_app.health_facts import item_health_refresh
from requests_app.models import (
    MINUTES_TRANSITIONS,
    AgendaPoint,
    CollaborationItem,
    Confirmation,
    ConfirmationDecision,
    Invitation,
    ItemStatus,
    Meeting,
    MeetingForm,
    Minutes,
    MinutesStatus,
    Responsibility,
    Todo,
)
from requests_app.rules import MilestoneData, clip, vague_wording_errors
from requests_app.selectors import item_parties, participating_departments
from requests_app.services import (
    ItemError,
    item_change_requirement,
    item_grant_view,
    item_requirement_data,
    item_transition,
    require_open,
)
from requests_app.transitions import transition


def _require_organiser(actor: Any, item: CollaborationItem) -> None:
    require_open(item)
    RUN_MEETINGS.require(actor, item)


@dataclass
class MeetingData:
    form: str
    starts_at: datetime  # aware
    timezone: str
    location: str
    invitee_ids: list[int] = field(default_factory=list)
    department_ids: list[int] = field(default_factory=list)


@transaction.atomic
def meeting_schedule(*, actor: Any, item_id: int, data: MeetingData) -> Meeting:
    """Schedules a meeting and sends the pre-read (requirement form and files) to every invitee."""
    item = CollaborationItem.objects.select_for_update(no_key=True).get(pk=item_id)
    _require_organiser(actor, item)
    if item.is_draft:
        raise ItemError(_("Submit the requirement form before scheduling a meeting about it."))
    if not data.location.strip():
        raise ItemError(_("Say where the meeting takes place, or give the link to join it."))
    meeting = Meeting.objects.create(
        item=item,
        form=data.form,
        starts_at=data.starts_at,
        timezone=data.timezone,
        location=data.location.strip(),
        organiser=actor,
    )
    meeting.invited_departments.set(data.department_ids)
    # A department is invited through its people: its members and its head.
    members = Q(pk__in=data.invitee_ids) | Q(person__department__in=data.department_ids)
    members |= Q(headed_departments__in=data.department_ids)
    invitees = list(get_user_model().objects.filter(members, is_active=True).distinct())
    if not invitees:
        raise ItemError(_("Invite at least one person or department."))
    Invitation.objects.bulk_create(Invitation(meeting=meeting, person=person) for person in invitees)
    item_grant_view(item=item, user_ids=[person.pk for person in invitees])
    item_health_refresh([item.pk])
    audit_record(
        actor=actor,
        action="meeting.scheduled",
        target=item,
        changes={"meeting": [None, meeting.label]},
        note=", ".join(display_name(p) for p in invitees),
    )
    when = meeting.local_starts_at

    def render() -> tuple[Text, Text]:
        return (
            Text(
                gettext_noop('Meeting on "%(topic)s" at %(time)s: please read the requirement form first'),
                topic=item.topic,
                time=DateTime(when),
            ),
            Text(
                gettext_noop("%(form)s, %(location)s. Organised by %(organiser)s."),
                form=Choice(MeetingForm, meeting.form),
                location=meeting.location,
                organiser=display_name(actor),
            ),
        )

    tell(
        "meeting.invited",
        recipients=invitees,
        render=render,
        url=reverse("requests_app:meeting_pre_read", args=[item.pk, meeting.pk]),
        item=item,
        dedupe=f"meeting:{meeting.pk}:invited",
    )
    return meeting


def pre_read_open(*, person: Any, meeting: Meeting) -> bool:
    """Records that an invitee opened the pre-read; True the first time. Others leave no trace."""
    opened = Invitation.objects.filter(meeting=meeting, person=person, pre_read_opened_at=None).update(
        pre_read_opened_at=timezone.now()
    )
    if opened:
        audit_record(actor=person, action="meeting.pre_read_opened", target=meeting.item, note=meeting.label)
    return bool(opened)


@dataclass
class TodoData:
    text: str
    owner_id: int
    due_date: date
    todo_id: int | None = None


@dataclass
class MinutesData:
    attendee_ids: list[int]
    agenda: dict[str, str]
    conclusions: str
    responsibilities: list[tuple[int, str]]  # (department id, text)
    final_milestones: list[MilestoneData]
    todos: list[TodoData]
    # Why minutes are recorded before the scheduled start (the meeting was moved earlier).
    early_reason: str = ""


@transaction.atomic
def minutes_record(*, actor: Any, meeting_id: int, data: MinutesData) -> Minutes:
    """Records the minutes of a meeting, or a revision of them.

    1. Save attendees, agenda notes, conclusions, responsibilities and to-dos.
    2. Milestones that the meeting moved change the item as a recorded requirement change, which
       tells every party (the template's lesson: requirement changes must be synced).
    3. A revision raises the version: earlier confirmations no longer count, and an item that
       had reached consensus goes back to discussion.
    4. The heads of the participating departments are asked to confirm in writing.
    """
    meeting = Meeting.objects.select_related("item").get(pk=meeting_id)
    item = CollaborationItem.objects.select_for_update(no_key=True).get(pk=meeting.item_id)
    _require_organiser(actor, item)
    if not data.conclusions.strip():
        raise ItemError(_("Write down the conclusions of the meeting."), {"conclusions": [_("Required.")]})
    if not data.attendee_ids:
        raise ItemError(_("Record who attended the meeting."), {"attendees": [_("Required.")]})
    early = timezone.now() < meeting.starts_at
    if early and not data.early_reason.strip():
        raise ItemError(
            _(
                "The meeting is scheduled for %(time)s and has not started yet. Record the minutes "
                "after it, or say why it took place earlier."
            )
            % {"time": formats.date_format(meeting.local_starts_at, "DATETIME_FORMAT")},
            {"early_reason": [_("Say why the minutes come before the scheduled time.")]},
        )
    problems = {
        "todos": [
            _('To-do "%(todo)s": %(message)s') % {"todo": todo.text, "message": message}
            for todo in data.todos
            for message in vague_wording_errors(todo.text)
        ],
        "responsibilities": [
            _('Responsibility "%(text)s": %(message)s') % {"text": clip(text), "message": message}
            for _department_id, text in data.responsibilities
            for message in vague_wording_errors(text)
        ],
    }
    if problems["todos"] or problems["responsibilities"]:
        raise ItemError(
            _("Some responsibilities or to-dos are not clear enough."),
            {k: v for k, v in problems.items() if v},
        )

    minutes = Minutes.objects.select_for_update(no_key=True).filter(meeting=meeting).first()
    revising = minutes is not None
    if minutes is None:
        minutes = Minutes(meeting=meeting, recorded_by=actor)  # issued for confirmation at once
    else:
        minutes.version += 1
    revised_from = minutes.version - 1
    minutes.agenda = {point: data.agenda.get(point, "").strip() for point in AgendaPoint.values}
    minutes.conclusions = data.conclusions.strip()
    minutes.final_milestones = [[f"{m.due_date:%Y-%m-%d}", m.name] for m in data.final_milestones]
    minutes.save()
    minutes.attendees.set(data.attendee_ids)
    minutes.responsibilities.all().delete()
    Responsibility.objects.bulk_create(
        Responsibility(minutes=minutes, department_id=department_id, text=text.strip())
        for department_id, text in data.responsibilities
        if text.strip()
    )
    _save_todos(minutes, data.todos)
    item_health_refresh([item.pk])

    current = item_requirement_data(item)
    moved = sorted((m.due_date, m.name) for m in data.final_milestones)
    if data.final_milestones and moved != sorted((m.due_date, m.name) for m in current.milestones):
        current.milestones = list(data.final_milestones)
        adjustments = minutes.agenda.get(AgendaPoint.ADJUSTMENTS) or minutes.conclusions
        item_change_requirement(
            actor=actor,
            item_id=item.pk,
            version=item.version,
            data=current,
            reason=Text(
                gettext_noop("Agreed in the meeting of %(date)s: %(adjustments)s"),
                date=meeting.local_starts_at.date(),
                adjustments=adjustments,
            ),
        )
        item.refresh_from_db()
    if revising and item.status == ItemStatus.CONSENSUS:
        item_transition(
            actor=actor,
            item=item,
            to=ItemStatus.SUBMITTED,
            note=Text(gettext_noop("The minutes were revised.")),
        )
    note: str | Text = (
        Text(
            gettext_noop("%(meeting)s; recorded before the scheduled time: %(reason)s"),
            meeting=meeting.label,
            reason=data.early_reason.strip(),
        )
        if early
        else meeting.label
    )
    if revising:
        # Issued again, whatever the departments said of the earlier version.
        transition(
            actor=actor,
            obj=minutes,
            to=MinutesStatus.ISSUED,
            table=MINUTES_TRANSITIONS,
            item=item,
            action="minutes.revised",
            changes={"minutes": [f"v{revised_from}", f"v{minutes.version}"]},
            note=note,
        )
    else:
        audit_record(
            actor=actor,
            action="minutes.recorded",
            target=item,
            changes={"minutes": [None, f"v{minutes.version}"]},
            note=note,
        )
    _ask_for_confirmation(item, minutes)
    return minutes


def _save_todos(minutes: Minutes, todos: list[TodoData]) -> None:
    """Updates to-dos in place, adds new ones, removes dropped rows that never became tasks."""
    existing = {todo.pk: todo for todo in minutes.todos.select_related("task")}
    kept: set[int] = set()
    for data in todos:
        todo = existing.get(data.todo_id or 0)
        if todo is None:
            Todo.objects.create(
                minutes=minutes, text=data.text.strip(), owner_id=data.owner_id, due_date=data.due_date
            )
            continue
        kept.add(todo.pk)
        if hasattr(todo, "task"):
            continue  # already a task: the task is where it changes now
        todo.text, todo.owner_id, todo.due_date = data.text.strip(), data.owner_id, data.due_date
        todo.save(update_fields=["text", "owner", "due_date"])
    for pk, todo in existing.items():
        if pk in kept:
            continue
        if hasattr(todo, "task"):
            raise ItemError(
                _('The to-do "%(todo)s" is already a task and cannot be removed from the minutes.')
                % {"todo": todo.text}
            )
        todo.delete()


def _ask_for_confirmation(item: CollaborationItem, minutes: Minutes) -> None:
    departments = list(participating_departments(item))
    people = [d.head for d in departments if d.head] + [
        person for d in departments for person in d.confirmation_delegates.all()
    ]

    def render() -> tuple[Text, Text]:
        return (
            Text(
                gettext_noop('Please confirm the minutes of "%(topic)s" (version %(version)s)'),
                topic=item.topic,
                version=minutes.version,
            ),
            Text(gettext_noop("Confirm them in writing for your department, or object with a reason.")),
        )

    tell(
        "minutes.confirmation_requested",
        recipients=people,
        render=render,
        url=reverse("requests_app:meeting_detail", args=[item.pk, minutes.meeting_id]),
        item=item,
        dedupe=f"minutes:{minutes.pk}:v{minutes.version}:confirm",
    )


@transaction.atomic
def minutes_confirm(
    *, actor: Any, minutes_id: int, department_id: int, version: int, decision: str, reason: str = ""
) -> Confirmation:
    """A department's written confirmation of, or objection to, one version of the minutes."""
    minutes = Minutes.objects.select_related("meeting").get(pk=minutes_id)
    item = CollaborationItem.objects.select_for_update(no_key=True).get(pk=minutes.meeting.item_id)
    department = Department.objects.get(pk=department_id)
    if department not in participating_departments(item):
        raise ItemError(_("%(department)s does not take part in this item.") % {"department": department})
    require_confirmer(actor, department)
    minutes = Minutes.objects.select_for_update(no_key=True).get(pk=minutes_id)
    if version != minutes.version:
        raise ItemError(
            _("The minutes were revised to version %(version)s since you opened them: read them again.")
            % {"version": minutes.version}
        )
    if decision not in ConfirmationDecision.values:
        raise ItemError(_("Choose to confirm or to object."))
    if decision == ConfirmationDecision.OBJECTED and not reason.strip():
        raise ItemError(
            _("Say why you object, so the discussion can resolve it."), {"reason": [_("Required.")]}
        )
    confirmation = Confirmation.objects.create(
        minutes=minutes,
        department=department,
        version=minutes.version,
        decision=decision,
        reason=reason.strip(),
        decided_by=actor,
    )
    changes = {"confirmation": [None, f"{department} v{minutes.version}"]}
    settled = minutes_status_from_decisions(minutes)
    if settled != minutes.status:
        transition(
            actor=actor,
            obj=minutes,
            to=settled,
            table=MINUTES_TRANSITIONS,
            item=item,
            action=f"minutes.{decision}",
            changes=changes,
            note=reason.strip(),
        )
    else:  # one more department's word, the minutes' status unchanged
        audit_record(
            actor=actor, action=f"minutes.{decision}", target=item, changes=changes, note=reason.strip()
        )
    if decision == ConfirmationDecision.OBJECTED:
        _tell_organisers_of_objection(item, minutes, confirmation)
    elif (
        item.status == ItemStatus.SUBMITTED
        and is_latest_minutes(minutes)
        and minutes.status == MinutesStatus.CONFIRMED
    ):
        item_transition(
            actor=actor,
            item=item,
            to=ItemStatus.CONSENSUS,
            note=Text(gettext_noop("Every participating department confirmed the minutes.")),
        )
        _tell_parties_of_consensus(item)
    return confirmation


def is_latest_minutes(minutes: Minutes) -> bool:
    latest = (
        Minutes.objects.filter(meeting__item_id=minutes.meeting.item_id)
        .order_by("-meeting__starts_at", "-pk")
        .first()
    )
    return latest is not None and latest.pk == minutes.pk


def _latest_words(minutes: Minutes) -> dict[int, str]:
    """Each department's latest decision on the current version of the minutes."""
    latest: dict[int, str] = {}
    for department_id, decision in (
        Confirmation.objects.filter(minutes=minutes, version=minutes.version)
        .order_by("decided_at", "pk")
        .values_list("department_id", "decision")
    ):
        latest[department_id] = decision
    return latest


def unconfirmed_departments(minutes: Minutes) -> list[Department]:
    """Participating departments whose latest word on the current version is not a confirmation."""
    latest = _latest_words(minutes)
    return [
        d
        for d in participating_departments(minutes.meeting.item)
        if latest.get(d.pk) != ConfirmationDecision.CONFIRMED
    ]


def minutes_status_from_decisions(minutes: Minutes) -> str:
    """The status the departments' latest words give the current version: objected to while a
    participating department's latest word is an objection, confirmed once every one confirmed,
    else issued (awaiting confirmation)."""
    latest = _latest_words(minutes)
    departments = list(participating_departments(minutes.meeting.item))
    if any(latest.get(d.pk) == ConfirmationDecision.OBJECTED for d in departments):
        return MinutesStatus.OBJECTED
    if all(latest.get(d.pk) == ConfirmationDecision.CONFIRMED for d in departments):
        return MinutesStatus.CONFIRMED
    return MinutesStatus.ISSUED


def _tell_organisers_of_objection(
    item: CollaborationItem, minutes: Minutes, confirmation: Confirmation
) -> None:
    def render() -> tuple[Text, str]:
        return (
            Text(
                gettext_noop('%(department)s objects to the minutes of "%(topic)s"'),
                department=str(confirmation.department),
                topic=item.topic,
            ),
            confirmation.reason,
        )

    tell(
        "minutes.objected",
        recipients=[item.requester, item.coordinator, minutes.meeting.organiser],
        render=render,
        url=reverse("requests_app:meeting_detail", args=[item.pk, minutes.meeting_id]),
        item=item,
        dedupe=f"confirmation:{confirmation.pk}",
    )


def _tell_parties_of_consensus(item: CollaborationItem) -> None:
    def render() -> tuple[Text, Text]:
        return (
            Text(gettext_noop('Consensus reached on "%(topic)s"'), topic=item.topic),
            Text(
                gettext_noop(
                    "Every participating department confirmed the minutes. "
                    "The coordinator now assigns the tasks."
                )
            ),
        )

    tell(
        "item.consensus",
        recipients=item_parties(item),
        render=render,
        url=reverse("requests_app:item_detail", args=[item.pk]),
        item=item,
        dedupe=f"item:{item.pk}:consensus:v{item.version}",
    )
