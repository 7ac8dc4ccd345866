"""Forms of stage 1. They validate and convert; the services decide and write."""

import json
from datetime import date
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.forms import BaseFormSet, formset_factory
from django.forms.utils import flatatt
from django.http import HttpRequest
from django.urls import reverse_lazy
from django.utils.html import conditional_escape, escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from collab.fields import LONG_TEXT
from collab.formfields import BoundedDateField, ChoiceById
from collab.lib.numbers import parse_whole_number
from collab.org.models import Department, display_name
from collab.org.pickers import FULL_LIST, DepartmentPicker, PersonPicker
from requests_app.day_off import Committed, row_dates
from requests_app.models import CollaborationItem, ItemStatus, Scenario
from requests_app.rules import (
    MilestoneData,
    ParticipationData,
    RequirementData,
    requirement_problems,
)
from requests_app.start_selectors import Start, empty_start


class PersonChoiceField(ChoiceById):
    widget = PersonPicker

    def label_from_instance(self, obj: Any) -> str:
        department = getattr(getattr(obj, "person", None), "department", None)
        return f"{display_name(obj)} ({department})" if department else display_name(obj)


def people() -> QuerySet[Any]:
    return (
        get_user_model()
        .objects.filter(is_active=True, person__isnull=False)
        .select_related("person__department")
        .order_by("person__department__name", "last_name", "first_name", "username")
    )


# The fields whose wording the page checks while the person types (see views.check_wording).
WORDING_CHECKED_FIELDS = frozenset({"goal", "scope", "expected_outcome", "core_need", "text", "measures"})


def live_wording(field: forms.Field, name: str) -> None:
    """While the person types, HTMX asks the server for the same wording check as on submit and
    shows the advice in the next ``.wording-live`` box (``_field.html`` prints one)."""
    field.widget.attrs.update(
        {
            "hx-post": reverse_lazy("requests_app:check_wording"),
            "hx-trigger": "input changed delay:500ms, blur",
            "hx-target": "next .wording-live",
            "hx-vals": json.dumps({"field": name}),
        }
    )


