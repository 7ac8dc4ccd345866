"""Writes of stage 6's retrospective (复盘会) and of the process-improvement log (协作流程优化记录).

The item's requester or coordinator records the retrospective while the item is in execution
(its tasks need not all be done yet): date, participants, highlights, shortcomings and at least
one improvement measure. Each measure has one owner, a department and a due date, and is a row
of the company-wide log that anyone logged in can read; its owner or the item's coordinator
marks it done with a note.

A measure lives on after the item is archived: the archive is a snapshot of the collaboration,
the log follows the measure until it is done. So ``measure_complete`` is the one write that an
archived item does not refuse. Every write locks the item row first, saves, writes the audit row
(on the item, so its history tells the whole story) in the same transaction and tells the owner.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from collab.audit.services import audit_record
from collab.audit.texts import Date, Text
from collab.notify.handoffs import tell
from collab.notify.models import Urgency
from collab.notify.services import notify
from collab.org.models import Department, display_name
from requests_app.models import CollaborationItem, ItemStatus
from requests_app.rules import vague_wording_errors
from requests_app.services import ItemError, item_grant_view, require_open
from requests_app.transitions import transition
from reviews_app.access import COMPLETE_MEASURE, RECORD_RETROSPECTIVE
from reviews_app.archive_readiness import active_archive
from reviews_app.models import MEASURE_TRANSITIONS, ImprovementMeasure, MeasureStatus, Retrospective
from reviews_app.retro_selectors import ready_to_archive

MAX_MEASURES = 20
TEXT_MAX_LENGTH = 2000


@dataclass
class MeasureData:
    text: str
    owner_id: int
    department_id: int
    due_date: date


@dataclass
class RetrospectiveData:
    held_on: date
    participant_ids: list[int]
    highlights: str
    shortcomings: str
    measures: list[MeasureData] = field(default_factory=list)


# --- who may do what ------------------------------------------------------------------------------


# --- the rules ------------------------------------------------------------------------------------


def measure_problems(measure: MeasureData, *, held_on: date | None) -> list[str]:
    """What is wrong with one improvement measure, each message naming it."""
    text = measure.text.strip()
    if not text:
        return [_("Write what the improvement measure is.")]
    label = text if len(text) <= 30 else text[:30] + "…"
    problems = [
        _('Improvement "%(measure)s": %(message)s') % {"measure": label, "message": message}
        for message in vague_wording_errors(text)
    ]
    if len(text) > TEXT_MAX_LENGTH:
        problems.append(
            _('Improvement "%(measure)s" is longer than %(count)s characters.')
            % {"measure": label, "count": TEXT_MAX_LENGTH}
        )
    if held_on is not None and measure.due_date < held_on:
        problems.append(
            _('Improvement "%(measure)s": its due date %(due)s is before the retrospective (%(held)s).')
            % {"measure": label, "due": f"{measure.due_date:%Y-%m-%d}", "held": f"{held_on:%Y-%m-%d}"}
        )
    return problems


def retrospective_problems(
    data: RetrospectiveData, *, today: date, with_measures: bool = True
) -> dict[str, list[str]]:
    """What stops ``data`` from being recorded, by field name ("measures" for the measure rows)."""
    problems: dict[str, list[str]] = {}

    def add(name: str, messages: Iterable[str]) -> None:
        messages = list(messages)
        if messages:
            problems.setdefault(name, []).extend(messages)

    if data.held_on > today:
        add(
            "held_on",
            [
                _("The retrospective date %(date)s is in the future: record the meeting once it took place.")
                % {"date": f"{data.held_on:%Y-%m-%d}"}
            ],
        )
    if not data.participant_ids:
        add("participants", [_("Name at least one participant of the retrospective.")])
    for name in ("highlights", "shortcomings"):
        value = getattr(data, name).strip()
        if not value:
            add(name, [_("This field is required.")])
        elif len(value) > TEXT_MAX_LENGTH * 5:
            add(name, [_("At most %(count)s characters.") % {"count": TEXT_MAX_LENGTH * 5}])
    if with_measures:
        if not data.measures:
            add(
                "measures",
                [
                    _(
                        "Record at least one improvement measure: it is what the retrospective leaves "
                        "for the next collaboration."
                    )
                ],
            )
        if len(data.measures) > MAX_MEASURES:
            add("measures", [_("At most %(count)s improvement measures.") % {"count": MAX_MEASURES}])
        for measure in data.measures:
            add("measures", measure_problems(measure, held_on=data.held_on))
    return problems


# --- helpers --------------------------------------------------------------------------------------


def _lock_item(item_id: int) -> CollaborationItem:
    return CollaborationItem.objects.select_for_update(no_key=True).get(pk=item_id)


def _require_recorder(actor: Any, item: CollaborationItem) -> None:
    require_open(item)
    RECORD_RETROSPECTIVE.require(actor, item)
    if item.status != ItemStatus.EXECUTING:
        raise ItemError(_("The retrospective is recorded while the item is in execution."))
    # The archive being built is a snapshot of the retrospective: it must not change under it.
    if active_archive(item) is not None:
        raise ItemError(_("The archive of this item is being built: the retrospective cannot change now."))


def _check_people(participant_ids: Iterable[int], measures: Iterable[MeasureData]) -> None:
    """Every person named exists and is active, every department exists (a tampered form)."""
    measures = list(measures)
    wanted = set(participant_ids) | {m.owner_id for m in measures}
    found = set(get_user_model().objects.filter(pk__in=wanted, is_active=True).values_list("pk", flat=True))
    if wanted - found:
        raise ItemError(_("A person named in the retrospective does not exist or has left."))
    departments = {m.department_id for m in measures}
    if departments - set(Department.objects.filter(pk__in=departments).values_list("pk", flat=True)):
        raise ItemError(_("A department named in the retrospective does not exist."))


def _names(user_ids: Iterable[int]) -> str:
    users = get_user_model().objects.filter(pk__in=list(user_ids)).order_by("pk")
    return "、".join(display_name(u) for u in users)


def _measure_line(measure: ImprovementMeasure) -> str:
    return (
        f"{measure.text} ({display_name(measure.owner)}, {measure.department}, {measure.due_date:%Y-%m-%d})"
    )


def _create_measures(
    retrospective: Retrospective, measures: Iterable[MeasureData]
) -> list[ImprovementMeasure]:
    created = []
    for data in measures:
        measure = ImprovementMeasure.objects.create(
            retrospective=retrospective,
            text=data.text.strip(),
            owner_id=data.owner_id,
            department_id=data.department_id,
            due_date=data.due_date,
        )
        created.append(ImprovementMeasure.objects.select_related("owner", "department").get(pk=measure.pk))
    if created:  # a measure's owner may be outside the item: owning it, they see it
        item_grant_view(item=retrospective.item, user_ids=[measure.owner_id for measure in created])
    return created


def log_url(measure: ImprovementMeasure) -> str:
    """The measure's row in the improvement log, among the open ones of its owner."""
    return reverse("reviews_app:improvement_log") + f"?mine=on&status=open#measure-{measure.pk}"


