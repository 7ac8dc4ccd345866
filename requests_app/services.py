"""Writes of stage 1: drafting, submitting and changing a requirement form.

Each service runs in one transaction that saves the change, writes the audit entry and keeps
the item's object permissions in step, so nobody sees a half-made item.
"""

import re
from collections.abc import Iterable
from datetime import datetime
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from guardian.models import GroupObjectPermission, UserObjectPermission
from guardian.shortcuts import assign_perm, remove_perm

from collab.audit.services import audit_record
from collab.audit.texts import Text
from collab.bulk import insert_rows
from collab.notify.handoffs import tell
from collab.org.models import Department, display_name
from collab.prepared_rows import row_by_key

# VIEW and CHANGE are re-exported: tests and older callers name them from here.
from requests_app.access import CHANGE as CHANGE
from requests_app.access import EDIT_FORM, forget_rights, people_given_work
from requests_app.access import VIEW as VIEW

# ItemError is re-exported: every stage names it from here.
from requests_app.errors import ItemError as ItemError
from requests_app.errors import StaleVersionError as StaleVersionError
from requests_app.health_facts import item_health_refresh
from requests_app.models import (
    ITEM_TRANSITIONS,
    Attachment,
    CollaborationItem,
    ItemNumberSequence,
    ItemStatus,
    ItemVisibility,
    Milestone,
    Participation,
    RequirementChange,
)
from requests_app.rules import (
    MilestoneData,
    ParticipationData,
    RequirementData,
    requirement_problems,
)
from requests_app.transitions import transition


def require_open(item: CollaborationItem) -> None:
    """An archived item is read-only: refuses it before a service starts writing (the audit
    writer refuses it again for every write, see ``CollaborationItem.require_writable``)."""
    item.require_writable()


def _require_editor(actor: Any, item: CollaborationItem) -> None:
    require_open(item)
    EDIT_FORM.require(actor, item)


def _item_to_lock(pk: int) -> QuerySet[CollaborationItem]:
    # FOR NO KEY UPDATE: writers of the item queue behind each other (as with FOR UPDATE), but
    # rows inserted meanwhile that name the item (a notification, a task, the sweep's warnings)
    # are not held up by their foreign key's FOR KEY SHARE. No write changes an item's id.
    return CollaborationItem.objects.select_for_update(no_key=True).filter(pk=pk).order_by()


def locked_item(item_id: int) -> CollaborationItem:
    """The item, row-locked for this transaction (the statement compiled once per connection:
    every write of a stage locks its item first, then the rows of the stage it changes)."""
    item = row_by_key(_item_to_lock, item_id)
    if item is None:
        raise CollaborationItem.DoesNotExist("CollaborationItem matching query does not exist.")
    return item


def lock_item(item_id: int, version: int) -> CollaborationItem:
    """The item, row-locked for this transaction, if nobody changed it since ``version``."""
    item = locked_item(item_id)
    if item.version != version:
        raise StaleVersionError(
            _(
                "Someone else changed this item while you were editing it. Nothing was saved: "
                "reload the page to see their change, then make yours again."
            )
        )
    return item


_FORM_FIELDS = ("topic", "scenario", "goal", "scope", "expected_outcome", "remarks")


def _snapshot(item: CollaborationItem) -> dict[str, str]:
    """The form's content as text, for change records and the audit log."""
    values = {name: str(getattr(item, name)) for name in _FORM_FIELDS}
    values["requesting_department"] = str(item.requesting_department)
    values["coordinator"] = display_name(item.coordinator)
    values["participations"] = "\n".join(
        f"{p.department}{f' ({p.role})' if p.role else ''}: {p.core_need}"
        for p in item.participations.select_related("department")
    )
    values["milestones"] = "\n".join(f"{m.due_date:%Y-%m-%d} {m.name}" for m in item.milestones.all())
    return values


def _diff(before: dict[str, str], after: dict[str, str]) -> dict[str, list[str | None]]:
    return {k: [before.get(k), after[k]] for k in after if (before.get(k) or "") != after[k]}


