"""The filters of the management and department dashboards: the period, the department."""

from datetime import date
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collab.dashboards.management import Period
from collab.formfields import BoundedDateField, ChoiceById
from collab.org.models import Department
from collab.org.pickers import DepartmentPicker

# A period longer than this is refused: the figures stay quick and the question stays sensible.
MAX_PERIOD_DAYS = 3 * 366


class PeriodForm(forms.Form):
    start = BoundedDateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = BoundedDateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if start > end:
                raise forms.ValidationError(_("The period must start on or before its last day."))
            if (end - start).days + 1 > MAX_PERIOD_DAYS:
                raise forms.ValidationError(_("Choose a period of at most three years."))
        return cleaned


def period_from(query: Any, today: date | None = None) -> tuple[Period, PeriodForm]:
    """The period asked for in ``query`` (GET), else the last 90 days; the form shows either."""
    default = Period.default(today or timezone.localdate())
    form = PeriodForm(query if ("start" in query or "end" in query) else None)
    if form.is_bound and form.is_valid():
        return Period(start=form.cleaned_data["start"], end=form.cleaned_data["end"]), form
    if not form.is_bound:
        form = PeriodForm(initial={"start": default.start, "end": default.end})
    return default, form


class DepartmentChoiceForm(forms.Form):
    """The department dashboard's department: the searchable picker, offering what ``choices`` holds
    (a head searches only the departments they head)."""

    department = ChoiceById(
        label=_("Department"), queryset=Department.objects.none(), empty_label=None, widget=DepartmentPicker
    )

    def __init__(self, *args: Any, choices: QuerySet[Department], headed_only: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["department"]
        field.queryset = choices  # type: ignore[attr-defined]
        if headed_only:
            field.widget.attrs["data-picker-url"] = f"{reverse('picker_departments')}?headed=1"