def _tell_owner(measure: ImprovementMeasure, *, actor: Any, item: CollaborationItem) -> None:
    if measure.owner_id == actor.pk:
        return  # they wrote it down themselves

    def render() -> tuple[Text, Text]:
        return (
            Text(
                gettext_noop("An improvement measure of %(number)s %(topic)s is yours, due %(due)s"),
                number=item.number or "",
                topic=item.topic,
                due=Date(measure.due_date, "Y-m-d"),
            ),
            Text(gettext_noop("%(person)s: %(measure)s"), person=display_name(actor), measure=measure.text),
        )

    tell(
        "improvement.assigned",
        recipients=[measure.owner],
        render=render,
        url=log_url(measure),
        item=item,
        dedupe=f"improvement:{measure.pk}:assigned",
    )


# --- writes ---------------------------------------------------------------------------------------


@transaction.atomic
def retrospective_record(*, actor: Any, item_id: int, data: RetrospectiveData) -> Retrospective:
    """Records the item's retrospective with its improvement measures, and tells each owner.

    1. Lock the item; refuse an archived item, anyone but the requester and the coordinator, an
       item not in execution, a second retrospective and an archive being built.
    2. Check the rules (a past date, participants, highlights, shortcomings, measures that are
       specific and due after the meeting) and the people and departments named.
    3. Save the retrospective and its measures, write the audit row, tell each measure's owner.
    """
    item = _lock_item(item_id)
    _require_recorder(actor, item)
    if Retrospective.objects.filter(item=item).exists():
        raise ItemError(_("The retrospective of this item is already recorded: edit it instead."))
    problems = retrospective_problems(data, today=timezone.localdate())
    if problems:
        raise ItemError(_("The retrospective is not complete."), problems)
    _check_people(data.participant_ids, data.measures)
    retrospective = Retrospective.objects.create(
        item=item,
        held_on=data.held_on,
        highlights=data.highlights.strip(),
        shortcomings=data.shortcomings.strip(),
        recorded_by=actor,
    )
    retrospective.participants.set(data.participant_ids)
    measures = _create_measures(retrospective, data.measures)
    audit_record(
        actor=actor,
        action="retrospective.recorded",
        target=item,
        changes={
            "held_on": [None, f"{data.held_on:%Y-%m-%d}"],
            "participants": [None, _names(data.participant_ids)],
            "highlights": [None, retrospective.highlights],
            "shortcomings": [None, retrospective.shortcomings],
            "measures": [None, "\n".join(_measure_line(m) for m in measures)],
        },
    )
    for measure in measures:
        _tell_owner(measure, actor=actor, item=item)
    _tell_coordinator_to_archive(actor, item)
    return retrospective


