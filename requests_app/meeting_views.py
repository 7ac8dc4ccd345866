"""Views of stage 2: meetings, pre-reads, minutes and written confirmations."""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from collab.downloads import xlsx_response
from requests_app import meeting_services
from requests_app.access import RUN_MEETINGS, item_for, require_confirmer
from requests_app.day_off import answered, question
from requests_app.documents import minutes_book
from requests_app.meeting_forms import ConfirmForm, MeetingScheduleForm, MinutesEditor
from requests_app.meeting_selectors import confirmation_states
from requests_app.models import CollaborationItem, Meeting, Minutes
from requests_app.selectors import suggested_meeting_start
from requests_app.services import ItemError


def _zone_of(user: Any) -> str:
    region = getattr(getattr(user, "person", None), "region", None)
    return region.timezone if region is not None else settings.TIME_ZONE


def _meeting(item: CollaborationItem, meeting_pk: int) -> Meeting:
    return get_object_or_404(Meeting.objects.select_related("organiser"), pk=meeting_pk, item=item)


@login_required
@require_http_methods(["GET", "POST"])
def meeting_create(request: HttpRequest, pk: int) -> HttpResponse:
    item = item_for(request.user, pk, RUN_MEETINGS)
    zone = _zone_of(request.user)
    form = MeetingScheduleForm(
        request.POST or None,
        item=item,
        zone=zone,
        suggested_start=suggested_meeting_start(item, request.user),
    )
    if request.method == "POST":
        with timezone.override(zone):  # the time typed is the organiser's local time
            valid = form.is_valid()
        if valid:
            try:
                meeting = meeting_services.meeting_schedule(
                    actor=request.user, item_id=item.pk, data=form.data_for_service()
                )
            except ItemError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, _("Meeting scheduled; every invitee has received the pre-read."))
                return redirect("requests_app:meeting_detail", pk=item.pk, meeting_pk=meeting.pk)
    return render(request, "requests_app/meeting_form.html", {"item": item, "form": form})


@login_required
@require_GET
def meeting_detail(request: HttpRequest, pk: int, meeting_pk: int) -> HttpResponse:
    item = item_for(request.user, pk)
    meeting = _meeting(item, meeting_pk)
    minutes = Minutes.objects.filter(meeting=meeting).prefetch_related("attendees__person").first()
    states = confirmation_states(minutes) if minutes else []
    can_edit = RUN_MEETINGS.allows(request.user, item)
    context = {
        "item": item,
        "meeting": meeting,
        "invitations": meeting.invitations.select_related("person__person__department").order_by(
            "person__username"
        ),
        "minutes": minutes,
        "todos": minutes.todos.select_related("owner__person") if minutes else [],
        "responsibilities": minutes.responsibilities.select_related("department") if minutes else [],
        "states": states,
        "can_edit": can_edit,
        "confirm_for": [s["department"] for s in states if s["department"].may_confirm_for(request.user)],
        "local_time": meeting.local_starts_at,
    }
    return render(request, "requests_app/meeting_detail.html", context)


@login_required
@require_GET
def meeting_pre_read(request: HttpRequest, pk: int, meeting_pk: int) -> HttpResponse:
    item = item_for(request.user, pk)
    meeting = _meeting(item, meeting_pk)
    meeting_services.pre_read_open(person=request.user, meeting=meeting)
    context = {
        "item": item,
        "meeting": meeting,
        "participations": item.participations.select_related("department"),
        "milestones": item.milestones.all(),
        "attachments": item.attachments.all(),
        "local_time": meeting.local_starts_at,
    }
    return render(request, "requests_app/pre_read.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def minutes_edit(request: HttpRequest, pk: int, meeting_pk: int) -> HttpResponse:
    item = item_for(request.user, pk, RUN_MEETINGS)
    meeting = _meeting(item, meeting_pk)
    minutes = Minutes.objects.filter(meeting=meeting).first()
    data = answered(request.POST)
    editor = MinutesEditor(data or None, item=item, meeting=meeting, minutes=minutes)
    context: dict[str, Any] = {"item": item, "meeting": meeting, "minutes": minutes, "editor": editor}
    ask = editor.is_valid() and question(data, editor.committed_dates()) if request.method == "POST" else None
    if ask:
        return render(request, "requests_app/minutes_form.html", {**context, **ask})
    if request.method == "POST" and editor.is_valid():
        try:
            saved = meeting_services.minutes_record(
                actor=request.user, meeting_id=meeting.pk, data=editor.data()
            )
        except ItemError as error:
            editor.apply_problems(error.problems)
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("Minutes saved (version %(version)s). The departments are asked to confirm them.")
                % {"version": saved.version},
            )
            return redirect("requests_app:meeting_detail", pk=item.pk, meeting_pk=meeting.pk)
    return render(request, "requests_app/minutes_form.html", context)


@login_required
@require_POST
def minutes_confirm(request: HttpRequest, pk: int, meeting_pk: int) -> HttpResponse:
    item = item_for(request.user, pk)
    meeting = _meeting(item, meeting_pk)
    minutes = get_object_or_404(Minutes, meeting=meeting)
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, _("The confirmation could not be read: %(errors)s") % {"errors": form.errors.as_text()}
        )
        return redirect("requests_app:meeting_detail", pk=item.pk, meeting_pk=meeting.pk)
    department = form.cleaned_data["department"]
    # Participants may read the minutes but not sign for a department they do not head.
    require_confirmer(request.user, department)
    try:
        confirmation = meeting_services.minutes_confirm(
            actor=request.user,
            minutes_id=minutes.pk,
            department_id=department.pk,
            version=form.cleaned_data["version"],
            decision=form.cleaned_data["decision"],
            reason=form.cleaned_data["reason"],
        )
    except ItemError as error:
        messages.error(request, error.message)
    else:
        if confirmation.decision == "confirmed":
            messages.success(request, _("Confirmed for %(department)s.") % {"department": department})
        else:
            messages.success(
                request, _("Objection recorded for %(department)s.") % {"department": department}
            )
    return redirect("requests_app:meeting_detail", pk=item.pk, meeting_pk=meeting.pk)


@login_required
@require_GET
def minutes_print(request: HttpRequest, pk: int, meeting_pk: int) -> HttpResponse:
    item = item_for(request.user, pk)
    meeting = _meeting(item, meeting_pk)
    minutes = get_object_or_404(Minutes.objects.prefetch_related("attendees__person"), meeting=meeting)
    context = {
        "item": item,
        "meeting": meeting,
        "minutes": minutes,
        "todos": minutes.todos.select_related("owner__person"),
        "responsibilities": minutes.responsibilities.select_related("department"),
        "states": confirmation_states(minutes),
        "local_time": meeting.local_starts_at,
    }
    return render(request, "requests_app/minutes_print.html", context)


@login_required
@require_GET
def minutes_export(request: HttpRequest, pk: int, meeting_pk: int) -> HttpResponseBase:
    item = item_for(request.user, pk)
    meeting = _meeting(item, meeting_pk)
    minutes = get_object_or_404(Minutes.objects.select_related("meeting__item"), meeting=meeting)
    filename = _("minutes-%(number)s-v%(version)s.xlsx") % {"number": item.number, "version": minutes.version}
    return xlsx_response(filename, minutes_book(minutes, confirmation_states(minutes)))
