"""Views of the retrospective (复盘会) and the company-wide process-improvement log.

Thin: access check, form, service, redirect. The retrospective follows the item (outsiders get
404); its requester and coordinator record it, other participants read it (403 on writes). The
log is company-wide: anyone logged in reads it; a measure's owner and its item's coordinator
mark it done.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from collab.downloads import xlsx_response
from collab.org.calendar import calendar_of
from collab.pdf import render_pdf
from requests_app.access import item_for
from requests_app.day_off import Committed, answered, question
from requests_app.models import CollaborationItem, ItemStatus
from requests_app.rules import clip
from requests_app.services import ItemError
from reviews_app import retro_services as services
from reviews_app.access import COMPLETE_MEASURE, RECORD_RETROSPECTIVE
from reviews_app.archive_documents import (
    retrospective_book,
    retrospective_context,
    retrospective_queryset,
)
from reviews_app.models import ImprovementMeasure, MeasureStatus, Retrospective
from reviews_app.retro_forms import (
    CompleteMeasureForm,
    ImprovementFilterForm,
    MeasureForm,
    RetrospectiveEditor,
)
from reviews_app.retro_selectors import log_measures

PAGE_SIZE = 25


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _recorder_item(request: HttpRequest, pk: int) -> CollaborationItem:
    """The item if the user may record its retrospective: outsiders 404, other readers 403."""
    return item_for(request.user, pk, RECORD_RETROSPECTIVE)


def _page(item: CollaborationItem) -> HttpResponseRedirect:
    return redirect("reviews_app:retrospective", pk=item.pk)


def _error(request: HttpRequest, error: ItemError) -> None:
    messages.error(request, error.message)
    for field_messages in error.problems.values():
        for message in field_messages:
            if message != error.message:
                messages.error(request, message)


def _closed_for_recording(request: HttpRequest, item: CollaborationItem) -> bool:
    """Tells the person why the form is not open, if it is not (archived, or not executing)."""
    if item.status == ItemStatus.CLOSED:
        messages.error(request, _("This item is archived and can no longer be changed."))
        return True
    if item.status != ItemStatus.EXECUTING:
        messages.error(request, _("The retrospective is recorded while the item is in execution."))
        return True
    return False


# --- the item's retrospective ---------------------------------------------------------------------


@login_required
@require_GET
def retrospective(request: HttpRequest, pk: int) -> HttpResponse:
    return _retrospective_page(request, item_for(request.user, pk))


def _retrospective_page(
    request: HttpRequest,
    item: CollaborationItem,
    add_form: MeasureForm | None = None,
    ask: dict[str, Any] | None = None,
) -> HttpResponse:
    """The retrospective page; with ``ask``, the new measure's form waits for the day-off answer."""
    recorded = retrospective_queryset().filter(item=item).first()
    can_record = RECORD_RETROSPECTIVE.allows(request.user, item) and item.status == ItemStatus.EXECUTING
    context: dict[str, Any] = {
        "item": item,
        "recorded": recorded,
        "can_record": can_record,
        "add_form": (add_form or MeasureForm(prefix="new")) if can_record and recorded else None,
        "complete_form": CompleteMeasureForm(),
        "next": request.get_full_path()
        if ask is None
        else reverse("reviews_app:retrospective", args=[item.pk]),
        **(ask or {}),
    }
    if recorded is not None:
        context.update(retrospective_context(recorded))
        for row in context["measures"]:
            row["may_complete"] = row["measure"].status == MeasureStatus.OPEN and COMPLETE_MEASURE.allows(
                request.user, row["measure"]
            )
    return render(request, "reviews_app/retrospective.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def retrospective_record(request: HttpRequest, pk: int) -> HttpResponse:
    item = _recorder_item(request, pk)
    if Retrospective.objects.filter(item=item).exists():
        return redirect("reviews_app:retrospective_edit", pk=item.pk)
    if request.method == "GET" and _closed_for_recording(request, item):
        return _page(item)
    data = answered(request.POST)
    editor = RetrospectiveEditor(data or None, item=item)
    if request.method == "POST":
        if editor.is_valid() and (ask := question(data, editor.committed_dates())):
            return render(request, "reviews_app/retro_form.html", {"item": item, "editor": editor, **ask})
        if editor.is_valid():
            try:
                services.retrospective_record(actor=request.user, item_id=item.pk, data=editor.data())
            except ItemError as error:
                editor.apply_problems(error.problems)
                messages.error(request, error.message)
            else:
                messages.success(
                    request,
                    _(
                        "The retrospective is recorded; its improvement measures are in the "
                        "process-improvement log."
                    ),
                )
                return _page(item)
        else:
            messages.error(request, _("Some fields need attention: nothing was saved."))
    return render(request, "reviews_app/retro_form.html", {"item": item, "editor": editor})


@login_required
@require_http_methods(["GET", "POST"])
def retrospective_edit(request: HttpRequest, pk: int) -> HttpResponse:
    item = _recorder_item(request, pk)
    recorded = get_object_or_404(Retrospective, item=item)
    if request.method == "GET" and _closed_for_recording(request, item):
        return _page(item)
    editor = RetrospectiveEditor(request.POST or None, item=item, retrospective=recorded)
    if request.method == "POST":
        if editor.is_valid():
            try:
                services.retrospective_update(
                    actor=request.user, retrospective_id=recorded.pk, data=editor.data()
                )
            except ItemError as error:
                editor.apply_problems(error.problems)
                messages.error(request, error.message)
            else:
                messages.success(request, _("The retrospective is updated."))
                return _page(item)
        else:
            messages.error(request, _("Some fields need attention: nothing was saved."))
    return render(
        request, "reviews_app/retro_form.html", {"item": item, "editor": editor, "recorded": recorded}
    )


@login_required
@require_POST
def measure_add(request: HttpRequest, pk: int) -> HttpResponse:
    item = _recorder_item(request, pk)
    recorded = get_object_or_404(Retrospective, item=item)
    data = answered(request.POST)
    form = MeasureForm(data, prefix="new")
    if not form.is_valid():
        for field_errors in form.errors.values():
            for message in field_errors:
                messages.error(request, str(message))
        return _page(item)
    what = _('Improvement "%(measure)s"') % {"measure": clip(form.cleaned_data["text"])}
    due = Committed(
        form.add_prefix("due_date"),
        what,
        form.cleaned_data["due_date"],
        calendar_of(form.cleaned_data["owner"]),
    )
    if ask := question(data, [due]):
        return _retrospective_page(request, item, add_form=form, ask=ask)
    try:
        services.measure_add(actor=request.user, retrospective_id=recorded.pk, data=form.measure())
    except ItemError as error:
        _error(request, error)
    else:
        messages.success(request, _("The improvement measure is added; its owner has been told."))
    return _page(item)


def _recorded(request: HttpRequest, pk: int) -> tuple[CollaborationItem, Retrospective]:
    item = item_for(request.user, pk)
    return item, get_object_or_404(retrospective_queryset(), item=item)


def _file_name(item: CollaborationItem, extension: str) -> str:
    # The form's Chinese name, as the archive names it: the same file whatever the language.
    return f"协作流程优化记录-{item.number or item.pk}.{extension}"


@login_required
@require_GET
def retrospective_print(request: HttpRequest, pk: int) -> HttpResponse:
    _item, recorded = _recorded(request, pk)
    return render(request, "reviews_app/retro_print.html", retrospective_context(recorded))


@login_required
@require_GET
def retrospective_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    item, recorded = _recorded(request, pk)
    pdf = render_pdf("reviews_app/pdf/retrospective.html", retrospective_context(recorded))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        content_disposition_header(as_attachment=False, filename=_file_name(item, "pdf")) or ""
    )
    return response


