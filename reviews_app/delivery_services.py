"""Writes of stage 5: delivering results and their acceptance (成果交付与反馈 → 《成果验收表》).

The task's owner submits a deliverable (files and a note) to the task's receiver, who reviews it
within one working day of the receiver's calendar: accepts it, or asks for changes with comments,
and the owner submits revised versions until it is accepted. Then both sides sign the acceptance
form online (password again, IP address, digests of the content and files). The second signature
locks the form and completes the task.

Every service locks the item row, then the deliverable row (always in that order, so two writes
queue instead of deadlocking), refuses a locked form and an item that is not in execution, moves
the status along DELIVERABLE_TRANSITIONS, writes the audit row in the same transaction and tells
the other side.
"""

import base64
import binascii
import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from collab.audit.services import audit_record
from collab.audit.texts import Choice, DateTime, Joined, Text
from collab.lib.workdays import Calendar
from collab.notify.handoffs import tell
from collab.notify.models import Urgency
from collab.notify.services import notify, urgency_for_item
from collab.org import throttle
from collab.org.calendar import calendar_for
from collab.org.models import display_name
from collab.org.signin.pin import signing_secret_valid
from collab.prepared_rows import prefetched, prepared, row_by_key, save_fields
from requests_app.health_facts import item_health_refresh
from requests_app.models import CollaborationItem, ItemStatus
from requests_app.services import ItemError, check_upload, locked_item, require_open
from requests_app.transitions import transition
from reviews_app.acceptance import (
    acceptance_digests,
    accepted_snapshot,
    accepted_version,
    recorded_files_digest,
    snapshot_agrees,
)
from reviews_app.access import DELIVER, REVIEW, REVISE
from reviews_app.models import (
    DELIVERABLE_TRANSITIONS,
    Deliverable,
    DeliverableFile,
    DeliverableStatus,
    DeliverableVersion,
    ReviewDecision,
    Signature,
    SignerRole,
)
from reviews_app.retro_selectors import awaiting_retrospective
from tasks_app import alerts
from tasks_app.models import Task, TaskStatus
from tasks_app.tracking_services import task_transition

REVIEW_WORKING_DAYS = 1  # the template: the receiver reviews within 1 working day
MAX_FILES_PER_VERSION = 20
NAME_MAX_LENGTH = 200

# The handwritten signature: a PNG data URL from the page's canvas, bounded in size.
DRAWING_PREFIX = "data:image/png;base64,"
DRAWING_MAX_CHARS = 200_000
DRAWING_MAX_PIXELS = (2000, 1000)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass
class DeliverableData:
    name: str
    note: str = ""


# --- helpers ----------------------------------------------------------------------------------


def review_calendar(receiver: Any) -> Calendar:
    """The receiver's calendar: the review's working day is theirs (region, holidays, hours)."""
    person = getattr(receiver, "person", None)
    return calendar_for(person.region if person is not None else None)


def review_due(receiver: Any, submitted_at: datetime, calendar: Calendar | None = None) -> datetime:
    """One working day of the receiver's, due inside their working hours (not at 21:00)."""
    calendar = calendar or review_calendar(receiver)
    return calendar.in_working_time(calendar.add_working_days(submitted_at, REVIEW_WORKING_DAYS))


# The reads of every write below, compiled once per connection (collab.prepared_rows).


def _item_of_deliverable(pk: int) -> QuerySet[Any]:
    return Deliverable.objects.filter(pk=pk).order_by().values_list("task__item_id", flat=True)


def _deliverable_to_lock(pk: int) -> QuerySet[Deliverable]:
    # The people with their persons: the notification after the write is in their language.
    # The task is locked too: its status follows the deliverable's (``_task_follows``).
    return (
        Deliverable.objects.select_for_update(no_key=True, of=("self", "task"))
        .select_related("task", "deliverer__person", "receiver__person__region")
        .filter(pk=pk)
        .order_by()
    )


def _item_of_task(pk: int) -> QuerySet[Any]:
    return Task.objects.filter(pk=pk).order_by().values_list("item_id", flat=True)


def _task_to_lock(pk: int) -> QuerySet[Task]:
    # Locked after its item, as _task_follows would; its receiver's calendar comes along.
    return (
        Task.objects.select_for_update(no_key=True, of=("self",))
        .select_related("receiver__person__region")
        .filter(pk=pk)
        .order_by()
    )


