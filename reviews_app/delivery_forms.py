"""Forms of stage 5. They validate and convert; the rules live in reviews_app.delivery_services."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from collab.fields import LONG_TEXT
from collab.formfields import IdField
from reviews_app.delivery_services import NAME_MAX_LENGTH, DeliverableData, drawing_problem
from reviews_app.models import ReviewDecision, SignerRole


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented pattern); a list of UploadedFile."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple) and data:
            return [single(d, initial) for d in data]
        if isinstance(data, list | tuple):
            data = None
        return [single(data, initial)] if data else single(data, initial)


class ProblemsMixin:
    def apply_problems(self, problems: dict[str, list[str]]) -> None:
        for name, messages in problems.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)  # type: ignore[attr-defined]


class DeliverableForm(ProblemsMixin, forms.Form):
    name = forms.CharField(
        label=_("Deliverable"),
        max_length=NAME_MAX_LENGTH,
        help_text=_("What you deliver, e.g. 测试报告 v1.0."),
    )
    uploads = MultipleFileField(label=_("Files"))
    note = forms.CharField(
        max_length=LONG_TEXT,
        label=_("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the receiver should know: what is included, how it meets the criteria."),
    )

    def data_for_service(self) -> DeliverableData:
        return DeliverableData(name=self.cleaned_data["name"], note=self.cleaned_data["note"])


class RevisionForm(ProblemsMixin, forms.Form):
    uploads = MultipleFileField(label=_("Files"))
    note = forms.CharField(
        max_length=LONG_TEXT,
        label=_("What changed"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("How this version answers the receiver's feedback."),
    )


class ReviewForm(ProblemsMixin, forms.Form):
    version_number = IdField(min_value=1)
    decision = forms.ChoiceField(
        label=_("Decision"), choices=ReviewDecision.choices, widget=forms.RadioSelect
    )
    comments = forms.CharField(
        max_length=LONG_TEXT,
        label=_("Feedback"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when you request changes: say exactly what must change."),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if (
            cleaned.get("decision") == ReviewDecision.CHANGES_REQUESTED
            and not cleaned.get("comments", "").strip()
        ):
            self.add_error("comments", _("Say what must change, so the deliverer can revise it."))
        return cleaned


class SignForm(ProblemsMixin, forms.Form):
    role = forms.ChoiceField(choices=SignerRole.choices, widget=forms.HiddenInput)
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Signing asks for your login password again."),
    )
    drawing = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_drawing(self) -> str:
        drawing = self.cleaned_data.get("drawing", "")
        if problem := drawing_problem(drawing):
            raise forms.ValidationError(problem)
        return drawing
