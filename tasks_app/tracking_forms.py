from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from collab.fields import LONG_TEXT
from requests_app.access import people_who_see
from requests_app.forms import PersonChoiceField, people
from requests_app.models import CollaborationItem, ReportCadence
from tasks_app.models import REPORTED_STATUSES
from tasks_app.tracking_services import ReportData


class ReportForm(forms.Form):
    # Delivered and done come from stage 5 (a submitted deliverable, two signatures), never a report.
    status = forms.ChoiceField(
        label=_("Current status"), choices=[(s.value, s.label) for s in REPORTED_STATUSES]
    )
    percent_done = forms.IntegerField(
        label=_("Percent done"), min_value=0, max_value=100, widget=forms.NumberInput(attrs={"step": 5})
    )
    summary = forms.CharField(
        max_length=LONG_TEXT,
        label=_("Progress"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What was done since the last report."),
    )
    risks = forms.CharField(
        max_length=LONG_TEXT,
        label=_("Risks or problems"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Anything that threatens the deadline or the standard. The coordinator is told at once."),
    )
    measures = forms.CharField(
        max_length=LONG_TEXT,
        label=_("Measures taken"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def data_for_service(self) -> ReportData:
        c = self.cleaned_data
        return ReportData(c["status"], c["percent_done"], c["summary"], c["risks"], c["measures"])

    def apply_problems(self, problems: dict[str, list[str]]) -> None:
        for name, messages in problems.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)


class CadenceForm(forms.Form):
    cadence = forms.ChoiceField(label=_("Progress report cadence"), choices=ReportCadence.choices)


class ResolveForm(forms.Form):
    resolution = forms.CharField(
        max_length=LONG_TEXT, label=_("Resolution"), widget=forms.Textarea(attrs={"rows": 2})
    )


class AssignProblemForm(forms.Form):
    """Offers only the people who see the item (the service refuses anyone else)."""

    owner = PersonChoiceField(label=_("Resolved by"), queryset=people())

    def __init__(self, *args: Any, item: CollaborationItem, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner = cast(PersonChoiceField, self.fields["owner"])
        owner.queryset = people().filter(pk__in=people_who_see(item).values("pk"))