def _tell_coordinator_to_archive(actor: Any, item: CollaborationItem) -> None:
    """Signed and reviewed in retrospect: the coordinator builds the archive and closes the item."""
    if actor.pk == item.coordinator_id or not ready_to_archive(CollaborationItem.objects.filter(pk=item.pk)):
        return
    tell(
        "item.archive_ready",
        recipients=[item.coordinator],
        render=lambda: (
            Text(
                gettext_noop("%(number)s %(topic)s is ready to archive"), number=item.number, topic=item.topic
            ),
            Text(
                gettext_noop(
                    "Every acceptance form is signed and the retrospective is recorded: build the archive."
                )
            ),
        ),
        url=reverse("reviews_app:archive", args=[item.pk]),
        item=item,
        dedupe=f"item:{item.pk}:archive_ready",
    )


@transaction.atomic
def retrospective_update(*, actor: Any, retrospective_id: int, data: RetrospectiveData) -> Retrospective:
    """Corrects the retrospective's date, participants, highlights or shortcomings (not its
    measures: they are in the log and assigned to people; add one with ``measure_add``)."""
    item_id = Retrospective.objects.values_list("item_id", flat=True).get(pk=retrospective_id)
    item = _lock_item(item_id)
    _require_recorder(actor, item)
    retrospective = Retrospective.objects.get(pk=retrospective_id)
    problems = retrospective_problems(data, today=timezone.localdate(), with_measures=False)
    if problems:
        raise ItemError(_("The retrospective is not complete."), problems)
    _check_people(data.participant_ids, [])
    before = {
        "held_on": f"{retrospective.held_on:%Y-%m-%d}",
        "participants": _names(retrospective.participants.values_list("pk", flat=True)),
        "highlights": retrospective.highlights,
        "shortcomings": retrospective.shortcomings,
    }
    after = {
        "held_on": f"{data.held_on:%Y-%m-%d}",
        "participants": _names(data.participant_ids),
        "highlights": data.highlights.strip(),
        "shortcomings": data.shortcomings.strip(),
    }
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if not changes:
        raise ItemError(_("Nothing was changed."))
    retrospective.held_on = data.held_on
    retrospective.highlights = after["highlights"]
    retrospective.shortcomings = after["shortcomings"]
    retrospective.save(update_fields=["held_on", "highlights", "shortcomings"])
    retrospective.participants.set(data.participant_ids)
    audit_record(actor=actor, action="retrospective.updated", target=item, changes=changes)
    return retrospective