def _statuses_of_task(pk: int) -> QuerySet[Any]:
    return Deliverable.objects.filter(task_id=pk).order_by().values_list("status", flat=True)


def _versions_of(pk: int) -> QuerySet[DeliverableVersion]:
    return DeliverableVersion.objects.filter(deliverable_id=pk)


def _files_of(pk: int) -> QuerySet[DeliverableFile]:
    return DeliverableFile.objects.filter(version__deliverable_id=pk)


def _signatures_of(pk: int) -> QuerySet[Signature]:
    return Signature.objects.select_related("signer__person").filter(deliverable_id=pk)


def _with_versions(deliverable: Deliverable, *, signatures: bool = False) -> list[DeliverableVersion]:
    """The row-locked deliverable's versions with their files (and its signatures), read by
    prepared statements and handed to it as ``acceptance_queryset`` would prefetch them: what
    the acceptance form's functions read (``reviews_app.acceptance``). Returns the versions."""
    versions: list[DeliverableVersion] = prepared(_versions_of).all(deliverable.pk)
    files: dict[int, list[DeliverableFile]] = {version.pk: [] for version in versions}
    for file in prepared(_files_of).all(deliverable.pk):
        files[file.version_id].append(file)
    for version in versions:
        prefetched(version, "files", files[version.pk])
    prefetched(deliverable, "versions", versions)
    if signatures:
        prefetched(deliverable, "signatures", prepared(_signatures_of).all(deliverable.pk))
    return versions


def _found(row: Any, model: type[Any]) -> Any:
    if row is None:
        raise model.DoesNotExist(f"{model.__name__} matching query does not exist.")
    return row


def _lock(deliverable_id: int) -> tuple[CollaborationItem, Deliverable]:
    """The item, then the deliverable with its task, row-locked in that order for this transaction."""
    item_id = _found(row_by_key(_item_of_deliverable, deliverable_id), Deliverable)
    item = locked_item(item_id)
    deliverable: Deliverable = _found(row_by_key(_deliverable_to_lock, deliverable_id), Deliverable)
    deliverable.task.item = item
    return item, deliverable


def _require_executing(item: CollaborationItem) -> None:
    require_open(item)
    if item.status != ItemStatus.EXECUTING:
        raise ItemError(_("Deliverables are submitted, reviewed and signed while the item is in execution."))


def _refuse_locked(deliverable: Deliverable) -> None:
    if deliverable.locked_at is not None:
        raise ItemError(
            _("This acceptance form is signed by both sides and locked: nothing on it can change.")
        )


def _transition(
    deliverable: Deliverable,
    to: str,
    *,
    actor: Any,
    action: str,
    changes: dict[str, Any],
    note: str = "",
    fields: Sequence[str] = (),
) -> None:
    """Moves a row-locked deliverable along DELIVERABLE_TRANSITIONS (through the one door, which
    writes the audit row), then lets its task follow."""
    transition(
        actor=actor,
        obj=deliverable,
        to=to,
        table=DELIVERABLE_TRANSITIONS,
        item=deliverable.task.item,
        action=action,
        fields=fields,
        changes=changes,
        note=note,
        refusal=_('This deliverable cannot move from "%(current)s" to "%(target)s".')
        % {"current": deliverable.get_status_display(), "target": DeliverableStatus(to).label},
    )
    _task_follows(actor=actor, task_id=deliverable.task_id, deliverable=deliverable, task=deliverable.task)
    item_health_refresh([deliverable.task.item_id])


