"""Views of stage 1 and the register. Thin: access check, form, service, redirect."""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from collab.audit.selectors import audit_history
from collab.downloads import stored_file_response, xlsx_response
from collab.exports.services import export_request
from collab.lib.numbers import parse_whole_number
from requests_app import services
from requests_app.access import EDIT_FORM, item_for
from requests_app.day_off import answered, question
from requests_app.draft_services import draft_owner_token, form_draft_discard
from requests_app.draft_views import keeps_input
from requests_app.forms import WORDING_CHECKED_FIELDS, RegisterFilterForm, RequirementEditor, posted_version
from requests_app.history import history_rows
from requests_app.models import Attachment, CollaborationItem, FormDraft, Scenario
from requests_app.register import REGISTER_COLUMNS, RegisterLabels, register_book
from requests_app.register_pages import (
    PLACE_PARAMETERS,
    item_link,
    page_row,
    pager_links,
    place_of,
    register_page,
)
from requests_app.rules import measurable_criterion_error, vague_wording_errors
from requests_app.selectors import drafts_of, kept_draft, register_items
from requests_app.start_selectors import Start, copy_start, kept_start, previous_items, template_start


@login_required
@require_GET
def register(request: HttpRequest) -> HttpResponse:
    filters = RegisterFilterForm(request.GET or None)
    cleaned = filters.cleaned_data if filters.is_valid() else {}
    page = register_page(register_items(request.user, cleaned), place_of(request.GET))
    labels, link = RegisterLabels(), item_link()
    query = _query_without_page(request)
    context = {
        "filters": filters,
        "page": page,
        "columns": REGISTER_COLUMNS,
        "rows": [(record, page_row(record, labels, link)) for record in page.object_list],
        "drafts": drafts_of(request.user) if not _is_htmx(request) else [],
        "query": query,
        "pager": pager_links(page, query),
    }
    template = "requests_app/register.html#results" if _is_htmx(request) else "requests_app/register.html"
    return render(request, template, context)


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    for name in PLACE_PARAMETERS:
        query.pop(name, None)
    return query.urlencode()


@login_required
@require_GET
def register_export(request: HttpRequest) -> HttpResponseBase:
    filters = RegisterFilterForm(request.GET or None)
    if request.GET and not filters.is_valid():
        messages.error(
            request, _("The filters are not valid: %(errors)s") % {"errors": filters.errors.as_text()}
        )
        return redirect("requests_app:register")
    items = register_items(request.user, filters.cleaned_data if request.GET else {})
    filename = _("communication-register-%(date)s.xlsx") % {"date": f"{timezone.localdate():%Y%m%d}"}
    # Past the threshold the file may take longer than the web worker's timeout: a worker writes
    # it and the person follows its progress (a COUNT that stops at the threshold).
    threshold = settings.COLLAB_EXPORT_BACKGROUND_ROWS
    if items.order_by()[: threshold + 1].count() > threshold:
        export = export_request(
            actor=request.user, kind="register", query=request.GET.urlencode(), file_name=filename
        )
        return redirect("exports:export", export_pk=export.pk)
    return xlsx_response(filename, register_book(items))


def _form_context(
    request: HttpRequest, editor: RequirementEditor, item: CollaborationItem | None
) -> dict[str, Any]:
    """What every rendering of the requirement form needs besides the editor: the token that
    keeps a post arriving after a session timeout, and where the page keeps input meanwhile."""
    form = FormDraft.key_for(item.pk if item else None)
    return {
        "editor": editor,
        "item": item,
        "draft_token": draft_owner_token(request.user, form),
        "draft_url": reverse("requests_app:item_draft_keep")
        if item is None
        else reverse("requests_app:item_edit_draft_keep", args=[item.pk]),
    }


