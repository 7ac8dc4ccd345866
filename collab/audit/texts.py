"""System texts stored untranslated: a message id and its parameters, rendered for each reader.

History and notifications are read long after they are written, by people whose language is not
the writer's. So what the system writes into them is stored as ``{"msgid": …, "params": {…}}``
and translated when someone reads it: the page in the viewer's language, an e-mail or an IM
message in the recipient's. Text a person wrote (a topic, a reason, a name) is a plain string
parameter and stays as written; parameters that are themselves system texts are stored as codes
and rendered in the reader's language too:

- ``Text(...)``: a nested system text;
- ``date`` / ``Date(day, "MONTH_DAY_FORMAT")``: an ISO date, shown in the reader's format
  (2026年12月2日, Dec. 2, 2026);
- ``datetime`` / ``DateTime(moment, "Y-m-d H:i")``: an aware moment, shown at the offset it was
  given (the meeting's own time zone, say);
- ``Choice(ItemStatus, "closed")``: a choice's code, shown as its label; ``FieldChoice(Task,
  "status", "done")`` the same through a model field's choices;
- ``Joined([...], "\\n")``: parameters joined, each rendered.

The message id must be marked for the catalogue where it is written:
``Text(gettext_noop("The minutes were revised."))``. A test checks that every stored msgid is in
the catalogue with its Chinese translation.
"""

import importlib
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import formats
from django.utils.functional import Promise
from django.utils.translation import gettext


class Date:
    def __init__(self, value: date, format: str = "DATE_FORMAT") -> None:
        self.value, self.format = value, format

    def as_json(self) -> dict[str, str]:
        return {"date": self.value.isoformat(), "format": self.format}


class DateTime:
    def __init__(self, value: datetime, format: str = "DATETIME_FORMAT") -> None:
        self.value, self.format = value, format

    def as_json(self) -> dict[str, str]:
        return {"datetime": self.value.isoformat(), "format": self.format}


class Choice:
    """A choice's code and the choices class that labels it (a ``TextChoices``)."""

    def __init__(self, choices: type, value: str) -> None:
        self.path = f"{choices.__module__}:{choices.__qualname__}"
        self.value = str(value)

    def as_json(self) -> dict[str, str]:
        return {"choice": self.path, "value": self.value}


class FieldChoice:
    """A choice's code labelled by a model field's choices (a status of any stateful model)."""

    def __init__(self, model: type[models.Model], field: str, value: str) -> None:
        self.path = f"{model._meta.label_lower}.{field}"
        self.value = str(value)

    def as_json(self) -> dict[str, str]:
        return {"field": self.path, "value": self.value}


class Joined:
    def __init__(self, parts: Iterable[Any], separator: str = "\n") -> None:
        self.parts, self.separator = list(parts), separator

    def __str__(self) -> str:
        return str(_param(self.as_json()))

    def as_json(self) -> dict[str, Any]:
        return {"join": [param_json(p) for p in self.parts], "separator": self.separator}


class Text:
    """A system text: its untranslated message id and its parameters. ``str()`` renders it in
    the active language; ``as_json()`` is what is stored."""

    def __init__(self, msgid: str, /, **params: Any) -> None:
        if isinstance(msgid, Promise):
            raise TypeError("Text takes the msgid itself: mark it with gettext_noop, not gettext_lazy")
        self.msgid = msgid
        self.params = {name: param_json(value) for name, value in params.items()}

    @classmethod
    def stored(cls, msgid: str, params: dict[str, Any]) -> "Text":
        """A text whose parameters are given as stored already (what ``param_json`` returns),
        for a caller that makes thousands of texts of one shape (the warning sweep)."""
        text = cls.__new__(cls)
        text.msgid, text.params = msgid, params
        return text

    def as_json(self) -> dict[str, Any]:
        return {"msgid": self.msgid, "params": self.params} if self.params else {"msgid": self.msgid}

    def __str__(self) -> str:
        return _render(self.msgid, self.params, None)

    def render(self, renderings: "Renderings | None" = None) -> str:
        """``str()``, sharing ``renderings`` with other texts rendered in the same language."""
        return _render(self.msgid, self.params, renderings)

    def __repr__(self) -> str:
        return f"Text({self.msgid!r}, **{self.params!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Text) and other.as_json() == self.as_json()

    def __hash__(self) -> int:
        return hash(self.msgid)


def param_json(value: Any) -> Any:
    """One parameter as stored: JSON, with system texts, dates and choices as codes."""
    if isinstance(value, Text | Date | DateTime | Choice | FieldChoice | Joined):
        return value.as_json()
    if is_text(value):
        return dict(value)  # a text stored before, say a notification's title in the digest
    if isinstance(value, datetime):
        return DateTime(value).as_json()
    if isinstance(value, date):
        return Date(value).as_json()
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return value
    # Person-written text, names, numbers as text; a lazy string is rendered now (its msgid is
    # not knowable), so callers pass choices as Choice and messages as Text.
    return str(value)


