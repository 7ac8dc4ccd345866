"""Asking for the item's archive (归档): by the coordinator on the page, or from the command line.

The coordinator requests the archive (``archive_request``); a Celery task builds it by id after
commit (``reviews_app.archive_builder.archive_build``). ``archive_snapshot`` builds one now, in
this process, for the ``archive_item`` command.
"""

from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from collab.audit.services import audit_record
from collab.audit.texts import Text
from collab.queueing import enqueue_after_commit
from requests_app.models import CollaborationItem
from requests_app.services import ItemError, require_open
from reviews_app.access import ARCHIVE
from reviews_app.archive_builder import ProgressCallback, archive_build, archive_move
from reviews_app.archive_layout import archive_file_name
from reviews_app.archive_readiness import (
    ACTIVE_STATUSES,
    ARCHIVE_STALE_AFTER,
    active_archive,
    archive_problems,
)
from reviews_app.archive_sweep import abandoned_builds
from reviews_app.archive_tasks import build_archive_task
from reviews_app.models import Archive, ArchiveStatus


def _fail_stale(item: CollaborationItem) -> None:
    """A build whose worker is gone (lapsed lease) or an archive queued for too long does not
    block a new request."""
    now = timezone.now()
    archive_move(
        Archive.objects.filter(
            Q(status__in=ACTIVE_STATUSES, requested_at__lt=now - ARCHIVE_STALE_AFTER) | abandoned_builds(now),
            item=item,
        ),
        ArchiveStatus.FAILED,
        error=_("The build stopped without finishing (the worker was interrupted)."),
        finished_at=timezone.now(),
    )


def _require_ready(item: CollaborationItem) -> None:
    """Refuses a build under way and an item that is not ready (the message lists what is missing)."""
    if active_archive(item) is not None:
        raise ItemError(_("The archive of this item is being built already."))
    problems = archive_problems(item)
    if problems:
        raise ItemError(_("The item cannot be archived yet:"), {"__all__": problems})


@transaction.atomic
def archive_request(*, actor: Any, item_id: int) -> Archive:
    """The coordinator asks for the item's archive; it is built in the background.

    1. Lock the item; refuse an archived item, anyone but the coordinator, a build under way and
       an item that is not ready (the message lists everything missing).
    2. Create the archive row (queued), write the audit row.
    3. After commit, enqueue the build by id.
    """
    item = CollaborationItem.objects.select_for_update(no_key=True).get(pk=item_id)
    require_open(item)
    ARCHIVE.require(actor, item)
    _fail_stale(item)
    _require_ready(item)
    archive = Archive.objects.create(item=item, requested_by=actor, file_name=archive_file_name(item))
    audit_record(
        actor=actor, action="archive.requested", target=item, changes={"archive": [None, archive.file_name]}
    )
    enqueue_after_commit(build_archive_task, archive.pk)
    return archive


def archive_snapshot(
    *,
    actor: Any,
    item_id: int,
    close: bool,
    language: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> Archive:
    """Builds the archive now, in this process (the ``archive_item`` command).

    Without ``close`` it builds whatever the item's state (a snapshot of an open item, or again
    for an archived one) and leaves the item's status alone. With ``close`` the item must be
    ready, and is closed at the end like a build the coordinator requested.
    """
    with transaction.atomic():
        item = CollaborationItem.objects.select_for_update(no_key=True).get(pk=item_id)
        _fail_stale(item)
        if close:
            require_open(item)
            _require_ready(item)
        archive = Archive.objects.create(item=item, requested_by=actor, file_name=archive_file_name(item))
        audit_record(
            actor=actor,
            action="archive.requested",
            target=item,
            changes={"archive": [None, archive.file_name]},
            note=Text(gettext_noop("from the command line")),
            # A snapshot of an archived item changes nothing on it.
            read_only_ok=not close,
        )
    return archive_build(archive_id=archive.pk, close=close, language=language, on_progress=on_progress)
