"""Directory sync as admins and the nightly beat run it: fetch, preview or apply, hand over."""

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext_noop

from collab.audit.services import audit_record
from collab.audit.texts import Text
from collab.lib.secretbox import seal
from collab.movein.handover import open_work_of
from collab.notify.services import notify
from collab.org.models import DirectorySource, SyncRun
from collab.org.sync.connectors import fetch_snapshot
from collab.org.sync.engine import directory_sync
from collab.org.sync.snapshot import DirectoryError, Snapshot


def directory_source_set_secret(*, actor: Any, source: DirectorySource, secret: str) -> None:
    """Stores a new secret sealed; the old one is forgotten. The audit row names no value."""
    with transaction.atomic():
        DirectorySource.objects.filter(pk=source.pk).update(
            sealed_secret=seal(secret, key_material=settings.ENCRYPTION_KEY)
        )
        audit_record(actor=actor, action="org.directory_secret_changed", target=source)
    source.refresh_from_db(fields=["sealed_secret"])


def directory_preview(
    *, source: DirectorySource, actor: Any = None, snapshot: Snapshot | None = None
) -> SyncRun:
    """The changes a sync would make now, without making them."""
    return _run(source=source, actor=actor, snapshot=snapshot, apply=False)


def directory_apply(
    *, source: DirectorySource, actor: Any = None, snapshot: Snapshot | None = None
) -> SyncRun:
    """Makes the organisation match the source; people who left are deactivated and their open
    work is listed with the run, and each open item's coordinator is told who must be replaced."""
    return _run(source=source, actor=actor, snapshot=snapshot, apply=True)


def directory_import_preview(*, source: DirectorySource, actor: Any, snapshot: Snapshot) -> SyncRun:
    """The preview of an uploaded workbook; the run keeps the workbook's content for applying it later."""
    run = directory_preview(source=source, actor=actor, snapshot=snapshot)
    run.diff["snapshot"] = snapshot.as_json()
    SyncRun.objects.filter(pk=run.pk).update(diff=run.diff)
    return run


def directory_apply_run(*, run: SyncRun, actor: Any) -> SyncRun:
    """Applies what a preview showed: the workbook it kept, or the directory as it is now."""
    stored = run.diff.get("snapshot")
    snapshot = Snapshot.from_json(stored) if stored else None
    return directory_apply(source=run.source, actor=actor, snapshot=snapshot)


def _run(*, source: DirectorySource, actor: Any, snapshot: Snapshot | None, apply: bool) -> SyncRun:
    try:
        if snapshot is None:
            snapshot = fetch_snapshot(source)
        return directory_sync(
            source=source,
            snapshot=snapshot,
            actor=actor,
            apply=apply,
            on_leaving=_hand_over if apply else open_work_of,
        )
    except DirectoryError as error:
        DirectorySource.objects.filter(pk=source.pk).update(last_error=str(error))
        raise


def _hand_over(user_ids: list[int]) -> list[dict[str, Any]]:
    """Runs inside the sync's transaction, before the leavers change: lists and announces their work."""
    work = open_work_of(user_ids)
    by_coordinator: dict[int, list[tuple[str, dict[str, Any]]]] = {}
    for person in work:
        for entry in person["items"]:
            if entry["coordinator_id"] not in user_ids:
                by_coordinator.setdefault(entry["coordinator_id"], []).append((person["name"], entry))
    coordinators = get_user_model().objects.filter(pk__in=by_coordinator).select_related("person")
    for coordinator in coordinators:
        for name, entry in by_coordinator[coordinator.pk]:
            _tell_coordinator(coordinator, name, entry)
    return work


KIND_LABELS = {
    "task": gettext_noop('owner of the task "%(what)s"'),
    "review": gettext_noop('receiver reviewing the task "%(what)s"'),
    "confirmation": gettext_noop("head confirming the minutes for %(what)s"),
    "coordination": gettext_noop("coordinator"),
}


def _tell_coordinator(coordinator: Any, name: str, entry: dict[str, Any]) -> None:
    def render() -> tuple[Text, Text]:
        label = KIND_LABELS[entry["kind"]]
        role = Text(label, what=entry["what"]) if "%(what)s" in label else Text(label)
        return (
            Text(
                gettext_noop("%(name)s has left the company: hand over their work on %(item)s"),
                name=name,
                item=entry["item"],
            ),
            Text(
                gettext_noop("%(name)s was the %(role)s. Please choose someone to take it over."),
                name=name,
                role=role,
            ),
        )

    notify(
        recipients=[coordinator],
        kind="org.person_left",
        render=render,
        url=entry["url"],
        dedupe=f"org.person_left:{entry['user_id']}:{entry['kind']}:{entry['item_id']}:{entry['ref']}",
    )