def _new_form_start(request: HttpRequest) -> tuple[Start | None, dict[str, Any]]:
    """Where a new form starts (GET): the kept input first, else the chosen starting point."""
    if draft := kept_draft(request.user, FormDraft.NEW_ITEM):
        return kept_start(draft.data), {"restored": draft}
    starts: dict[str, Any] = {"scenarios": Scenario.choices, "previous_items": previous_items(request.user)}
    if (scenario := request.GET.get("scenario")) in Scenario.values:
        return template_start(request.user, str(scenario)), {**starts, "started_from": scenario}
    if source := parse_whole_number(request.GET.get("from")):
        copied = item_for(request.user, source)
        return copy_start(request.user, copied), {**starts, "copied_from": copied}
    return None, starts


@keeps_input
@require_http_methods(["GET", "POST"])
def item_create(request: HttpRequest) -> HttpResponse:
    data = answered(request.POST)
    submitting = "submit" in data
    start, starts = _new_form_start(request) if request.method == "GET" else (None, {})
    editor = RequirementEditor(data or None, user=request.user, submitting=submitting, start=start)
    context = {**_form_context(request, editor, None), **starts}
    ask = editor.is_valid() and question(data, editor.committed_dates()) if request.method == "POST" else None
    if ask:
        return render(request, "requests_app/item_form.html", {**context, **ask})
    if request.method == "POST" and editor.is_valid():
        item = services.item_create_draft(actor=request.user, data=editor.data())
        form_draft_discard(owner=request.user, form=FormDraft.NEW_ITEM)
        if submitting:
            try:
                item = services.item_submit(actor=request.user, item_id=item.pk, version=item.version)
            except services.ItemError as error:
                messages.error(request, error.message)
                return redirect("requests_app:item_edit", pk=item.pk)
            messages.success(request, _("Submitted as item %(number)s.") % {"number": item.number})
        else:
            messages.success(request, _("Draft saved. Submit it when it is complete."))
        return redirect("requests_app:item_detail", pk=item.pk)
    return render(request, "requests_app/item_form.html", context)


@keeps_input
@require_http_methods(["GET", "POST"])
def item_edit(request: HttpRequest, pk: int) -> HttpResponse:
    item = item_for(request.user, pk, EDIT_FORM)
    data = answered(request.POST)
    submitting = "submit" in data
    form = FormDraft.key_for(item.pk)
    draft = kept_draft(request.user, form) if request.method == "GET" else None
    start = kept_start(draft.data) if draft else None
    editor = RequirementEditor(data or None, item=item, user=request.user, submitting=submitting, start=start)
    if request.method == "POST":
        version = posted_version(request)
    else:
        # Kept input was typed against the version it names: saving it over a newer one is refused.
        version = start.version if start and start.version else item.version
    context: dict[str, Any] = {**_form_context(request, editor, item), "version": version, "restored": draft}
    ask = editor.is_valid() and question(data, editor.committed_dates()) if request.method == "POST" else None
    if ask:
        return render(request, "requests_app/item_form.html", {**context, **ask})
    if request.method == "POST" and editor.is_valid():
        try:
            if item.is_draft:
                item = services.item_update_draft(
                    actor=request.user, item_id=item.pk, version=version, data=editor.data()
                )
                form_draft_discard(owner=request.user, form=form)
                if submitting:
                    item = services.item_submit(actor=request.user, item_id=item.pk, version=item.version)
                    messages.success(request, _("Submitted as item %(number)s.") % {"number": item.number})
                else:
                    messages.success(request, _("Draft saved."))
            else:
                services.item_change_requirement(
                    actor=request.user,
                    item_id=item.pk,
                    version=version,
                    data=editor.data(),
                    reason=editor.change_reason,
                )
                form_draft_discard(owner=request.user, form=form)
                messages.success(request, _("The requirement change is recorded."))
            return redirect("requests_app:item_detail", pk=item.pk)
        except services.ItemError as error:
            editor.apply_rules(error.problems)
            messages.error(request, error.message)
    return render(request, "requests_app/item_form.html", context)