def _write_content(item: CollaborationItem, data: RequirementData) -> None:
    for name in _FORM_FIELDS:
        setattr(item, name, getattr(data, name).strip())
    item.requesting_department_id = data.requesting_department_id
    item.coordinator_id = data.coordinator_id
    item.last_milestone_due = max((m.due_date for m in data.milestones), default=None)
    item.save()
    item.participations.all().delete()
    Participation.objects.bulk_create(
        Participation(
            item=item, department_id=p.department_id, role=p.role.strip(), core_need=p.core_need.strip()
        )
        for p in data.participations
    )
    item.milestones.all().delete()
    Milestone.objects.bulk_create(
        Milestone(item=item, name=m.name.strip(), due_date=m.due_date) for m in data.milestones
    )
    item_health_refresh([item.pk])


@transaction.atomic
def item_create_draft(*, actor: Any, data: RequirementData) -> CollaborationItem:
    item = CollaborationItem(requester=actor)
    _write_content(item, data)
    item_sync_permissions(item=item)
    audit_record(actor=actor, action="item.created", target=item, changes=_diff({}, _snapshot(item)))
    return item


@transaction.atomic
def item_update_draft(*, actor: Any, item_id: int, version: int, data: RequirementData) -> CollaborationItem:
    item = lock_item(item_id, version)
    _require_editor(actor, item)
    if not item.is_draft:
        raise ItemError(_("A submitted requirement form changes only through a recorded change."))
    before = _snapshot(item)
    item.version += 1
    _write_content(item, data)
    item_sync_permissions(item=item)
    audit_record(actor=actor, action="item.updated", target=item, changes=_diff(before, _snapshot(item)))
    return item


def _next_number(period: str) -> str:
    """The next free register number of the month ``period`` ("YYYYMM"): 20231001, 20231002, ...

    1. Lock (or create) the month's sequence row; concurrent submitters queue here.
    2. Step past numbers already taken by imported or seeded items.
    3. Store the last number handed out; the caller's transaction commits it with the item.
    """
    ItemNumberSequence.objects.get_or_create(period=period)
    sequence = ItemNumberSequence.objects.select_for_update().get(period=period)
    n = sequence.last
    while True:
        n += 1
        candidate = f"{period}{n:02d}"
        if not CollaborationItem.objects.filter(number=candidate).exists():
            break
    ItemNumberSequence.objects.filter(period=period).update(last=n)
    return candidate


@transaction.atomic
def item_submit(*, actor: Any, item_id: int, version: int) -> CollaborationItem:
    item = lock_item(item_id, version)
    _require_editor(actor, item)
    if not item.can_move_to(ItemStatus.SUBMITTED):
        raise ItemError(_("This requirement form has already been submitted."))
    problems = requirement_problems(item_requirement_data(item))
    if problems:
        raise ItemError(_("The requirement form is not ready to submit."), problems)
    now = timezone.now()
    item.number = _next_number(timezone.localtime(now).strftime("%Y%m"))
    item.submitted_at = now
    transition(
        actor=actor,
        obj=item,
        to=ItemStatus.SUBMITTED,
        table=ITEM_TRANSITIONS,
        item=item,
        action="item.submitted",
        fields=["number", "submitted_at"],
        changes={"number": [None, item.number]},
    )
    item_sync_permissions(item=item)
    _tell_coordinator_of_submission(actor, item)
    return item


def _tell_coordinator_of_submission(actor: Any, item: CollaborationItem) -> None:
    """The coordinator schedules the consensus meeting next (urgent for emergencies)."""
    if item.coordinator_id == actor.pk:
        return

    def render() -> tuple[Text, Text]:
        return (
            Text(
                gettext_noop("%(number)s %(topic)s is submitted: please schedule the consensus meeting"),
                number=item.number,
                topic=item.topic,
            ),
            Text(
                gettext_noop("%(person)s named you coordinator of this collaboration."),
                person=display_name(actor),
            ),
        )

    tell(
        "item.submitted",
        recipients=[item.coordinator],
        render=render,
        url=reverse("requests_app:item_detail", args=[item.pk]),
        item=item,
        dedupe=f"item:{item.pk}:submitted",
    )


