"""Person and department pickers that scale: search as you type, several choices without Ctrl.

- The page carries only what is chosen; the rest is found by ``search_people`` /
  ``search_departments`` (name, login name, department, pinyin and pinyin initials: "zm" finds
  张敏), at most ``LIMIT`` answers a keystroke, however many people the company has.
- The widgets render a plain ``<select>`` of the chosen options with ``data-picker`` attributes;
  ``static/js/picker.js`` turns it into a search box with chips, keyboard and touch friendly.
"""

from functools import lru_cache
from html import escape
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.forms.renderers import BaseRenderer
from django.forms.utils import flatatt
from django.urls import reverse_lazy
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from pypinyin import Style, lazy_pinyin

from collab.org.models import Department, display_name

LIMIT = 20


@lru_cache(maxsize=50_000)
def pinyin_keys(text: str) -> tuple[str, str]:
    """("zhangmin", "zm") for 张敏; letters and digits of other scripts stay as they are."""
    full = "".join(lazy_pinyin(text)).lower().replace(" ", "")
    initials = "".join(lazy_pinyin(text, style=Style.FIRST_LETTER)).lower().replace(" ", "")
    return full, initials


def _rank(query: str, *texts: str) -> int | None:
    """0 for an exact match ("zm" for 张敏), 1 for a prefix, 2 for a match anywhere, None for none."""
    best: int | None = None
    for text in texts:
        text = text.lower()
        if not text:
            continue
        if text == query:
            return 0
        if text.startswith(query):
            best = 1
        elif query in text and best is None:
            best = 2
    return best


def person_label(user: Any, department: str = "") -> str:
    return f"{display_name(user)} · {department}" if department else display_name(user)


def search_people(query: str, *, limit: int = LIMIT) -> list[dict[str, Any]]:
    """Active people whose name, login name, department or its pinyin match ``query``. One query."""
    query = query.strip().lower()
    if not query:
        return []
    rows = (
        get_user_model()
        .objects.filter(is_active=True, person__isnull=False)
        .values_list("pk", "first_name", "last_name", "username", "person__department__name")
        .order_by("last_name", "first_name", "username")
    )
    found: list[tuple[int, str, dict[str, Any]]] = []
    for pk, first, last, username, department in rows:
        user = get_user_model()(first_name=first, last_name=last, username=username)
        name = display_name(user)
        full, initials = pinyin_keys(name)
        rank = _rank(query, name, full, initials, username)
        if rank is None and _rank(query, department or "", *pinyin_keys(department or "")) is not None:
            rank = 3
        if rank is not None:
            found.append((rank, name, {"id": pk, "label": person_label(user, department or "")}))
    found.sort(key=lambda row: (row[0], row[1]))
    return [row for _rank_, _name, row in found[:limit]]


def department_label(department: Department) -> str:
    return (
        f"{department.parent.name} / {department.name}"
        if department.parent_id and department.parent
        else department.name
    )


def search_departments(query: str, *, limit: int = LIMIT, headed_by: Any = None) -> list[dict[str, Any]]:
    """Active departments whose name or its pinyin match; ``headed_by``: only those they head."""
    query = query.strip().lower()
    if not query:
        return []
    found = []
    departments = Department.objects.active().select_related("parent").order_by("name")
    if headed_by is not None:
        departments = departments.filter(head=headed_by)
    for department in departments:
        rank = _rank(query, department.name, *pinyin_keys(department.name))
        if rank is not None:
            found.append(
                (rank, department.name, {"id": department.pk, "label": department_label(department)})
            )
    found.sort(key=lambda row: (row[0], row[1]))
    return [row for _rank_, _name, row in found[:limit]]


# Up to this many choices the page lists them all (a small company, and pages work without
# JavaScript); beyond it only the chosen ones, the rest is found by searching.
FULL_LIST = 300


class _ChosenOnly:
    """Renders every option of a short list, only the chosen ones of a long one."""

    picker = ""
    choices: Any
    allow_multiple_selected: bool

    def optgroups(self, name: str, value: list[Any], attrs: dict[str, Any] | None = None) -> Any:
        queryset = getattr(self.choices, "queryset", None)
        field = getattr(self.choices, "field", None)
        if queryset is None or field is None:
            return super().optgroups(name, value, attrs)  # type: ignore[misc]
        # One query for a short list (as before); a long one costs one more, for the chosen.
        options = list(queryset[: FULL_LIST + 1])
        if len(options) > FULL_LIST:
            wanted = [v for v in value if v not in ("", None)]
            options = list(queryset.filter(pk__in=wanted)) if wanted else []
        empty = getattr(field, "empty_label", None)
        full_choices = self.choices
        self.choices = ([("", empty)] if not self.allow_multiple_selected and empty is not None else []) + [
            (field.prepare_value(obj), field.label_from_instance(obj)) for obj in options
        ]
        try:
            return super().optgroups(name, value, attrs)  # type: ignore[misc]
        finally:
            self.choices = full_choices

    def use_required_attribute(self, initial: Any) -> bool:
        """Select's answer without reading the list for its first option (a query of every
        choice): a single choice's first option is the field's empty label when it has one (then
        "required" applies), else a row, which always has a value."""
        field = getattr(self.choices, "field", None)
        if field is None or self.allow_multiple_selected:
            return super().use_required_attribute(initial)  # type: ignore[misc]
        return not self.is_hidden and getattr(field, "empty_label", None) is not None  # type: ignore[attr-defined]

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: BaseRenderer | None = None
    ) -> SafeString:
        """The HTML of Django's select.html and select_option.html, written here: through the
        templates each of the 200 options of a department list is an {% include %}, 23 ms of the
        register page's CPU; as strings, under 1 ms."""
        widget = self.get_context(name, value, attrs)["widget"]  # type: ignore[attr-defined]
        parts: list[str] = [format_html('<select name="{}"{}>', widget["name"], flatatt(widget["attrs"]))]
        for group_name, group_choices, _index in widget["optgroups"]:
            if group_name:
                parts.append(format_html('<optgroup label="{}">', group_name))
            parts.extend(
                f'<option value="{_escaped(option["value"])}"'
                f"{flatatt(option['attrs']) if option['attrs'] else ''}>{_escaped(option['label'])}</option>"
                for option in group_choices
            )
            if group_name:
                parts.append("</optgroup>")
        parts.append("</select>")
        return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped

    def build_attrs(
        self, base_attrs: dict[str, Any], extra_attrs: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        attrs = super().build_attrs(base_attrs, extra_attrs)  # type: ignore[misc]
        url = reverse_lazy("picker_people") if self.picker == "people" else reverse_lazy("picker_departments")
        attrs["data-picker"] = self.picker
        attrs.setdefault("data-picker-url", str(url))  # a page may narrow the search (?headed=1)
        return attrs


def _escaped(value: Any) -> str:
    """As the template's {{ value }}: escaped unless already safe (the standard library's escape,
    without the lazy-string wrapper around Django's, which cost half the 200 options' time)."""
    return value.__html__() if hasattr(value, "__html__") else escape(str(value))


class PersonPicker(_ChosenOnly, forms.Select):
    picker = "people"


class PeoplePicker(_ChosenOnly, forms.SelectMultiple):
    picker = "people"


class DepartmentPicker(_ChosenOnly, forms.Select):
    picker = "departments"


class DepartmentsPicker(_ChosenOnly, forms.SelectMultiple):
    picker = "departments"