def _task_follows(*, actor: Any, task_id: int, deliverable: Deliverable, task: Task | None = None) -> None:
    """The task's status follows its deliverables (stage 5 decides these three, never a report):

    - a deliverable signed by both sides: done, 100 %, no more warnings (a done task stays done);
    - else one in review or accepted and awaiting signatures: "delivered, under review";
    - else (changes requested on every one): back in progress.
    """
    # ``task``: the caller's, already row-locked with its item.
    task = task or Task.objects.select_for_update(no_key=True).select_related("item").get(pk=task_id)
    if task.status == TaskStatus.DONE:
        return
    statuses = set(prepared(_statuses_of_task).all(task_id))
    fields: list[str] = []
    if DeliverableStatus.SIGNED in statuses:
        task.percent_done, task.done_at = 100, timezone.now()
        to, action, fields = TaskStatus.DONE, "task.delivered", ["percent_done", "done_at"]
    elif statuses & {DeliverableStatus.IN_REVIEW, DeliverableStatus.ACCEPTED}:
        to, action = TaskStatus.DELIVERED, "task.under_review"
    else:
        to, action = TaskStatus.IN_PROGRESS, "task.changes_requested"
    if to == task.status or (to == TaskStatus.IN_PROGRESS and task.status != TaskStatus.DELIVERED):
        return
    task_transition(actor=actor, task=task, to=to, action=action, note=deliverable.name, fields=fields)
    if to == TaskStatus.DONE:
        alerts.cancel_alerts(task)
    elif to == TaskStatus.IN_PROGRESS:
        alerts.plan_alerts(task)  # back to work: the deadline and report warnings apply again


def _check_uploads(uploads: Sequence[UploadedFile]) -> None:
    if not uploads:
        raise ItemError(_("Attach the deliverable's files."), {"uploads": [_("Choose at least one file.")]})
    if len(uploads) > MAX_FILES_PER_VERSION:
        raise ItemError(
            _("A version holds at most %(count)s files.") % {"count": MAX_FILES_PER_VERSION},
            {"uploads": [_("Fewer files, please (put many small files in one ZIP).")]},
        )
    for upload in uploads:
        check_upload(upload)