@transaction.atomic
def item_change_requirement(
    *, actor: Any, item_id: int, version: int, data: RequirementData, reason: str | Text
) -> RequirementChange:
    """Changes a submitted form; the change is recorded with its reason and the old values.

    ``reason`` is what the person wrote, or a ``Text`` when the system changes the form (the
    minutes moved the milestones): stored untranslated, read in each reader's language."""
    item = lock_item(item_id, version)
    _require_editor(actor, item)
    if item.is_draft:
        raise ItemError(_("A draft is edited directly; there is nothing to record yet."))
    if not isinstance(reason, Text):
        reason = reason.strip()
    if not reason:
        raise ItemError(_("Say why the requirement changes: every party will read it."))
    problems = requirement_problems(data)
    if problems:
        raise ItemError(_("The changed requirement breaks the template's rules."), problems)
    before = _snapshot(item)
    item.version += 1
    _write_content(item, data)
    changes = _diff(before, _snapshot(item))
    if not changes:
        raise ItemError(_("Nothing was changed."))
    item_sync_permissions(item=item)
    reason_text = reason.as_json() if isinstance(reason, Text) else None
    with translation.override(settings.LANGUAGE_CODE):
        written = str(reason)
    change = RequirementChange.objects.create(
        item=item, actor=actor, reason=written, reason_text=reason_text, changes=changes, version=item.version
    )
    audit_record(actor=actor, action="item.requirement_changed", target=item, changes=changes, note=reason)
    _tell_parties_of_change(item, change)
    return change


def _tell_parties_of_change(item: CollaborationItem, change: RequirementChange) -> None:
    """Every party hears of a requirement change: the template's retrospective names unsynced
    changes as the failure to prevent."""
    from collab.notify.services import notify, urgency_for_item
    from requests_app.selectors import item_parties

    def render() -> tuple[Text, Text]:
        return (
            Text(gettext_noop('The requirement of "%(topic)s" changed'), topic=item.topic),
            Text(
                gettext_noop("%(person)s: %(reason)s"),
                person=display_name(change.actor),
                reason=change.reason_text or change.reason,
            ),
        )

    notify(
        recipients=[p for p in item_parties(item) if p.pk != change.actor_id],
        kind="item.requirement_changed",
        render=render,
        url=reverse("requests_app:item_detail", args=[item.pk]),
        item=item,
        dedupe=f"requirement_change:{change.pk}",
        # Never only in tomorrow's digest: a change that waits is the failure the template names.
        urgency="instant" if urgency_for_item(item) == "instant" else "normal",
    )


def item_requirement_data(item: CollaborationItem) -> RequirementData:
    return RequirementData(
        topic=item.topic,
        scenario=item.scenario,
        goal=item.goal,
        scope=item.scope,
        expected_outcome=item.expected_outcome,
        requesting_department_id=item.requesting_department_id,
        coordinator_id=item.coordinator_id,
        remarks=item.remarks,
        participations=[
            ParticipationData(p.department_id, p.role, p.core_need) for p in item.participations.all()
        ],
        milestones=[MilestoneData(m.name, m.due_date) for m in item.milestones.all()],
    )


def check_upload(upload: UploadedFile) -> None:
    name = upload.name or ""
    extension = PurePath(name).suffix.lower().lstrip(".")
    if extension not in settings.COLLAB_ALLOWED_UPLOAD_EXTENSIONS:
        raise ItemError(
            _('"%(name)s" cannot be attached: allowed file types are %(types)s.')
            % {"name": name, "types": ", ".join(settings.COLLAB_ALLOWED_UPLOAD_EXTENSIONS)}
        )
    if (upload.size or 0) > settings.COLLAB_MAX_UPLOAD_MB * 1024 * 1024:
        raise ItemError(
            _('"%(name)s" is larger than %(limit)s MB.')
            % {"name": name, "limit": settings.COLLAB_MAX_UPLOAD_MB}
        )


