"""Forms of stage 2: scheduling a meeting, recording the minutes, confirming them."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.forms import formset_factory
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collab.fields import LONG_TEXT
from collab.formfields import BoundedDateField, BoundedDateTimeField, ChoiceById, ChoicesById, IdField
from collab.org.models import Department
from collab.org.pickers import DepartmentsPicker, PeoplePicker
from requests_app.day_off import Committed, row_dates
from requests_app.forms import (
    MilestoneFormSet,
    PersonChoiceField,
    RowsFormSet,
    filled_rows,
    live_wording,
    milestone_label,
    people,
)
from requests_app.meeting_services import MeetingData, MinutesData, TodoData
from requests_app.models import (
    SCENARIO_PRESETS,
    AgendaPoint,
    CollaborationItem,
    ConfirmationDecision,
    Meeting,
    MeetingForm,
    Minutes,
)
from requests_app.rules import MilestoneData
from requests_app.selectors import participating_departments


class PeopleField(ChoicesById):
    widget = PeoplePicker

    def label_from_instance(self, obj: Any) -> str:
        return PersonChoiceField.label_from_instance(self, obj)  # type: ignore[arg-type]


class MeetingScheduleForm(forms.Form):
    form = forms.ChoiceField(label=_("Meeting form"), choices=MeetingForm.choices)
    starts_at = BoundedDateTimeField(
        label=_("Time"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    location = forms.CharField(label=_("Place or link"), max_length=300)
    invitees = PeopleField(label=_("People"), queryset=people(), required=False)
    departments = ChoicesById(
        label=_("Departments"),
        queryset=Department.objects.active(),
        required=False,
        help_text=_("Everyone in a department you invite receives the pre-read."),
        widget=DepartmentsPicker,
    )

    def __init__(
        self, *args: Any, item: CollaborationItem, zone: str, suggested_start: datetime, **kwargs: Any
    ) -> None:
        # The scenario suggests the form and how soon to meet; the organiser may change both.
        suggested_form = SCENARIO_PRESETS[item.scenario].meeting_form
        kwargs.setdefault(
            "initial",
            {
                "form": suggested_form,
                # The wall-clock time in the organiser's zone, which the input is read in.
                "starts_at": suggested_start.astimezone(ZoneInfo(zone)).replace(tzinfo=None),
                "departments": [d.pk for d in participating_departments(item)],
                "invitees": [item.requester_id, item.coordinator_id],
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["starts_at"].help_text = _("In your time zone (%(zone)s).") % {"zone": zone}
        self.zone = zone

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("invitees") and not cleaned.get("departments"):
            raise forms.ValidationError(_("Invite at least one person or department."))
        return cleaned

    def data_for_service(self) -> MeetingData:
        cleaned = self.cleaned_data
        return MeetingData(
            form=cleaned["form"],
            starts_at=cleaned["starts_at"],
            timezone=self.zone,
            location=cleaned["location"],
            invitee_ids=[p.pk for p in cleaned["invitees"]],
            department_ids=[d.pk for d in cleaned["departments"]],
        )


class MinutesForm(forms.Form):
    attendees = PeopleField(label=_("Attendees"), queryset=people())
    feasibility = forms.CharField(
        max_length=LONG_TEXT,
        label=AgendaPoint.FEASIBILITY.label,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    resources = forms.CharField(
        max_length=LONG_TEXT,
        label=AgendaPoint.RESOURCES.label,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    risks = forms.CharField(
        max_length=LONG_TEXT,
        label=AgendaPoint.RISKS.label,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    adjustments = forms.CharField(
        max_length=LONG_TEXT,
        label=AgendaPoint.ADJUSTMENTS.label,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            'E.g. "R&D needs 3 more days for testing: the launch moves to 10-18." '
            "Change the milestones below to match."
        ),
    )
    conclusions = forms.CharField(
        max_length=LONG_TEXT, label=_("Conclusions"), widget=forms.Textarea(attrs={"rows": 3})
    )
    early_reason = forms.CharField(
        label=_("Why before the scheduled time?"),
        required=False,
        max_length=500,
        help_text=_(
            "The meeting has not reached its scheduled time. "
            'E.g. "moved to 10:00 at the director\'s request".'
        ),
    )


class ResponsibilityForm(forms.Form):
    department = ChoiceById(
        label=_("Department"), queryset=Department.objects.all(), empty_label=_("Choose a department")
    )
    # Pre-printed per participating department; a department left without text records nothing.
    text = forms.CharField(label=_("Responsibility"), max_length=2000, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        live_wording(self.fields["text"], "text")


class TodoForm(forms.Form):
    todo_id = IdField(required=False)
    text = forms.CharField(label=_("To-do"), max_length=300)
    owner = PersonChoiceField(label=_("Owner"), queryset=people(), empty_label=_("Choose a person"))
    due_date = BoundedDateField(
        label=_("Due date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        live_wording(self.fields["text"], "text")


ResponsibilityFormSet = formset_factory(ResponsibilityForm, formset=RowsFormSet, extra=0, can_delete=True)
TodoFormSet = formset_factory(TodoForm, formset=RowsFormSet, extra=0, can_delete=True)


class MinutesEditor:
    """The minutes with their responsibility, milestone and to-do rows, validated together."""

    def __init__(
        self, data: Any = None, *, item: CollaborationItem, meeting: Meeting, minutes: Minutes | None
    ) -> None:
        bound = data is not None
        # The invitees are the likely attendees: the organiser removes who did not come.
        initial: dict[str, Any] = {"attendees": [i.person_id for i in meeting.invitations.all()]}
        responsibilities: list[dict[str, Any]]
        todos: list[dict[str, Any]] = [{}, {}]
        milestones = [{"name": m.name, "due_date": m.due_date} for m in item.milestones.all()]
        if minutes is None:
            responsibilities = [{"department": d.pk} for d in participating_departments(item)]
        else:
            initial = {
                "attendees": [u.pk for u in minutes.attendees.all()],
                "conclusions": minutes.conclusions,
            }
            initial.update(minutes.agenda)
            responsibilities = [
                {"department": r.department_id, "text": r.text} for r in minutes.responsibilities.all()
            ]
            todos = [
                {"todo_id": t.pk, "text": t.text, "owner": t.owner_id, "due_date": t.due_date}
                for t in minutes.todos.all()
            ]
        self.form = MinutesForm(data, initial=initial)
        # Asked only while the meeting has not reached its time (the service refuses without it).
        self.early = timezone.now() < meeting.starts_at
        if not self.early:
            del self.form.fields["early_reason"]
        self.responsibilities = ResponsibilityFormSet(
            data, prefix="responsibilities", initial=None if bound else responsibilities
        )
        self.milestones = MilestoneFormSet(data, prefix="milestones", initial=None if bound else milestones)
        self.todos = TodoFormSet(data, prefix="todos", initial=None if bound else todos)

    def is_valid(self) -> bool:
        parts: list[Any] = [self.form, self.responsibilities, self.milestones, self.todos]
        return all([part.is_valid() for part in parts])  # noqa: C419 (validate every part)

    def apply_problems(self, problems: dict[str, list[str]]) -> None:
        for name, messages in problems.items():
            for message in messages:
                if name in ("todos", "responsibilities"):
                    getattr(self, name).non_form_errors().append(message)
                else:
                    self.form.add_error(name if name in self.form.fields else None, message)

    def committed_dates(self) -> list[Committed]:
        return row_dates(self.milestones, "due_date", milestone_label) + row_dates(
            self.todos,
            "due_date",
            lambda row: str(_('To-do "%(todo)s"') % {"todo": row.get("text", "")}),
            owner="owner",
        )

    def data(self) -> MinutesData:
        cleaned = self.form.cleaned_data
        return MinutesData(
            attendee_ids=[u.pk for u in cleaned["attendees"]],
            agenda={point: cleaned.get(point, "") for point in AgendaPoint.values},
            conclusions=cleaned["conclusions"],
            responsibilities=[
                (f["department"].pk, f["text"])
                for f in filled_rows(self.responsibilities)
                if f["text"].strip()
            ],
            final_milestones=[MilestoneData(f["name"], f["due_date"]) for f in filled_rows(self.milestones)],
            todos=[
                TodoData(f["text"], f["owner"].pk, f["due_date"], f.get("todo_id"))
                for f in filled_rows(self.todos)
            ],
            early_reason=cleaned.get("early_reason", ""),
        )


class ConfirmForm(forms.Form):
    department = ChoiceById(queryset=Department.objects.all(), widget=forms.HiddenInput)
    version = IdField()
    decision = forms.ChoiceField(choices=ConfirmationDecision.choices)
    reason = forms.CharField(
        max_length=LONG_TEXT,
        label=_("Reason (required to object)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
