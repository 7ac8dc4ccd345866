"""Views of stage 5: deliverables, their review and the acceptance form (《成果验收表》).

Thin: access check, form, service, redirect. Access follows the item (outsiders get 404); the
writes belong to people on the deliverable: the task's owner submits and revises, the receiver
reviews, each side signs its own line. Anyone else who can read the item gets 403 on them.
"""

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from collab.downloads import stored_file_response
from collab.org import throttle
from collab.org.calendar import review_clock_label
from collab.org.models import display_name
from collab.pdf import render_pdf
from collab.prepared_rows import row_by_key
from requests_app.access import item_for
from requests_app.models import CollaborationItem, ItemStatus
from requests_app.services import ItemError
from reviews_app import delivery_services as services
from reviews_app.acceptance import (
    acceptance_form_context,
    acceptance_integrity,
    acceptance_queryset,
    accepted_version,
    signature_rows,
)
from reviews_app.access import DELIVER, REVIEW, REVISE, SIGN
from reviews_app.delivery_forms import DeliverableForm, ReviewForm, RevisionForm, SignForm
from reviews_app.models import Deliverable, DeliverableFile, DeliverableStatus, ReviewDecision, SignerRole
from tasks_app.models import Task


def _task_with_people(pk: int) -> QuerySet[Task]:
    return Task.objects.select_related("owner__person", "receiver__person").filter(pk=pk).order_by()


def _task(item: CollaborationItem, task_pk: int) -> Task:
    """The item's task with its people (compiled once per connection); 404 for another item's."""
    task: Task | None = row_by_key(_task_with_people, task_pk)
    if task is None or task.item_id != item.pk:
        raise Http404
    return task


def _deliverable(item: CollaborationItem, deliverable_pk: int) -> Deliverable:
    deliverable = get_object_or_404(acceptance_queryset(), pk=deliverable_pk, task__item=item)
    deliverable.task.item = item
    return deliverable


def _deliverable_with_task(pk: int) -> QuerySet[Deliverable]:
    return Deliverable.objects.select_related("task").filter(pk=pk).order_by()


def _deliverable_to_act_on(item: CollaborationItem, deliverable_pk: int) -> Deliverable:
    """The deliverable a POST acts on, without its form: the service reads (and locks) what it
    needs, and the answer is a redirect to the page that reads the rest. 404 for another item's."""
    deliverable: Deliverable | None = row_by_key(_deliverable_with_task, deliverable_pk)
    if deliverable is None or deliverable.task.item_id != item.pk:
        raise Http404
    deliverable.task.item = item
    return deliverable


def _detail(deliverable: Deliverable) -> HttpResponseRedirect:
    return redirect(
        "reviews_app:deliverable_detail", pk=deliverable.task.item_id, deliverable_pk=deliverable.pk
    )


def _error(request: HttpRequest, error: ItemError) -> None:
    messages.error(request, error.message)
    for field_messages in error.problems.values():
        for message in field_messages:
            if message != error.message:
                messages.error(request, message)


def _form_errors(request: HttpRequest, form: Any) -> None:
    for field_errors in form.errors.values():
        for message in field_errors:
            messages.error(request, message)


# --- the task's deliverables and submitting one --------------------------------------------------