@transaction.atomic
def attachment_add(*, actor: Any, item_id: int, upload: UploadedFile) -> Attachment:
    item = locked_item(item_id)
    _require_editor(actor, item)
    check_upload(upload)
    attachment = Attachment(
        item=item, original_name=upload.name or "", size=upload.size or 0, uploaded_by=actor
    )
    attachment.file.save(upload.name or "file", upload, save=False)
    try:
        attachment.save()
        audit_record(
            actor=actor,
            action="attachment.added",
            target=item,
            changes={"attachment": [None, attachment.original_name]},
        )
    except Exception:
        attachment.file.delete(save=False)  # no stored file without its row
        raise
    return attachment


@transaction.atomic
def attachment_remove(*, actor: Any, attachment_id: int) -> None:
    attachment = Attachment.objects.select_related("item").get(pk=attachment_id)
    item = locked_item(attachment.item_id)
    _require_editor(actor, item)
    if not item.is_draft:
        raise ItemError(_("Attachments of a submitted form are kept; add a corrected file instead."))
    name = attachment.original_name
    stored = attachment.file.name or ""
    attachment.delete()
    audit_record(actor=actor, action="attachment.removed", target=item, changes={"attachment": [name, None]})
    storage = attachment.file.storage
    transaction.on_commit(lambda: storage.delete(stored))


def item_sync_permissions(*, item: CollaborationItem) -> None:
    """Grants exactly what the item's roles allow, and takes back what they no longer do.

    - requester and coordinator: view and change (they edit the form, run meetings, plan tasks);
    - meeting invitees and the owners, collaborators and receivers of tasks: view;
    - once submitted, the groups of the requesting and participating departments (their members
      and heads): view. A draft stays between its requester and coordinator.
    """
    forget_rights(item)
    editors = {item.requester_id, item.coordinator_id}
    viewers = editors | people_given_work(item)
    for codename, wanted in (("view_collaborationitem", viewers), ("change_collaborationitem", editors)):
        current = set(
            UserObjectPermission.objects.filter(
                object_pk=str(item.pk),
                permission__codename=codename,
                content_type__model="collaborationitem",
            ).values_list("user_id", flat=True)
        )
        _apply(f"requests_app.{codename}", item, users=wanted, current=current, kind="user")
    viewer_groups: set[int] = set()
    department_ids: set[int] = set()
    if not item.is_draft:
        department_ids = {item.requesting_department_id} | set(
            item.participations.values_list("department_id", flat=True)
        )
        viewer_groups = set(
            Department.objects.filter(pk__in=department_ids).values_list("group_id", flat=True)
        )
    current_groups = set(
        GroupObjectPermission.objects.filter(
            object_pk=str(item.pk),
            permission__codename="view_collaborationitem",
            content_type__model="collaborationitem",
        ).values_list("group_id", flat=True)
    )
    _apply(VIEW, item, users=viewer_groups, current=current_groups, kind="group")
    _sync_visibility(item, users=viewers, department_ids=department_ids)


def item_grant_view(*, item: CollaborationItem, user_ids: Iterable[int | None]) -> None:
    """Lets people newly given work on ``item`` see it: a new task's owner, collaborators and
    receiver, a meeting's invitees, an improvement measure's owner.

    Only for writes that add people and take nobody's part away; anything that can take a right
    away (a task's owner replaced, a department leaving, a draft submitted) runs the full
    ``item_sync_permissions``. Adding a person to ``people_given_work`` adds exactly one view
    row and one ItemVisibility row for that person to what the full sync wants, so as long as the
    rows were in step before, they are in step after (``tests/test_grant_view.py``
    runs the full sync after each such write and finds nothing to change).

    Three queries whatever the item's size: the permission's id, then one INSERT per table. A
    person who already sees the item is skipped by the tables' unique constraints (ON CONFLICT
    DO NOTHING) instead of by reading the item's rows first, which also keeps two writers of the
    same item from tripping over each other's grant.
    """
    people = sorted({pk for pk in user_ids if pk is not None})
    if not people:
        return
    forget_rights(item)
    content_type = ContentType.objects.get_for_model(CollaborationItem)
    permission_id = row_by_key(_view_permission, content_type.pk)
    insert_rows(
        UserObjectPermission,
        ("permission_id", "content_type_id", "object_pk", "user_id"),
        [(permission_id, content_type.pk, str(item.pk), pk) for pk in people],
        ignore_conflicts=True,
    )
    insert_rows(
        ItemVisibility, ("item_id", "user_id"), [(item.pk, pk) for pk in people], ignore_conflicts=True
    )


