"""Background Excel exports: asked for (``export_request``), written by a worker
(``collab.exports.builder``), downloaded by the person who asked, removed after their time
(``collab.exports.sweep``).

The same pattern as the item's archive (reviews_app/archive_*): a row is saved first and its id
sent to the worker after commit; the worker claims the row with a conditional UPDATE, renews a
lease while it writes, and the sweep picks up rows whose message or worker was lost.
"""

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from collab.audit.services import audit_record
from collab.exports.build_task import build_export_task
from collab.exports.kinds import export_kind
from collab.exports.models import Export
from collab.queueing import enqueue_after_commit


@transaction.atomic
def export_request(*, actor: Any, kind: str, query: str, file_name: str) -> Export:
    """Asks for an export of ``kind`` with the page's filters, written in the background in the
    active language and time zone; audited, sent to a worker after commit."""
    export_kind(kind)  # an unknown kind fails here, in the request, not later in the worker
    export = Export.objects.create(
        kind=kind,
        query=query,
        file_name=file_name,
        requested_by=actor,
        language=translation.get_language() or settings.LANGUAGE_CODE,
        zone=timezone.get_current_timezone_name(),
    )
    audit_record(actor=actor, action="export.requested", target=export, changes={"export": [None, file_name]})
    enqueue_after_commit(build_export_task, export.pk)
    return export


def export_retry(*, actor: Any, export_id: int) -> Export:
    """The same export asked for again (after a failure, or once its file was removed)."""
    earlier = Export.objects.get(pk=export_id, requested_by=actor)
    with translation.override(earlier.language), timezone.override(earlier.zone):
        return export_request(
            actor=actor, kind=earlier.kind, query=earlier.query, file_name=earlier.file_name
        )
