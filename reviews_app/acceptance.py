"""The acceptance form (《成果验收表》) of a deliverable: its content, its digests and its pages.

Both signatures record a SHA-256 digest of the form's canonical content and one of its files.
The content digest covers a canonical JSON of what the form says (item number and topic, task,
deliverable, criteria, the accepted version with its note and review, the files' names and
recorded SHA-256), taken when the receiver accepts the version and stored with it
(``accepted_content``): both sides sign that snapshot, and a later recorded requirement change
(a new topic) does not alter what was signed. The files digest is recomputed from the stored
bytes. The snapshot is checked against the signatures' digest and against the stored form
(everything but the item's number and topic), so a change behind the application's back, to
the snapshot, the form or its files, still shows.

Used by the delivery pages and by the item's archive: ``acceptance_form_context`` is what
"reviews_app/acceptance_pdf.html" (and the printable page) render.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from collab.org.models import display_name
from reviews_app.models import (
    Deliverable,
    DeliverableFile,
    DeliverableVersion,
    ReviewDecision,
    Signature,
    SignerRole,
)

# What a file that is gone from storage contributes to the files digest: never a real SHA-256.
MISSING_FILE = "missing"


def acceptance_queryset() -> QuerySet[Deliverable]:
    """Deliverables with everything their form reads, in a fixed number of queries."""
    return Deliverable.objects.select_related(
        "task__item", "deliverer__person__department", "receiver__person__department"
    ).prefetch_related(
        Prefetch(
            "versions",
            queryset=DeliverableVersion.objects.select_related("submitted_by__person", "reviewed_by__person"),
        ),
        "versions__files",
        Prefetch("signatures", queryset=Signature.objects.select_related("signer__person")),
    )


def accepted_version(deliverable: Deliverable) -> DeliverableVersion | None:
    """The accepted version (there is at most one: acceptance ends the review loop)."""
    accepted = [v for v in deliverable.versions.all() if v.decision == ReviewDecision.ACCEPTED]
    return accepted[-1] if accepted else None


def form_version(deliverable: Deliverable) -> DeliverableVersion | None:
    """The version the form is about: the accepted one, else the latest submitted."""
    versions = list(deliverable.versions.all())
    return accepted_version(deliverable) or (versions[-1] if versions else None)


def _content(deliverable: Deliverable, version: DeliverableVersion | None) -> dict[str, Any]:
    """What the form says about ``version``. People are named by their user id, which does not
    change when someone edits their name."""
    task = deliverable.task
    reviewed_at = version.reviewed_at if version is not None else None
    return {
        "item": task.item.number,
        "topic": task.item.topic,
        "task": task.name,
        "deliverable": deliverable.name,
        "criteria": deliverable.acceptance_criteria,
        "deliverer": deliverable.deliverer_id,
        "receiver": deliverable.receiver_id,
        "version": version.number if version is not None else None,
        "note": version.note if version is not None else None,
        "decision": version.decision if version is not None else None,
        "reviewer": version.reviewed_by_id if version is not None else None,
        "reviewed_at": reviewed_at.astimezone(UTC).isoformat(timespec="microseconds")
        if reviewed_at
        else None,
        "files": [
            {"name": f.original_name, "sha256": f.sha256}
            for f in (version.files.all() if version is not None else [])
        ],
    }


def _canonical(content: dict[str, Any]) -> str:
    """Canonical JSON: sorted keys, no spaces, times in UTC."""
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


# Parts of the form that a recorded requirement change may change after acceptance (the item's
# number and topic): the signed snapshot keeps them as they were; everything else on the form is
# fixed once accepted, so a difference there is a change behind the application's back.
REQUIREMENT_KEYS = ("item", "topic")


def accepted_snapshot(deliverable: Deliverable, version: DeliverableVersion) -> str:
    """The form as the receiver accepts ``version``: stored with the version, what both sign."""
    return _canonical(_content(deliverable, version))


def canonical_content(deliverable: Deliverable) -> bytes:
    """The form's content as signed: the snapshot taken when its version was accepted (canonical
    JSON, UTF-8); before acceptance, or for a form accepted before snapshots were kept, the
    content as it is now."""
    version = form_version(deliverable)
    if version is not None and version.accepted_content:
        return version.accepted_content.encode()
    return _canonical(_content(deliverable, version)).encode()


def snapshot_agrees(deliverable: Deliverable) -> bool:
    """True when the stored form still says what its snapshot says, the item's number and topic
    aside (they may change through a recorded requirement change)."""
    version = form_version(deliverable)
    if version is None or not version.accepted_content:
        return True
    try:
        snapshot = json.loads(version.accepted_content)
    except ValueError:
        return False
    live = _content(deliverable, version)
    return all(snapshot.get(key) == value for key, value in live.items() if key not in REQUIREMENT_KEYS)


def stored_sha256(file: DeliverableFile) -> str:
    """The SHA-256 of the file's stored bytes, read again from storage (MISSING_FILE if gone)."""
    digest = hashlib.sha256()
    try:
        with file.file.storage.open(str(file.file.name), "rb") as stored:
            for chunk in iter(lambda: stored.read(1024 * 1024), b""):
                digest.update(chunk)
    except OSError:
        return MISSING_FILE
    return digest.hexdigest()