def stored(value: Any) -> Any:
    """``value`` ready for a JSON column: a Text becomes its JSON, containers are walked."""
    if isinstance(value, Text | Date | DateTime | Choice | FieldChoice | Joined):
        return value.as_json()
    if isinstance(value, Mapping):
        return {key: stored(v) for key, v in value.items()}
    if isinstance(value, list | tuple):
        return [stored(v) for v in value]
    return value


def is_text(value: Any) -> bool:
    """A stored system text (what ``Text.as_json`` made)."""
    return isinstance(value, Mapping) and isinstance(value.get("msgid"), str)


def _choice_label(path: str, value: str) -> str:
    module, _colon, qualname = path.partition(":")
    try:
        found: Any = importlib.import_module(module)
        for part in qualname.split("."):
            found = getattr(found, part)
        return str(found(value).label)
    except (ImportError, AttributeError, ValueError):
        return value  # a choice that no longer exists: its code


def _field_label(path: str, value: str) -> str:
    label, _dot, field = path.rpartition(".")
    try:
        choices = dict(apps.get_model(label)._meta.get_field(field).flatchoices)
    except (LookupError, ValueError, FieldDoesNotExist):
        return value
    return str(choices.get(value, value))


def _param(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    if is_text(value):
        return render(value)
    try:
        if "date" in value:
            return formats.date_format(date.fromisoformat(value["date"]), value.get("format", "DATE_FORMAT"))
        if "datetime" in value:
            moment = datetime.fromisoformat(value["datetime"])
            return formats.date_format(moment, value.get("format", "DATETIME_FORMAT"))
    except (TypeError, ValueError):
        return str(value.get("date") or value.get("datetime"))
    if "choice" in value:
        return _choice_label(str(value["choice"]), str(value.get("value", "")))
    if "field" in value:
        return _field_label(str(value["field"]), str(value.get("value", "")))
    if "join" in value:
        return str(value.get("separator", "\n")).join(str(_param(p)) for p in value["join"])
    return str(value)


def _translated(msgid: str) -> str:
    return gettext(msgid) if msgid else ""


class Renderings:
    """What rendering many texts in one active language can share: each message id translated
    once and each stored value (a date, a choice) rendered once. The thousands of warnings of a
    sweep share a few messages and deadlines. Pass one to ``render`` (or ``Text.render``) for
    texts rendered under the same active language only."""

    def __init__(self) -> None:
        self.messages: dict[str, str] = {}
        self.values: dict[Any, Any] = {}

    def message(self, msgid: str) -> str:
        message = self.messages.get(msgid)
        if message is None:
            message = self.messages[msgid] = _translated(msgid)
        return message

    def value(self, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        try:
            key = tuple(value.items())
            hash(key)
        except TypeError:  # a nested text with parameters: rendered each time
            return _param(value)
        rendered = self.values.get(key)
        if rendered is None:
            rendered = self.values[key] = _param(value)
        return rendered


def _render(msgid: str, params: Mapping[str, Any], renderings: Renderings | None) -> str:
    message = renderings.message(msgid) if renderings is not None else _translated(msgid)
    if not params:
        return message
    if renderings is not None:
        values = {name: renderings.value(value) for name, value in params.items()}
    else:
        values = {name: _param(value) for name, value in params.items()}
    try:
        return message % values
    except (KeyError, ValueError, TypeError):
        # A translation that lost a placeholder must not hide the message: the source text.
        return msgid % values


def render(data: Mapping[str, Any], renderings: Renderings | None = None) -> str:
    """A stored system text in the active language (``renderings``: shared with other texts
    rendered in the same language)."""
    return _render(str(data.get("msgid", "")), data.get("params") or {}, renderings)


def as_stored(value: Any) -> dict[str, Any] | None:
    """What a JSON column keeps of a system text (a ``Text`` or ``Joined`` texts); None for a
    plain string, which is kept as rendered."""
    return value.as_json() if isinstance(value, Text | Joined) else None


def render_value(value: Any) -> str:
    """One stored value of the history's changes: a system text, a date or a choice rendered
    for the reader; anything else (what a person wrote, a code) as it is."""
    return str(_param(value)) if isinstance(value, Mapping) else str(value)


def display(data: Any, fallback: str = "") -> str:
    """A stored system text rendered, or ``fallback`` (the text rendered when it was written,
    kept for rows older than stored texts)."""
    if isinstance(data, Mapping) and (is_text(data) or "join" in data):
        return str(_param(data))
    return fallback


def msgids(data: Any) -> set[str]:
    """Every message id in a stored value, nested ones included (for the catalogue test)."""
    found: set[str] = set()
    if isinstance(data, Mapping):
        if is_text(data):
            found.add(data["msgid"])
        for value in data.values():
            found |= msgids(value)
    elif isinstance(data, list):
        for value in data:
            found |= msgids(value)
    return found