@transaction.atomic
def measure_add(*, actor: Any, retrospective_id: int, data: MeasureData) -> ImprovementMeasure:
    """Adds an improvement measure to a recorded retrospective and tells its owner."""
    item_id = Retrospective.objects.values_list("item_id", flat=True).get(pk=retrospective_id)
    item = _lock_item(item_id)
    _require_recorder(actor, item)
    retrospective = Retrospective.objects.get(pk=retrospective_id)
    if retrospective.measures.count() >= MAX_MEASURES:
        raise ItemError(_("At most %(count)s improvement measures.") % {"count": MAX_MEASURES})
    problems = measure_problems(data, held_on=retrospective.held_on)
    if problems:
        raise ItemError(_("The improvement measure is not complete."), {"measure": problems})
    _check_people([], [data])
    (measure,) = _create_measures(retrospective, [data])
    audit_record(
        actor=actor,
        action="improvement.added",
        target=item,
        changes={"measure": [None, _measure_line(measure)]},
    )
    _tell_owner(measure, actor=actor, item=item)
    return measure


@transaction.atomic
def measure_complete(*, actor: Any, measure_id: int, note: str) -> ImprovementMeasure:
    """Marks a measure done, saying how; its owner or the item's coordinator does it.

    Allowed after the item is archived: the log tracks the measure until it is done.
    """
    item_id = ImprovementMeasure.objects.values_list("retrospective__item_id", flat=True).get(pk=measure_id)
    item = _lock_item(item_id)
    measure = (
        ImprovementMeasure.objects.select_for_update(no_key=True, of=("self",))
        .select_related("owner", "department")
        .get(pk=measure_id)
    )
    COMPLETE_MEASURE.require(actor, measure)
    if MeasureStatus.DONE not in MEASURE_TRANSITIONS[measure.status]:
        raise ItemError(_("This improvement measure is already done."))
    note = note.strip()
    if not note:
        raise ItemError(
            _("Say how the measure was carried out: the next collaboration reads it."),
            {"note": [_("This field is required.")]},
        )
    if len(note) > TEXT_MAX_LENGTH:
        raise ItemError(
            _("At most %(count)s characters.") % {"count": TEXT_MAX_LENGTH},
            {"note": [_("Too long.")]},
        )
    measure.done_at = timezone.now()
    measure.done_note = note
    transition(
        actor=actor,
        obj=measure,
        to=MeasureStatus.DONE,
        table=MEASURE_TRANSITIONS,
        item=item,
        action="improvement.done",
        fields=["done_at", "done_note"],
        changes={"measure": [measure.text, measure.text]},
        note=note,
        # The improvement log outlives the item: measures are carried out after it is archived.
        read_only_ok=True,
    )
    _tell_of_completion(measure, actor=actor, item=item)
    return measure


def _tell_of_completion(measure: ImprovementMeasure, *, actor: Any, item: CollaborationItem) -> None:
    """The owner hears when the coordinator closed their measure, the coordinator when the owner did."""
    other = item.coordinator if actor.pk == measure.owner_id else measure.owner
    if other.pk == actor.pk:
        return

    def render() -> tuple[Text, Text]:
        return (
            Text(gettext_noop('Improvement measure done: "%(measure)s"'), measure=measure.text),
            Text(gettext_noop("%(person)s: %(note)s"), person=display_name(actor), note=measure.done_note),
        )

    notify(
        recipients=[other],
        kind="improvement.done",
        render=render,
        url=reverse("reviews_app:improvement_log") + f"?status=done#measure-{measure.pk}",
        item=item,
        dedupe=f"improvement:{measure.pk}:done",
        urgency=Urgency.NORMAL,
    )