class RequirementForm(forms.Form):
    topic = forms.CharField(label=_("Topic"), max_length=200)
    scenario = forms.ChoiceField(label=_("Scenario"), choices=Scenario.choices)
    requesting_department = ChoiceById(
        label=_("Requesting department"),
        queryset=Department.objects.active(),
        empty_label=_("Choose a department"),
        widget=DepartmentPicker,
    )
    coordinator = PersonChoiceField(
        label=_("Coordinator"), queryset=people(), empty_label=_("Choose a person")
    )
    goal = forms.CharField(
        max_length=LONG_TEXT,
        label=_("Goal"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the collaboration must achieve, specific and measurable."),
    )
    scope = forms.CharField(
        max_length=LONG_TEXT,
        label=_("Scope"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What is in and what is out."),
    )
    expected_outcome = forms.CharField(
        max_length=LONG_TEXT,
        label=_("Expected outcome"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "A result that can be checked, with a number, percentage, date or threshold, e.g. "
            '"user needs covered: 90%".'
        ),
    )
    remarks = forms.CharField(
        max_length=LONG_TEXT, label=_("Remarks"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("goal", "scope", "expected_outcome"):
            live_wording(self.fields[name], name)


class ParticipationForm(forms.Form):
    department = ChoiceById(
        label=_("Department"),
        queryset=Department.objects.active(),
        empty_label=_("Choose a department"),
        widget=DepartmentPicker,
    )
    role = forms.CharField(label=_("Role (optional)"), max_length=100, required=False)
    core_need = forms.CharField(
        label=_("Core need"),
        max_length=2000,
        help_text=_('What this party must provide, e.g. "R&D provides technical support".'),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        live_wording(self.fields["core_need"], "core_need")


class MilestoneForm(forms.Form):
    name = forms.CharField(label=_("Milestone"), max_length=200)
    due_date = BoundedDateField(
        label=_("Date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter a date such as 2026-10-05: milestones are dates, not words.")},
    )


class RowsFormSet(BaseFormSet):
    """Rows a person may leave fully blank: a blank row is ignored, never "this field is required".

    Django only lets rows past the initial ones be blank; here every row may be, so a pre-printed
    row left empty, or a row whose content was cleared, simply does not count.
    """

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {**super().get_form_kwargs(index), "empty_permitted": True, "use_required_attribute": False}


def filled_rows(formset: Any) -> list[dict[str, Any]]:
    """What each non-blank, non-deleted row holds, also when some of its fields are invalid."""
    return [
        form.cleaned_data
        for form in formset.forms
        if form.has_changed() and not form.cleaned_data.get("DELETE")
    ]


ParticipationFormSet = formset_factory(ParticipationForm, formset=RowsFormSet, extra=0, can_delete=True)
MilestoneFormSet = formset_factory(MilestoneForm, formset=RowsFormSet, extra=0, can_delete=True)


class ChangeReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=LONG_TEXT,
        label=_("Reason for the change"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Every party of the item sees this with the changed values."),
    )


class RequirementEditor:
    """The requirement form with its participation and milestone rows, validated together.

    ``submitting`` applies the template's rules (no vague wording, a measurable outcome, at least
    one party and one milestone); saving a draft only needs what identifies the item.
    """

    def __init__(
        self,
        data: Any = None,
        *,
        item: CollaborationItem | None = None,
        user: Any = None,
        submitting: bool = False,
        start: Start | None = None,
    ) -> None:
        self.submitting = submitting
        self.require_reason = item is not None and item.status != ItemStatus.DRAFT
        start = start or self._start(item, user)
        self.form = RequirementForm(data, initial=start.initial)
        # A new form offers two rows of each to fill in, counting those it starts with.
        least_rows = 0 if item else 2
        # Bound formsets get no initial: a posted row equal to its initial value would count as
        # "unchanged" and be dropped like a blank row.
        self.participations = ParticipationFormSet(
            data,
            prefix="participations",
            initial=_padded(start.participations, least_rows) if data is None else None,
        )
        self.milestones = MilestoneFormSet(
            data,
            prefix="milestones",
            initial=_padded(start.milestones, least_rows) if data is None else None,
        )
        self.reason = (
            ChangeReasonForm(data, initial={"reason": start.reason}) if self.require_reason else None
        )
        self._valid: bool | None = None

    @staticmethod
    def _start(item: CollaborationItem | None, user: Any) -> Start:
        if item is None:
            return empty_start(user)
        initial = {
            "topic": item.topic,
            "scenario": item.scenario,
            "requesting_department": item.requesting_department_id,
            "coordinator": item.coordinator_id,
            "goal": item.goal,
            "scope": item.scope,
            "expected_outcome": item.expected_outcome,
            "remarks": item.remarks,
        }
        participations = [
            {"department": p.department_id, "role": p.role, "core_need": p.core_need}
            for p in item.participations.all()
        ]
        milestones = [{"name": m.name, "due_date": m.due_date} for m in item.milestones.all()]
        return Start(initial, participations, milestones)

    def is_valid(self) -> bool:
        # Validated once: the rules add their messages to the forms, and a second run would
        # add them again.
        if self._valid is None:
            self._valid = self._validate()
        return self._valid

    def _validate(self) -> bool:
        parts: list[Any] = [self.form, self.participations, self.milestones]
        if self.reason is not None:
            parts.append(self.reason)
        # A list, not a generator: every part must validate so each shows its own errors.
        valid = all([p.is_valid() for p in parts])  # noqa: C419
        if not (self.submitting or self.require_reason):
            return valid
        # The template's rules run on whatever was filled in, so one submit reports every
        # problem at once: a missing topic does not hide the vague wording in the goal.
        return self.apply_rules(requirement_problems(self.data(partial=not valid))) and valid

    def apply_rules(self, problems: dict[str, list[str]]) -> bool:
        """Shows a service's or the rules' problems next to the fields they concern."""
        for name, messages in problems.items():
            for message in messages:
                if name == "participations":
                    self.participations.non_form_errors().append(message)
                elif name == "milestones":
                    self.milestones.non_form_errors().append(message)
                else:
                    self.form.add_error(name if name in self.form.fields else None, message)
        return not problems

    def data(self, *, partial: bool = False) -> RequirementData:
        """The form's content; ``partial`` fills what failed validation with blanks, for the rules."""
        cleaned = self.form.cleaned_data
        if partial:
            texts = ("topic", "scenario", "goal", "scope", "expected_outcome", "remarks")
            cleaned = dict.fromkeys(texts, "") | cleaned
        department, coordinator = cleaned.get("requesting_department"), cleaned.get("coordinator")
        return RequirementData(
            topic=cleaned["topic"],
            scenario=cleaned["scenario"],
            goal=cleaned["goal"],
            scope=cleaned["scope"],
            expected_outcome=cleaned["expected_outcome"],
            requesting_department_id=department.pk if department else 0,
            coordinator_id=coordinator.pk if coordinator else 0,
            remarks=cleaned["remarks"],
            participations=[
                ParticipationData(
                    f["department"].pk if f.get("department") else 0,
                    f.get("role", ""),
                    f.get("core_need", ""),
                )
                for f in filled_rows(self.participations)
            ],
            # A row whose date did not parse still counts as a milestone for the rules (its own
            # error says what is wrong with the date); date.min never reaches a service.
            milestones=[
                MilestoneData(f.get("name", ""), f.get("due_date") or date.min)
                for f in filled_rows(self.milestones)
            ],
        )

    def committed_dates(self) -> list[Committed]:
        return row_dates(self.milestones, "due_date", milestone_label)

    @property
    def change_reason(self) -> str:
        return self.reason.cleaned_data["reason"] if self.reason is not None else ""


def _padded(rows: list[dict[str, Any]], least: int) -> list[dict[str, Any]]:
    return rows + [{}] * max(0, least - len(rows))


def milestone_label(row: dict[str, Any]) -> str:
    return str(_('Milestone "%(name)s"') % {"name": row.get("name", "")})


class QuickSelect(forms.Select):
    """Django's select written as strings: through the template renderer each small select of the
    register's filters cost half a millisecond (an {% include %} per option), on every page."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        options = [
            f'<option value="{escape(str(option["value"]))}"'
            f"{' selected' if option['selected'] else ''}>{escape(str(option['label']))}</option>"
            for _group, group, _index in widget["optgroups"]
            for option in group
        ]
        head = format_html('<select name="{}"{}>', widget["name"], flatatt(widget["attrs"]))
        return mark_safe(head + "".join(options) + "</select>")  # noqa: S308 - every text is escaped


class QuickInput(forms.TextInput):
    """Django's text input written as a string (input.html and attrs.html, the same HTML): through
    the template renderer each input of the register's filters cost about half a millisecond."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        html = [f'<input type="{escape(widget["type"])}" name="{escape(widget["name"])}"']
        if widget["value"] is not None:
            html.append(f' value="{conditional_escape(widget["value"])}"')
        for attr, attr_value in widget["attrs"].items():  # in their order, as attrs.html
            if attr_value is True:
                html.append(f" {escape(attr)}")
            elif attr_value is not False:
                html.append(f' {escape(attr)}="{conditional_escape(attr_value)}"')
        html.append(">")
        return mark_safe("".join(html))  # noqa: S308 - every value above is escaped


class QuickDateInput(QuickInput, forms.DateInput):
    """A date input written as a string (QuickInput), the value formatted as DateInput does."""

    def __init__(self, attrs: dict[str, Any] | None = None, format: str | None = None) -> None:
        forms.DateInput.__init__(self, attrs, format)


class DepartmentFilterPicker(DepartmentPicker):
    """The department picker of the register's filters, its options read as values: the 200
    Department instances it built cost 2 of its 4 ms, on every register page."""

    def optgroups(self, name: str, value: list[Any], attrs: dict[str, Any] | None = None) -> Any:
        queryset = self.choices.queryset
        rows = list(queryset.values_list("pk", "name", "parent__name")[: FULL_LIST + 1])
        if len(rows) > FULL_LIST:
            return super().optgroups(name, value, attrs)  # only the chosen ones: as the picker does
        chosen = {str(v) for v in value if v not in ("", None)}
        options = [("", self.choices.field.empty_label)] + [
            (pk, f"{parent} / {department}" if parent else department) for pk, department, parent in rows
        ]
        return [
            (
                None,
                [{"value": pk, "label": label, "attrs": {"selected": True} if str(pk) in chosen else {}}],
                index,
            )
            for index, (pk, label) in enumerate(options)
        ]


class RegisterFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200, widget=QuickInput)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All statuses"))] + [c for c in ItemStatus.choices if c[0] != ItemStatus.DRAFT],
        widget=QuickSelect,
    )
    department = ChoiceById(
        label=_("Department"),
        required=False,
        queryset=Department.objects.active(),
        empty_label=_("All departments"),
        widget=DepartmentFilterPicker,
    )
    scenario = forms.ChoiceField(
        label=_("Scenario"),
        required=False,
        choices=[("", _("All scenarios")), *Scenario.choices],
        widget=QuickSelect,
    )
    submitted_from = BoundedDateField(
        label=_("Submitted from"), required=False, widget=QuickDateInput(attrs={"type": "date"})
    )
    submitted_to = BoundedDateField(
        label=_("Submitted until"), required=False, widget=QuickDateInput(attrs={"type": "date"})
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("-number", _("Newest first")),
            ("number", _("Oldest first")),
            ("deadline", _("Deadline")),
            ("topic", _("Topic")),
            ("status", _("Status")),
        ],
        widget=QuickSelect,
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("submitted_from"), cleaned.get("submitted_to")
        if start and end and start > end:
            raise forms.ValidationError(_("The start date is after the end date."))
        return cleaned


def posted_version(request: HttpRequest) -> int:
    """The version the page was built from; a missing or tampered value is simply stale."""
    return parse_whole_number(request.POST.get("version")) or 0