@login_required
@require_GET
def retrospective_export(request: HttpRequest, pk: int) -> HttpResponseBase:
    item, recorded = _recorded(request, pk)
    return xlsx_response(_file_name(item, "xlsx"), retrospective_book(recorded))


# --- the process-improvement log ------------------------------------------------------------------


@login_required
@require_GET
def improvement_log(request: HttpRequest) -> HttpResponse:
    filters = ImprovementFilterForm(request.GET or None)
    today = timezone.localdate()
    page = Paginator(log_measures(request.user, filters.filters(), today=today), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [
        {
            "measure": m,
            "item": m.retrospective.item,
            "overdue": m.status == MeasureStatus.OPEN and m.due_date < today,
            # The coordinator's id is on the item row already: no query per row.
            "may_complete": m.status == MeasureStatus.OPEN and COMPLETE_MEASURE.allows(request.user, m),
        }
        for m in page.object_list
    ]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filters": filters,
        "page": page,
        "rows": rows,
        "query": query.urlencode(),
        "complete_form": CompleteMeasureForm(),
        "next": request.get_full_path(),
    }
    template = "reviews_app/improvement_log.html"
    return render(request, f"{template}#results" if _is_htmx(request) else template, context)


def _next(request: HttpRequest) -> str:
    """Where to go after marking a measure done: the page it was marked on, if it is ours."""
    target = request.POST.get("next", "")
    log = reverse("reviews_app:improvement_log")
    ours = target.startswith(log) or (target.startswith("/items/") and "/retrospective/" in target)
    if ours and url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        return target
    return log


@login_required
@require_POST
def measure_done(request: HttpRequest, measure_pk: int) -> HttpResponse:
    measure = get_object_or_404(
        ImprovementMeasure.objects.select_related("retrospective__item"), pk=measure_pk
    )
    item_for(request.user, measure.retrospective.item_id)
    COMPLETE_MEASURE.require(request.user, measure)
    form = CompleteMeasureForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say how the measure was carried out: the next collaboration reads it."))
        return redirect(_next(request))
    try:
        services.measure_complete(actor=request.user, measure_id=measure.pk, note=form.cleaned_data["note"])
    except ItemError as error:
        _error(request, error)
    else:
        messages.success(request, _('"%(measure)s" is done.') % {"measure": measure.text[:50]})
    return redirect(_next(request))