def _sha256(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def _add_version(
    deliverable: Deliverable,
    *,
    actor: Any,
    note: str,
    uploads: Sequence[UploadedFile],
    calendar: Calendar,
    first: bool = False,
) -> tuple[DeliverableVersion, list[DeliverableFile]]:
    """A new version with its files (returned too), due for review one working day from now in
    the receiver's ``calendar``; the ``first`` of a new deliverable is number 1.

    Files are stored under neutral names (see deliverable_file_path); a failure removes the ones
    already stored, so no stored file is left without its row.
    """
    last = 0 if first else deliverable.versions.aggregate(last=Max("number"))["last"] or 0
    now = timezone.now()
    version = DeliverableVersion.objects.create(
        deliverable=deliverable,
        number=last + 1,
        note=note.strip(),
        submitted_by=actor,
        review_due_at=review_due(deliverable.receiver, now, calendar),
    )
    stored: list[DeliverableFile] = []
    try:
        for upload in uploads:
            file = DeliverableFile(
                version=version,
                original_name=(upload.name or "file")[:255],
                size=upload.size or 0,
                sha256=_sha256(upload),
            )
            file.file.save(upload.name or "file", upload, save=False)
            stored.append(file)
            file.save()
    except Exception:
        for file in stored:
            file.file.delete(save=False)
        raise
    return version, stored


def _detail_url(deliverable: Deliverable) -> str:
    return reverse("reviews_app:deliverable_detail", args=[deliverable.task.item_id, deliverable.pk])


def _prompt_urgency(item: CollaborationItem) -> str:
    # A review is due within one working day: never only in tomorrow's digest.
    return Urgency.INSTANT if urgency_for_item(item) == Urgency.INSTANT else Urgency.NORMAL


def _due_text(version: DeliverableVersion, calendar: Calendar) -> DateTime:
    local = timezone.localtime(version.review_due_at, calendar.tz)
    return DateTime(local, "Y-m-d H:i")


# --- submitting and revising ------------------------------------------------------------------


@transaction.atomic
def deliverable_submit(
    *, actor: Any, task_id: int, data: DeliverableData, uploads: Sequence[UploadedFile]
) -> Deliverable:
    """The task's owner submits a deliverable to the task's receiver (version 1)."""
    item = locked_item(_found(row_by_key(_item_of_task, task_id), Task))
    # Locked after its item, as _task_follows would: it follows the new deliverable below.
    task: Task = _found(row_by_key(_task_to_lock, task_id), Task)
    task.item = item
    _require_executing(item)
    DELIVER.require(actor, task)
    if task.receiver_id == task.owner_id:  # the task rules forbid it; two sides sign the form
        raise ItemError(
            _("The receiver reviews and accepts the owner's deliverable, so it must be someone else.")
        )
    name = data.name.strip()
    if not name:
        raise ItemError(_("Name the deliverable."), {"name": [_("This field is required.")]})
    if len(name) > NAME_MAX_LENGTH:
        raise ItemError(
            _("Name the deliverable in at most %(count)s characters.") % {"count": NAME_MAX_LENGTH},
            {"name": [_("Too long.")]},
        )
    _check_uploads(uploads)
    deliverable = Deliverable.objects.create(
        task=task,
        name=name,
        deliverer=actor,
        receiver=task.receiver,
        acceptance_criteria=task.delivery_standard,
        status=DeliverableStatus.IN_REVIEW,
    )
    calendar = review_calendar(task.receiver)
    version, files = _add_version(
        deliverable, actor=actor, note=data.note, uploads=uploads, calendar=calendar, first=True
    )
    audit_record(
        actor=actor,
        action="deliverable.submitted",
        target=item,
        changes={
            "task": [None, task.name],
            "deliverable": [None, deliverable.name],
            "version": [None, str(version.number)],
            "files": [None, ", ".join(f.original_name for f in files)],
        },
        note=version.note,
    )
    _task_follows(actor=actor, task_id=task.pk, deliverable=deliverable, task=task)
    item_health_refresh([item.pk])
    _ask_for_review(deliverable, version, calendar)
    return deliverable


@transaction.atomic
def deliverable_revise(
    *, actor: Any, deliverable_id: int, note: str, uploads: Sequence[UploadedFile]
) -> DeliverableVersion:
    """The deliverer answers the receiver's feedback with a revised version."""
    item, deliverable = _lock(deliverable_id)
    _refuse_locked(deliverable)
    _require_executing(item)
    REVISE.require(actor, deliverable)
    if deliverable.status != DeliverableStatus.CHANGES_REQUESTED:
        raise ItemError(_("A revised version answers a request for changes; this deliverable has none open."))
    if not note.strip():
        raise ItemError(
            _("Say what changed since the last version: the receiver reviews against it."),
            {"note": [_("This field is required.")]},
        )
    _check_uploads(uploads)
    calendar = review_calendar(deliverable.receiver)
    version, files = _add_version(deliverable, actor=actor, note=note, uploads=uploads, calendar=calendar)
    _transition(
        deliverable,
        DeliverableStatus.IN_REVIEW,
        actor=actor,
        action="deliverable.revised",
        changes={
            "deliverable": [deliverable.name, deliverable.name],
            "version": [str(version.number - 1), str(version.number)],
            "files": [None, ", ".join(f.original_name for f in files)],
        },
        note=version.note,
    )
    _ask_for_review(deliverable, version, calendar)
    return version


def _ask_for_review(deliverable: Deliverable, version: DeliverableVersion, calendar: Calendar) -> None:
    item = deliverable.task.item

    def render() -> tuple[Text, Joined]:
        due = _due_text(version, calendar)
        if version.number == 1:
            title = Text(
                gettext_noop('Please review "%(deliverable)s" by %(due)s'),
                deliverable=deliverable.name,
                due=due,
            )
        else:
            title = Text(
                gettext_noop('Please review version %(number)s of "%(deliverable)s" by %(due)s'),
                number=version.number,
                deliverable=deliverable.name,
                due=due,
            )
        body = Text(
            gettext_noop("Submitted by %(person)s. Acceptance criteria: %(criteria)s"),
            person=display_name(deliverable.deliverer),
            criteria=deliverable.acceptance_criteria,
        )
        return title, Joined([body, version.note] if version.note else [body])

    tell(
        "deliverable.submitted",
        recipients=[deliverable.receiver],
        render=render,
        url=_detail_url(deliverable),
        item=item,
        dedupe=f"deliverable:{deliverable.pk}:v{version.number}:submitted",
    )


# --- the review ---------------------------------------------------------------------------------


def deliverable_accept(
    *, actor: Any, deliverable_id: int, version_number: int, comments: str = ""
) -> DeliverableVersion:
    """The receiver accepts the version they reviewed; both sides sign next."""
    return _review(
        actor=actor,
        deliverable_id=deliverable_id,
        version_number=version_number,
        decision=ReviewDecision.ACCEPTED,
        comments=comments,
    )


def deliverable_request_changes(
    *, actor: Any, deliverable_id: int, version_number: int, comments: str
) -> DeliverableVersion:
    """The receiver sends the version back with comments (e.g. "第3章用例结果描述不清晰,需补充截图")."""
    return _review(
        actor=actor,
        deliverable_id=deliverable_id,
        version_number=version_number,
        decision=ReviewDecision.CHANGES_REQUESTED,
        comments=comments,
    )


@transaction.atomic
def _review(
    *, actor: Any, deliverable_id: int, version_number: int, decision: str, comments: str
) -> DeliverableVersion:
    item, deliverable = _lock(deliverable_id)
    _refuse_locked(deliverable)
    _require_executing(item)
    REVIEW.require(actor, deliverable)
    if deliverable.status != DeliverableStatus.IN_REVIEW:
        raise ItemError(_("This deliverable is not waiting for a review."))
    versions = _with_versions(deliverable)
    latest = max(versions, key=lambda version: version.number) if versions else None
    if latest is None or latest.number != version_number or latest.decision:
        raise ItemError(
            _("Version %(number)s is not the one waiting for review: reload the page and review the latest.")
            % {"number": version_number}
        )
    if decision not in ReviewDecision.values:
        raise ItemError(_("Accept the deliverable or request changes."))
    if decision == ReviewDecision.CHANGES_REQUESTED and not comments.strip():
        raise ItemError(
            _("Say what must change, so the deliverer can revise it."),
            {"comments": [_("This field is required.")]},
        )
    latest.decision = decision
    latest.comments = comments.strip()
    latest.reviewed_by = actor
    latest.reviewed_at = timezone.now()
    fields = ["decision", "comments", "reviewed_by", "reviewed_at"]
    if decision == ReviewDecision.ACCEPTED:
        # The form's content as accepted: what both sides sign, whatever changes later.
        latest.accepted_content = accepted_snapshot(deliverable, latest)
        fields.append("accepted_content")
    save_fields(latest, fields)
    _transition(
        deliverable,
        DeliverableStatus.ACCEPTED
        if decision == ReviewDecision.ACCEPTED
        else DeliverableStatus.CHANGES_REQUESTED,
        actor=actor,
        action="deliverable.reviewed",
        changes={
            "deliverable": [deliverable.name, deliverable.name],
            "decision": [None, Choice(ReviewDecision, decision)],
        },
        note=latest.comments,
    )
    _tell_deliverer_of_review(deliverable, latest)
    return latest


def _tell_deliverer_of_review(deliverable: Deliverable, version: DeliverableVersion) -> None:
    item = deliverable.task.item

    def render() -> tuple[Text, Text]:
        person = display_name(deliverable.receiver)
        if version.decision == ReviewDecision.ACCEPTED:
            title = Text(
                gettext_noop('"%(deliverable)s" is accepted: please sign the acceptance form'),
                deliverable=deliverable.name,
            )
        else:
            title = Text(
                gettext_noop('Changes requested on version %(number)s of "%(deliverable)s"'),
                number=version.number,
                deliverable=deliverable.name,
            )
        if version.comments:
            body = Text(gettext_noop("%(person)s: %(comments)s"), person=person, comments=version.comments)
        else:
            body = Text(gettext_noop("Reviewed by %(person)s."), person=person)
        return title, body

    accepted = version.decision == ReviewDecision.ACCEPTED
    tell(
        "deliverable.accepted" if accepted else "deliverable.changes_requested",
        recipients=[deliverable.deliverer],
        render=render,
        url=_detail_url(deliverable),
        item=item,
        dedupe=f"deliverable:{deliverable.pk}:v{version.number}:reviewed",
    )


# --- signing --------------------------------------------------------------------------------------


def drawing_problem(drawing: str) -> str | None:
    """Why ``drawing`` is not an acceptable handwritten signature, or None (empty is fine)."""
    if not drawing:
        return None
    invalid = _("The drawn signature is not a PNG image from the signature pad; clear it and draw again.")
    if len(drawing) > DRAWING_MAX_CHARS:
        return _("The drawn signature is too large; clear it and draw again.")
    if not drawing.startswith(DRAWING_PREFIX):
        return invalid
    try:
        data = base64.b64decode(drawing[len(DRAWING_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        return invalid
    # The PNG magic bytes, then the IHDR chunk with width and height.
    if len(data) < 24 or not data.startswith(PNG_MAGIC) or data[12:16] != b"IHDR":
        return invalid
    width, height = struct.unpack(">II", data[16:24])
    if not (0 < width <= DRAWING_MAX_PIXELS[0] and 0 < height <= DRAWING_MAX_PIXELS[1]):
        return _("The drawn signature is too large; clear it and draw again.")
    return None


def signer_for(deliverable: Deliverable, role: str) -> int:
    """The user id of whoever signs ``role``: the deliverer or the receiver, nobody else."""
    return deliverable.deliverer_id if role == SignerRole.DELIVERER else deliverable.receiver_id


class WrongPassword(ItemError):
    """The signing password was wrong: counted against the account and the address, audited."""


def deliverable_sign(
    *,
    actor: Any,
    deliverable_id: int,
    role: str,
    password: str,
    ip_address: str | None,
    drawing: str = "",
) -> Signature:
    """Signs (see ``_sign``), throttling password guessing (``collab.org.throttle``): refused
    while the person or the address is locked out; a wrong password counts against both and
    leaves an audit row, written after the signing transaction rolled back so that both stay."""
    keys = throttle.keys_for("sign", account=str(actor.pk), address=ip_address)
    try:
        throttle.refuse_if_locked(keys)
    except throttle.Locked as locked:
        raise ItemError(str(locked), {"password": [str(locked)]}) from None
    try:
        signature = _sign(
            actor=actor,
            deliverable_id=deliverable_id,
            role=role,
            password=password,
            ip_address=ip_address,
            drawing=drawing,
        )
    except WrongPassword as wrong:
        until = throttle.record_failure(keys)
        deliverable = Deliverable.objects.select_related("task__item").get(pk=deliverable_id)
        audit_record(
            actor=actor,
            action="deliverable.sign_failed",
            target=deliverable.task.item,
            changes={
                "deliverable": [deliverable.name, deliverable.name],
                "signed_as": [None, Choice(SignerRole, role)],
            },
            note=ip_address or "",
        )
        if until is not None:
            message = throttle.lockout_message(until)
            raise ItemError(message, {"password": [message]}) from None
        raise wrong from None
    throttle.record_success(keys)
    return signature


@transaction.atomic
def _sign(
    *,
    actor: Any,
    deliverable_id: int,
    role: str,
    password: str,
    ip_address: str | None,
    drawing: str = "",
) -> Signature:
    """One side signs the acceptance form of the accepted version (双方签字确认).

    1. Lock the item and the deliverable; refuse a locked form and an item out of execution.
    2. Refuse anyone who is not the person of ``role`` (nobody signs for someone else), an
       unaccepted version, a wrong password, a second signature and a malformed drawing.
    3. Recompute the digests; refuse when a stored file no longer matches its recorded SHA-256 or
       the form changed since the other side signed it (both sign the same content).
    4. Store the signature (the database's constraints and guard refuse what step 2 refuses).
    5. With both signatures: lock the form, complete the task and cancel its warnings.
    """
    item, deliverable = _lock(deliverable_id)
    _refuse_locked(deliverable)
    _require_executing(item)
    if role not in SignerRole.values:
        raise ItemError(_("Sign as the deliverer or as the receiver."))
    role_label = SignerRole(role).label
    if actor.pk != signer_for(deliverable, role):
        person = deliverable.deliverer if role == SignerRole.DELIVERER else deliverable.receiver
        raise ItemError(
            _("Only %(person)s signs as %(role)s: nobody signs for someone else.")
            % {"person": display_name(person), "role": role_label}
        )
    if deliverable.status != DeliverableStatus.ACCEPTED:
        raise ItemError(
            _("Only an accepted version is signed: the receiver has not accepted this deliverable.")
        )
    if not signing_secret_valid(actor, password):
        raise WrongPassword(
            _("The password is not correct: nothing was signed."),
            {"password": [_("Enter your login password to sign.")]},
        )
    # The form with its versions, files and signatures, read once under the locks taken above
    # (the deliverable's task, item and people came with its lock).
    _with_versions(deliverable, signatures=True)
    signatures = list(deliverable.signatures.all())
    if any(s.role == role or s.signer_id == actor.pk for s in signatures):
        raise ItemError(_("You have already signed this acceptance form."))
    if problem := drawing_problem(drawing):
        raise ItemError(problem, {"drawing": [problem]})

    content_digest, files_digest = acceptance_digests(deliverable)
    if files_digest != recorded_files_digest(deliverable):
        raise ItemError(
            _(
                "A file of the accepted version no longer matches what was submitted, so the form "
                "cannot be signed. Ask the administrator to check the stored files."
            )
        )
    # The snapshot is what is signed; the stored form must still say the same (a change made
    # behind the application's back), the item's number and topic aside.
    changed = not snapshot_agrees(deliverable)
    if changed and not signatures:
        raise ItemError(
            _(
                "The acceptance form no longer says what the receiver accepted, so it cannot be signed. "
                "Ask the administrator to check it."
            )
        )
    for other in signatures:
        if changed or (other.content_digest, other.files_digest) != (content_digest, files_digest):
            raise ItemError(
                _("The form changed after %(person)s signed it, so it cannot be signed.")
                % {"person": display_name(other.signer)}
            )
    accepted = accepted_version(deliverable)
    if accepted is None:  # the status says accepted; a version must say it too
        raise ItemError(
            _("Only an accepted version is signed: the receiver has not accepted this deliverable.")
        )
    try:
        with transaction.atomic():
            signature = Signature.objects.create(
                deliverable=deliverable,
                version=accepted,
                role=role,
                signer=actor,
                ip_address=ip_address or None,
                content_digest=content_digest,
                files_digest=files_digest,
                drawing=drawing,
            )
    except IntegrityError as error:
        # Another request of the same person got there first (the unique constraints).
        raise ItemError(_("You have already signed this acceptance form.")) from error
    complete = len(signatures) + 1 == len(SignerRole.values)
    changes = {
        "deliverable": [deliverable.name, deliverable.name],
        "signed_as": [None, Choice(SignerRole, role)],
        "content_digest": [None, content_digest],
        "files_digest": [None, files_digest],
    }
    if complete:
        deliverable.locked_at = signature.signed_at
        _transition(
            deliverable,
            DeliverableStatus.SIGNED,
            actor=actor,
            action="deliverable.signed",
            changes=changes,
            note=ip_address or "",
            fields=["locked_at"],
        )
    else:
        deliverable.version += 1
        save_fields(deliverable, ["version"])
        audit_record(
            actor=actor, action="deliverable.signed", target=item, changes=changes, note=ip_address or ""
        )
    _tell_of_signature(deliverable, signature, complete=complete)
    return signature


def _tell_of_signature(deliverable: Deliverable, signature: Signature, *, complete: bool) -> None:
    item = deliverable.task.item
    other = deliverable.receiver if signature.role == SignerRole.DELIVERER else deliverable.deliverer
    person = display_name(signature.signer)

    def render() -> tuple[Text, Text]:
        if complete:
            title = Text(
                gettext_noop('The acceptance form of "%(deliverable)s" is signed by both sides'),
                deliverable=deliverable.name,
            )
            body = Text(
                gettext_noop("%(person)s signed last; the form is locked and the task is done."),
                person=person,
            )
        else:
            title = Text(
                gettext_noop(
                    '%(person)s signed the acceptance form of "%(deliverable)s": please sign it too'
                ),
                person=person,
                deliverable=deliverable.name,
            )
            body = Text(gettext_noop("Sign with your password on the deliverable's page."))
        return title, body

    recipients = [other, item.coordinator] if complete else [other]
    notify(
        recipients=[r for r in recipients if r.pk != signature.signer_id],
        kind="deliverable.signed",
        render=render,
        url=_detail_url(deliverable),
        item=item,
        dedupe=f"deliverable:{deliverable.pk}:signed:{signature.role}",
        urgency=_prompt_urgency(item),
    )
    if complete and awaiting_retrospective(CollaborationItem.objects.filter(pk=item.pk)).exists():
        tell(
            "item.all_signed",
            recipients=[item.coordinator],
            render=lambda: (
                Text(
                    gettext_noop(
                        "Every acceptance form of %(number)s %(topic)s is signed: "
                        "please record the retrospective"
                    ),
                    number=item.number,
                    topic=item.topic,
                ),
                Text(
                    gettext_noop(
                        "Hold the retrospective with the parties and record it with its improvement measures."
                    )
                ),
            ),
            url=reverse("reviews_app:retrospective", args=[item.pk]),
            item=item,
            dedupe=f"item:{item.pk}:all_signed",
        )