@login_required
@require_GET
def task_deliverables(request: HttpRequest, pk: int, task_pk: int) -> HttpResponse:
    item = item_for(request.user, pk)
    task = _task(item, task_pk)
    deliverables = list(
        Deliverable.objects.filter(task=task)
        .select_related("deliverer__person", "receiver__person")
        .prefetch_related("versions")
    )
    context = {
        "item": item,
        "task": task,
        "deliverables": deliverables,
        "can_submit": item.status == ItemStatus.EXECUTING and request.user.pk == task.owner_id,
    }
    return render(request, "reviews_app/task_deliverables.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def deliverable_create(request: HttpRequest, pk: int, task_pk: int) -> HttpResponse:
    item = item_for(request.user, pk)
    task = _task(item, task_pk)
    DELIVER.require(request.user, task)
    if item.status != ItemStatus.EXECUTING:
        messages.error(
            request, _("Deliverables are submitted, reviewed and signed while the item is in execution.")
        )
        return redirect("reviews_app:task_deliverables", pk=item.pk, task_pk=task.pk)
    form = DeliverableForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                deliverable = services.deliverable_submit(
                    actor=request.user,
                    task_id=task.pk,
                    data=form.data_for_service(),
                    uploads=form.cleaned_data["uploads"],
                )
            except ItemError as error:
                form.apply_problems(error.problems)
                messages.error(request, error.message)
            else:
                messages.success(
                    request,
                    _('"%(deliverable)s" is submitted to %(person)s for review.')
                    % {"deliverable": deliverable.name, "person": display_name(deliverable.receiver)},
                )
                return _detail(deliverable)
        else:
            messages.error(request, _("The deliverable is not complete."))
    return render(
        request,
        "reviews_app/deliverable_form.html",
        {"item": item, "task": task, "form": form, "deliverable": None},
    )


# --- one deliverable ------------------------------------------------------------------------------


def _review_clock(deliverable: Deliverable, now: datetime) -> dict[str, Any] | None:
    """When the review of the waiting version is due, on the receiver's calendar, and how long is left."""
    if deliverable.status != DeliverableStatus.IN_REVIEW:
        return None
    version = list(deliverable.versions.all())[-1]
    calendar = services.review_calendar(deliverable.receiver)
    due = timezone.localtime(version.review_due_at, calendar.tz)
    overdue = due <= now
    return {
        "version": version,
        "due": due,
        "due_text": formats.date_format(due, "Y-m-d H:i"),
        "zone": str(calendar.tz),
        "overdue": overdue,
        "label": review_clock_label(calendar, now, due),
    }


def _sign_forms(
    request: HttpRequest, deliverable: Deliverable, item: CollaborationItem
) -> list[dict[str, Any]]:
    """A form for the side the user may sign now, if any (deliverer and receiver differ)."""
    if deliverable.status != DeliverableStatus.ACCEPTED or item.status != ItemStatus.EXECUTING:
        return []
    signatures = list(deliverable.signatures.all())
    if any(s.signer_id == request.user.pk for s in signatures):
        return []
    signed = {s.role for s in signatures}
    return [
        {"form": SignForm(initial={"role": role.value}), "role_label": role.label}
        for role in SignerRole
        if role.value not in signed and services.signer_for(deliverable, role.value) == request.user.pk
    ]


@login_required
@require_GET
def deliverable_detail(request: HttpRequest, pk: int, deliverable_pk: int) -> HttpResponse:
    item = item_for(request.user, pk)
    deliverable = _deliverable(item, deliverable_pk)
    versions = list(deliverable.versions.all())
    executing = item.status == ItemStatus.EXECUTING
    user_pk = request.user.pk
    can_review = (
        executing and user_pk == deliverable.receiver_id and deliverable.status == DeliverableStatus.IN_REVIEW
    )
    signatures = list(deliverable.signatures.all())
    context = {
        "item": item,
        "task": deliverable.task,
        "deliverable": deliverable,
        "versions": list(reversed(versions)),
        "version_count": len(versions),
        "clock": _review_clock(deliverable, timezone.now()),
        "review_form": ReviewForm(initial={"version_number": versions[-1].number}) if can_review else None,
        "can_revise": executing
        and user_pk == deliverable.deliverer_id
        and deliverable.status == DeliverableStatus.CHANGES_REQUESTED,
        "sign_forms": _sign_forms(request, deliverable, item),
        "signature_rows": signature_rows(deliverable),
        "accepted_number": accepted.number if (accepted := accepted_version(deliverable)) else None,
        "integrity": acceptance_integrity(deliverable) if signatures else None,
    }
    return render(request, "reviews_app/deliverable_detail.html", context)


@login_required
@require_POST
def deliverable_review(request: HttpRequest, pk: int, deliverable_pk: int) -> HttpResponse:
    item = item_for(request.user, pk)
    deliverable = _deliverable_to_act_on(item, deliverable_pk)
    REVIEW.require(request.user, deliverable)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _detail(deliverable)
    values = form.cleaned_data
    try:
        if values["decision"] == ReviewDecision.ACCEPTED:
            services.deliverable_accept(
                actor=request.user,
                deliverable_id=deliverable.pk,
                version_number=values["version_number"],
                comments=values["comments"],
            )
            messages.success(request, _("Accepted. Sign the acceptance form below; the deliverer signs too."))
        else:
            services.deliverable_request_changes(
                actor=request.user,
                deliverable_id=deliverable.pk,
                version_number=values["version_number"],
                comments=values["comments"],
            )
            messages.success(
                request, _("Your feedback is sent to the deliverer, who will submit a revised version.")
            )
    except ItemError as error:
        _error(request, error)
    return _detail(deliverable)


@login_required
@require_http_methods(["GET", "POST"])
def deliverable_revise(request: HttpRequest, pk: int, deliverable_pk: int) -> HttpResponse:
    item = item_for(request.user, pk)
    deliverable = _deliverable(item, deliverable_pk)
    REVISE.require(request.user, deliverable)
    if deliverable.status != DeliverableStatus.CHANGES_REQUESTED or item.status != ItemStatus.EXECUTING:
        messages.error(
            request, _("A revised version answers a request for changes; this deliverable has none open.")
        )
        return _detail(deliverable)
    form = RevisionForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                version = services.deliverable_revise(
                    actor=request.user,
                    deliverable_id=deliverable.pk,
                    note=form.cleaned_data["note"],
                    uploads=form.cleaned_data["uploads"],
                )
            except ItemError as error:
                form.apply_problems(error.problems)
                messages.error(request, error.message)
            else:
                messages.success(
                    request, _("Version %(number)s is submitted for review.") % {"number": version.number}
                )
                return _detail(deliverable)
        else:
            messages.error(request, _("The revised version is not complete."))
    versions = list(deliverable.versions.all())
    return render(
        request,
        "reviews_app/deliverable_form.html",
        {
            "item": item,
            "task": deliverable.task,
            "form": form,
            "deliverable": deliverable,
            "last": versions[-1],
        },
    )


@login_required
@require_POST
def deliverable_sign(request: HttpRequest, pk: int, deliverable_pk: int) -> HttpResponse:
    item = item_for(request.user, pk)
    deliverable = _deliverable_to_act_on(item, deliverable_pk)
    SIGN.require(request.user, deliverable)
    form = SignForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _detail(deliverable)
    try:
        services.deliverable_sign(
            actor=request.user,
            deliverable_id=deliverable.pk,
            role=form.cleaned_data["role"],
            password=form.cleaned_data["password"],
            ip_address=throttle.client_address(request),
            drawing=form.cleaned_data["drawing"],
        )
    except ItemError as error:
        _error(request, error)
    else:
        deliverable.refresh_from_db(fields=["status"])
        if deliverable.status == DeliverableStatus.SIGNED:
            messages.success(request, _("Signed. Both sides have signed: the acceptance form is locked."))
        else:
            messages.success(request, _("Signed. The form is locked once the other side signs too."))
    return _detail(deliverable)


@login_required
@require_GET
def deliverable_file(request: HttpRequest, pk: int, deliverable_pk: int, file_pk: int) -> HttpResponseBase:
    item = item_for(request.user, pk)
    file = get_object_or_404(
        DeliverableFile,
        pk=file_pk,
        version__deliverable_id=deliverable_pk,
        version__deliverable__task__item=item,
    )
    # The stored name is neutral; the person gets the original (often Chinese) name back.
    return stored_file_response(file.file, file.original_name)


# --- the acceptance form --------------------------------------------------------------------------


@login_required
@require_GET
def acceptance_print(request: HttpRequest, pk: int, deliverable_pk: int) -> HttpResponse:
    item = item_for(request.user, pk)
    deliverable = _deliverable(item, deliverable_pk)
    return render(request, "reviews_app/acceptance_print.html", acceptance_form_context(deliverable))


@login_required
@require_GET
def acceptance_pdf(request: HttpRequest, pk: int, deliverable_pk: int) -> HttpResponse:
    item = item_for(request.user, pk)
    deliverable = _deliverable(item, deliverable_pk)
    pdf = render_pdf("reviews_app/acceptance_pdf.html", acceptance_form_context(deliverable))
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = _("acceptance-form-%(number)s-%(deliverable)s.pdf") % {
        "number": item.number or item.pk,
        "deliverable": deliverable.pk,
    }
    response["Content-Disposition"] = content_disposition_header(as_attachment=False, filename=filename) or ""
    return response