def _view_permission(content_type_id: int) -> QuerySet[Any]:
    return Permission.objects.filter(
        content_type_id=content_type_id, codename="view_collaborationitem"
    ).values_list("pk", flat=True)


def _sync_visibility(item: CollaborationItem, *, users: set[int], department_ids: set[int]) -> None:
    """Mirrors the view permissions into ItemVisibility, the rows ``visible_items`` joins."""
    current = set(ItemVisibility.objects.filter(item=item).values_list("department_id", "user_id"))
    wanted = {(pk, None) for pk in department_ids} | {(None, pk) for pk in users}
    if stale := current - wanted:
        stale_departments = [d for d, _u in stale if d is not None]
        stale_users = [u for _d, u in stale if u is not None]
        ItemVisibility.objects.filter(item=item).filter(
            Q(department_id__in=stale_departments) | Q(user_id__in=stale_users)
        ).delete()
    ItemVisibility.objects.bulk_create(
        ItemVisibility(item=item, department_id=d, user_id=u) for d, u in wanted - current
    )


def item_transition(
    *,
    actor: Any,
    item: CollaborationItem,
    to: str,
    note: str | Text = "",
    action: str = "item.status_changed",
) -> None:
    """Moves a row-locked item along ITEM_TRANSITIONS, with its audit entry; illegal moves raise.

    Closing (EXECUTING → CLOSED) is the one write the closed state allows itself: the archive
    build closes the item and records it. ``action`` names the move in the history when it is
    more than a change of stage (the archive build: "item.archived").
    """
    transition(
        actor=actor,
        obj=item,
        to=to,
        table=ITEM_TRANSITIONS,
        item=item,
        action=action,
        note=note,
        refusal=_('This item cannot move from "%(current)s" to "%(target)s".')
        % {"current": item.get_status_display(), "target": ItemStatus(to).label},
    )


def _apply(perm: str, item: CollaborationItem, *, users: Iterable[int], current: set[int], kind: str) -> None:
    model = get_user_model() if kind == "user" else Group
    wanted = set(users)
    add, drop = wanted - current, current - wanted
    if add:
        assign_perm(perm, model.objects.filter(pk__in=add), item)
    for obj in model.objects.filter(pk__in=drop):
        remove_perm(perm, obj, item)


NUMBER_FORMAT = re.compile(r"[0-9]{6}[0-9]{2,10}")


@transaction.atomic
def item_register_existing(
    *, actor: Any, requester: Any, data: RequirementData, number: str, submitted_at: datetime
) -> CollaborationItem:
    """Enters an item that was already filed elsewhere (an existing paper or Excel register).

    It keeps its own register number and submission time; the rules of the form still apply.
    """
    if not NUMBER_FORMAT.fullmatch(number):
        raise ItemError(_('"%(number)s" is not a register number such as 20231001.') % {"number": number})
    if CollaborationItem.objects.filter(number=number).exists():
        raise ItemError(_("Item number %(number)s is already in the register.") % {"number": number})
    problems = requirement_problems(data)
    if problems:
        raise ItemError(_("The requirement form is not ready to submit."), problems)
    # Entered as submitted: its register number and time come from the register it was filed in.
    item = CollaborationItem(
        requester=requester, number=number, status=ItemStatus.SUBMITTED, submitted_at=submitted_at
    )
    _write_content(item, data)
    item_sync_permissions(item=item)
    audit_record(
        actor=actor,
        action="item.registered",
        target=item,
        changes=_diff({}, _snapshot(item)) | {"number": [None, number]},
    )
    return item
