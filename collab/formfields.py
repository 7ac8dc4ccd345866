"""Form fields that refuse odd input with a message instead of failing later with a server error.

- Dates are bounded to 2000-01-01 … 2099-12-31: a deadline in year 1 or 9999 passes Django's
  DateField, then the working-day arithmetic, the warnings and the timeline step past the
  calendar's ends. The bounds are wide for a collaboration register and narrow enough for any
  date arithmetic done on them.
- Choices by id accept only ids the database can hold: a 30-digit number passes Django's model
  choice fields and then overflows the integer column in the query (SQLite raises OverflowError).
"""

from datetime import date, datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.utils.translation import gettext_lazy as _

from collab.lib.numbers import parse_whole_number

EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)
OUT_OF_RANGE = _("Enter a date between %(earliest)s and %(latest)s.")


def _in_range(day: date) -> None:
    if not EARLIEST <= day <= LATEST:
        raise ValidationError(
            OUT_OF_RANGE, code="out_of_range", params={"earliest": EARLIEST, "latest": LATEST}
        )


class BoundedDateField(forms.DateField):
    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        return {**super().widget_attrs(widget), "min": EARLIEST.isoformat(), "max": LATEST.isoformat()}

    def validate(self, value: Any) -> None:
        super().validate(value)
        if isinstance(value, date):
            _in_range(value)


class BoundedDateTimeField(forms.DateTimeField):
    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        return {**attrs, "min": f"{EARLIEST.isoformat()}T00:00", "max": f"{LATEST.isoformat()}T23:59"}

    def validate(self, value: Any) -> None:
        super().validate(value)
        if isinstance(value, datetime):
            _in_range(value.date())


def _require_ids(field: forms.ModelChoiceField, values: Any) -> None:
    for value in values:
        if not isinstance(value, Model) and parse_whole_number(str(value)) is None:
            raise ValidationError(
                field.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
            )


class ChoiceById(forms.ModelChoiceField):
    """A model choice posted as the row's id."""

    def to_python(self, value: Any) -> Any:
        if value not in self.empty_values:
            _require_ids(self, [value])
        return super().to_python(value)


class ChoicesById(forms.ModelMultipleChoiceField):
    """Model choices posted as the rows' ids."""

    # _check_values is where Django queries the posted ids (missing from django-stubs).
    def _check_values(self, value: Any) -> Any:
        _require_ids(self, value)
        return super()._check_values(value)  # type: ignore[misc]


class IdField(forms.IntegerField):
    """A hidden id or version number: a whole number that fits the database's integer columns."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", 2**31 - 1)
        kwargs.setdefault("widget", forms.HiddenInput)
        super().__init__(**kwargs)
