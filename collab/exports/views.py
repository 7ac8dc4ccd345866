"""The page of one background export: its progress, then the download link; only the person who
asked for it sees it (anyone else: 404, the export does not exist for them)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from collab.downloads import XLSX, stored_file_response
from collab.exports.models import ACTIVE_STATUSES, Export, ExportStatus
from collab.exports.services import export_retry


def _own(request: HttpRequest, pk: int) -> Export:
    return get_object_or_404(Export, pk=pk, requested_by=request.user)


def _context(export: Export) -> dict[str, object]:
    return {"export": export, "polling": export.status in ACTIVE_STATUSES}


@login_required
@require_GET
def export_page(request: HttpRequest, export_pk: int) -> HttpResponse:
    return render(request, "exports/export.html", _context(_own(request, export_pk)))


@login_required
@require_GET
def export_status(request: HttpRequest, export_pk: int) -> HttpResponse:
    """HTMX, every 2 s while the file is written: the status part of the page."""
    return render(request, "exports/export.html#status", _context(_own(request, export_pk)))


@login_required
@require_GET
def export_download(request: HttpRequest, export_pk: int) -> HttpResponseBase:
    export = get_object_or_404(Export, pk=export_pk, requested_by=request.user, status=ExportStatus.READY)
    return stored_file_response(export.file, export.file_name, XLSX)


@login_required
@require_POST
def export_again(request: HttpRequest, export_pk: int) -> HttpResponse:
    """A failed or removed export asked for again: a new one, with the same filters."""
    export = _own(request, export_pk)
    if export.status in ACTIVE_STATUSES or export.status == ExportStatus.READY:
        return redirect("exports:export", export_pk=export.pk)
    again = export_retry(actor=request.user, export_id=export.pk)
    return redirect("exports:export", export_pk=again.pk)