def files_digest(sha256s: list[str]) -> str:
    """One digest over the files' SHA-256s, in the order the form lists the files."""
    return hashlib.sha256("\n".join(sha256s).encode()).hexdigest()


def recorded_files_digest(deliverable: Deliverable) -> str:
    """The files digest as the recorded SHA-256s say it should be (no file is read)."""
    version = form_version(deliverable)
    return files_digest([f.sha256 for f in version.files.all()] if version is not None else [])


def acceptance_digests(deliverable: Deliverable) -> tuple[str, str]:
    """(content digest, files digest) of the form as it is stored now.

    The files digest reads every file of the accepted version from storage.
    """
    version = form_version(deliverable)
    files = list(version.files.all()) if version is not None else []
    return (
        hashlib.sha256(canonical_content(deliverable)).hexdigest(),
        files_digest([stored_sha256(f) for f in files]),
    )


@dataclass(frozen=True)
class Integrity:
    """How the stored form compares with what its signatures recorded."""

    signed: bool  # at least one signature to compare with
    content_matches: bool
    files_matches: bool

    @property
    def intact(self) -> bool:
        return self.content_matches and self.files_matches


def acceptance_integrity(deliverable: Deliverable, digests: tuple[str, str] | None = None) -> Integrity:
    """Compares the signatures' digests with ``digests`` (computed now when not given)."""
    signatures = list(deliverable.signatures.all())
    if not signatures:
        return Integrity(signed=False, content_matches=True, files_matches=True)
    content, files = digests or acceptance_digests(deliverable)
    return Integrity(
        signed=True,
        content_matches=all(s.content_digest == content for s in signatures) and snapshot_agrees(deliverable),
        files_matches=all(s.files_digest == files for s in signatures),
    )


def acceptance_intact(deliverable: Deliverable) -> bool:
    """True when the stored form still matches the digests of every signature on it.

    A form nobody has signed has nothing to compare with: True (``deliverable.locked_at`` says
    whether it is signed by both sides).
    """
    return acceptance_integrity(deliverable).intact


def signature_rows(deliverable: Deliverable) -> list[dict[str, Any]]:
    """The form's two signature lines, deliverer first: who signs, and their signature if any."""
    signatures = {s.role: s for s in deliverable.signatures.all()}
    rows = []
    for role, person in (
        (SignerRole.DELIVERER, deliverable.deliverer),
        (SignerRole.RECEIVER, deliverable.receiver),
    ):
        department = getattr(getattr(person, "person", None), "department", None)
        rows.append(
            {
                "role": role.value,
                "role_label": role.label,
                "person": display_name(person),
                "department": str(department) if department is not None else "",
                "signature": signatures.get(role.value),
            }
        )
    return rows


def acceptance_form_context(deliverable: Deliverable) -> dict[str, Any]:
    """Everything "reviews_app/acceptance_pdf.html" and the printable page render.

    Works on any deliverable (signed or not); pass one from ``acceptance_queryset()`` to read it
    in a fixed number of queries. Needs no request.
    """
    task = deliverable.task
    versions = list(deliverable.versions.all())
    accepted = accepted_version(deliverable)
    version = form_version(deliverable)
    content_digest, files_digest_now = acceptance_digests(deliverable)
    integrity = acceptance_integrity(deliverable, (content_digest, files_digest_now))
    return {
        "deliverable": deliverable,
        "item": task.item,
        "task": task,
        "deliverer_name": display_name(deliverable.deliverer),
        "receiver_name": display_name(deliverable.receiver),
        "criteria": deliverable.acceptance_criteria,
        "versions": versions,
        "version_count": len(versions),
        "version": version,
        "accepted": accepted,
        "files": list(version.files.all()) if version is not None else [],
        "result": deliverable.get_status_display(),
        "reviewer_name": display_name(accepted.reviewed_by) if accepted is not None else "",
        "signature_rows": signature_rows(deliverable),
        "signed": deliverable.locked_at is not None,
        "integrity": integrity,
        "intact": integrity.intact,
        "content_digest": content_digest,
        "files_digest": files_digest_now,
        "form_title": "成果验收表",
        "form_title_translated": _("Deliverable acceptance form"),
        "generated_at": timezone.localtime(),
    }
