"""Views of the item's archive: readiness, the build button, live progress and the download.

Access follows the item: outsiders get 404; anyone who reads the item sees the page, its
progress and downloads a finished archive; only the coordinator starts a build (others 403).
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from requests_app.access import item_for
from requests_app.models import CollaborationItem, ItemStatus
from requests_app.services import ItemError
from reviews_app.access import ARCHIVE
from reviews_app.archive_readiness import ACTIVE_STATUSES, active_archive, archive_problems
from reviews_app.archive_services import archive_request
from reviews_app.models import Archive, ArchiveStatus

HISTORY_SIZE = 10
CONFIRM_REFUSAL = gettext_lazy(
    "Nothing was archived: tick the box to confirm that the item becomes read-only for good."
)


def _context(request: HttpRequest, item: CollaborationItem) -> dict[str, Any]:
    archives = list(
        item.archives.select_related("requested_by__person").order_by("-requested_at", "-pk")[:HISTORY_SIZE]
    )
    latest = archives[0] if archives else None
    problems = archive_problems(item) if item.status != ItemStatus.CLOSED else []
    building = active_archive(item) is not None
    is_coordinator = request.user.pk == item.coordinator_id
    return {
        "item": item,
        "archives": archives,
        "latest": latest,
        "problems": problems,
        "building": building,
        # Poll while the latest build is under way; a finished one stops the polling.
        "polling": latest is not None and latest.status in ACTIVE_STATUSES,
        "is_coordinator": is_coordinator,
        "can_build": is_coordinator and item.status == ItemStatus.EXECUTING and not problems and not building,
    }


@login_required
@require_GET
def archive(request: HttpRequest, pk: int) -> HttpResponse:
    item = item_for(request.user, pk)
    return render(request, "reviews_app/archive.html", _context(request, item))


@login_required
@require_GET
def archive_status(request: HttpRequest, pk: int) -> HttpResponse:
    """HTMX, every 2 s while building: the status part of the page (progress, step, result)."""
    item = item_for(request.user, pk)
    return render(request, "reviews_app/archive.html#status", _context(request, item))


@login_required
@require_POST
def archive_build(request: HttpRequest, pk: int) -> HttpResponse:
    item = item_for(request.user, pk, ARCHIVE)
    if not request.POST.get("confirm"):
        # Irreversible: the coordinator ticks the box that names what becomes read-only.
        messages.error(request, CONFIRM_REFUSAL)
        return redirect("reviews_app:archive", pk=item.pk)
    try:
        archive_request(actor=request.user, item_id=item.pk)
    except ItemError as error:
        messages.error(request, error.message)
        for field_messages in error.problems.values():
            for message in field_messages:
                messages.error(request, message)
    else:
        messages.success(
            request,
            _("The archive is being built. This page shows its progress; you will be told when it is ready."),
        )
    return redirect("reviews_app:archive", pk=item.pk)


@login_required
@require_GET
def archive_download(request: HttpRequest, pk: int, archive_pk: int) -> HttpResponseBase:
    item = item_for(request.user, pk)
    built = get_object_or_404(Archive, pk=archive_pk, item=item, status=ArchiveStatus.READY)
    if not built.file:
        raise Http404
    try:
        stored = built.file.storage.open(str(built.file.name), "rb")
    except OSError as error:
        raise Http404 from error
    # The stored name is neutral; the person gets 协作流程-<编号>-<主题>.zip (RFC 5987 filename*=).
    return FileResponse(stored, as_attachment=True, filename=built.file_name, content_type="application/zip")
