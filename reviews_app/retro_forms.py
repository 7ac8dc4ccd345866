"""Forms of the retrospective and the process-improvement log. They validate and convert; the
rules live in reviews_app.retro_services."""

from typing import Any

from django import forms
from django.forms import formset_factory
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collab.formfields import BoundedDateField, ChoiceById
from collab.org.models import Department
from collab.org.pickers import DepartmentPicker, PeoplePicker
from requests_app.day_off import Committed, row_dates
from requests_app.forms import PersonChoiceField, people
from requests_app.models import CollaborationItem
from requests_app.rules import clip
from reviews_app.models import MeasureStatus, Retrospective
from reviews_app.retro_services import TEXT_MAX_LENGTH, MeasureData, RetrospectiveData
from tasks_app.forms import PeopleChoiceField

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATE_ERROR = _("Enter a date such as 2026-10-05.")


class ProblemsMixin:
    def apply_problems(self, problems: dict[str, list[str]]) -> None:
        for name, messages in problems.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)  # type: ignore[attr-defined]


class RetrospectiveForm(ProblemsMixin, forms.Form):
    held_on = BoundedDateField(
        label=_("Retrospective date"), widget=DATE_INPUT, error_messages={"invalid": DATE_ERROR}
    )
    participants = PeopleChoiceField(
        label=_("Participants"),
        queryset=people(),
        widget=PeoplePicker,
        help_text=_("Type a name or its pinyin initials to add each participant."),
    )
    highlights = forms.CharField(
        label=_("Highlights"),
        max_length=TEXT_MAX_LENGTH * 5,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_('What worked and should be kept, e.g. "cross-department communication was fast".'),
    )
    shortcomings = forms.CharField(
        label=_("Shortcomings"),
        max_length=TEXT_MAX_LENGTH * 5,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_('What went wrong, e.g. "requirement changes were not synced in time".'),
    )


class MeasureForm(forms.Form):
    text = forms.CharField(
        label=_("Improvement measure"),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_('A concrete change, e.g. "set up a requirement-change notice".'),
    )
    owner = PersonChoiceField(label=_("Owner"), queryset=people(), empty_label=_("Choose a person"))
    department = ChoiceById(
        label=_("Department"),
        queryset=Department.objects.active(),
        required=False,
        empty_label=_("The owner's department"),
    )
    due_date = BoundedDateField(
        label=_("Due date"), widget=DATE_INPUT, error_messages={"invalid": DATE_ERROR}
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        owner = cleaned.get("owner")
        if owner is not None and cleaned.get("department") is None:
            department = getattr(getattr(owner, "person", None), "department", None)
            if department is None:
                self.add_error("department", _("Choose the department: the owner belongs to none."))
            cleaned["department"] = department
        return cleaned

    def measure(self) -> MeasureData:
        c = self.cleaned_data
        return MeasureData(c["text"], c["owner"].pk, c["department"].pk, c["due_date"])


# Two blank rows to start with; blank rows are ignored, more are added in the page.
MeasureFormSet = formset_factory(MeasureForm, extra=2, can_delete=True)


class RetrospectiveEditor:
    """The retrospective with its measure rows (when recording), validated together.

    Editing a recorded retrospective changes its facts only: its measures are in the log and
    assigned to people; new ones are added one by one.
    """

    def __init__(
        self, data: Any = None, *, item: CollaborationItem, retrospective: Retrospective | None = None
    ) -> None:
        self.retrospective = retrospective
        self.form = RetrospectiveForm(data, initial=self._initial(item, retrospective))
        self.measures = MeasureFormSet(data, prefix="measures") if retrospective is None else None

    @staticmethod
    def _initial(item: CollaborationItem, retrospective: Retrospective | None) -> dict[str, Any]:
        if retrospective is not None:
            return {
                "held_on": retrospective.held_on,
                "participants": list(retrospective.participants.values_list("pk", flat=True)),
                "highlights": retrospective.highlights,
                "shortcomings": retrospective.shortcomings,
            }
        # The people who carried the item: its requester, coordinator and task owners.
        participants = {item.requester_id, item.coordinator_id}
        participants |= set(item.tasks.values_list("owner_id", flat=True))
        return {"held_on": timezone.localdate(), "participants": sorted(participants)}

    def is_valid(self) -> bool:
        parts: list[Any] = [self.form] + ([self.measures] if self.measures is not None else [])
        return all([p.is_valid() for p in parts])  # noqa: C419 - every part shows its own errors

    def committed_dates(self) -> list[Committed]:
        if self.measures is None:
            return []
        return row_dates(
            self.measures,
            "due_date",
            lambda row: str(_('Improvement "%(measure)s"') % {"measure": clip(row.get("text", ""))}),
            owner="owner",
        )

    def data(self) -> RetrospectiveData:
        c = self.form.cleaned_data
        measures = []
        if self.measures is not None:
            measures = [
                f.measure()
                for f in self.measures.forms
                if f.cleaned_data and not f.cleaned_data.get("DELETE")
            ]
        return RetrospectiveData(
            held_on=c["held_on"],
            participant_ids=[p.pk for p in c["participants"]],
            highlights=c["highlights"],
            shortcomings=c["shortcomings"],
            measures=measures,
        )

    def apply_problems(self, problems: dict[str, list[str]]) -> None:
        for name, messages in problems.items():
            if name == "measures" and self.measures is not None:
                self.measures.non_form_errors().extend(messages)
            else:
                self.form.apply_problems({name: messages})


class CompleteMeasureForm(forms.Form):
    note = forms.CharField(
        label=_("How it was done"),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ImprovementFilterForm(forms.Form):
    """The log's filters. "overdue" is an open measure past its due date."""

    department = ChoiceById(
        label=_("Department"),
        required=False,
        queryset=Department.objects.active().order_by("name"),
        empty_label=_("All departments"),
        widget=DepartmentPicker,
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All statuses")), *MeasureStatus.choices, ("overdue", _("Overdue"))],
    )
    mine = forms.BooleanField(label=_("Mine only"), required=False)

    def filters(self) -> dict[str, Any]:
        return self.cleaned_data if self.is_valid() else {}