@login_required
@require_POST
def item_submit(request: HttpRequest, pk: int) -> HttpResponse:
    item = item_for(request.user, pk, EDIT_FORM)
    try:
        item = services.item_submit(actor=request.user, item_id=item.pk, version=posted_version(request))
    except services.ItemError as error:
        messages.error(request, error.message)
        for field_messages in error.problems.values():
            for message in field_messages:
                messages.error(request, message)
        return redirect("requests_app:item_edit" if item.is_draft else "requests_app:item_detail", pk=item.pk)
    messages.success(request, _("Submitted as item %(number)s.") % {"number": item.number})
    return redirect("requests_app:item_detail", pk=item.pk)


def _item_context(request: HttpRequest, item: CollaborationItem) -> dict[str, Any]:
    return {
        "item": item,
        "participations": item.participations.select_related("department"),
        "milestones": item.milestones.all(),
        "attachments": item.attachments.select_related("uploaded_by__person"),
        "changes": item.requirement_changes.select_related("actor__person"),
        "can_edit": EDIT_FORM.allows(request.user, item),
    }


@login_required
@require_GET
def item_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = item_for(request.user, pk)
    context = _item_context(request, item)
    context["history"] = history_rows(list(audit_history(target=item)))
    context["meetings"] = item.meetings.select_related("minutes")
    context["open_problems"] = item.problems.filter(status="open").select_related(
        "task", "raised_by__person", "owner__person"
    )
    return render(request, "requests_app/item_detail.html", context)


@login_required
@require_GET
def item_print(request: HttpRequest, pk: int) -> HttpResponse:
    item = item_for(request.user, pk)
    return render(request, "requests_app/item_print.html", _item_context(request, item))


@login_required
@require_POST
def attachment_upload(request: HttpRequest, pk: int) -> HttpResponse:
    item = item_for(request.user, pk, EDIT_FORM)
    uploads = request.FILES.getlist("files")
    if not uploads:
        messages.error(request, _("Choose at least one file to attach."))
    for upload in uploads:
        try:
            services.attachment_add(actor=request.user, item_id=item.pk, upload=upload)
            messages.success(request, _('Attached "%(name)s".') % {"name": upload.name})
        except services.ItemError as error:
            messages.error(request, error.message)
    return redirect("requests_app:item_detail", pk=item.pk)


@login_required
@require_GET
def attachment_download(request: HttpRequest, pk: int, attachment_pk: int) -> HttpResponseBase:
    item = item_for(request.user, pk)
    attachment = get_object_or_404(Attachment, pk=attachment_pk, item=item)
    return stored_file_response(attachment.file, attachment.original_name)


@login_required
@require_POST
def attachment_delete(request: HttpRequest, pk: int, attachment_pk: int) -> HttpResponse:
    item = item_for(request.user, pk, EDIT_FORM)
    attachment = get_object_or_404(Attachment, pk=attachment_pk, item=item)
    try:
        services.attachment_remove(actor=request.user, attachment_id=attachment.pk)
        messages.success(request, _('Removed "%(name)s".') % {"name": attachment.original_name})
    except services.ItemError as error:
        messages.error(request, error.message)
    return redirect("requests_app:item_detail", pk=item.pk)


@login_required
@require_POST
def check_wording(request: HttpRequest) -> HttpResponse:
    """HTMX: the vague-wording advice for one field while the person types."""
    field = request.POST.get("field", "")
    # A row's field is posted under its formset name, e.g. "participations-0-core_need".
    key = next(
        (
            k
            for k in request.POST
            if field in WORDING_CHECKED_FIELDS and (k == field or k.endswith(f"-{field}"))
        ),
        "",
    )
    text = request.POST.get(key, "")
    problems = vague_wording_errors(text)
    if field == "expected_outcome" and (criterion := measurable_criterion_error(text)):
        problems.append(criterion)
    return render(request, "requests_app/item_form.html#wording", {"problems": problems})
