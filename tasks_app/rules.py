"""The template's rules for a task, with messages in the reader's language.

Refusals (a vague delivery standard, no deadline, the owner also listed as a collaborator) stop
a task; warnings (a deadline on a holiday, a standard without a figure) are shown and let the
coordinator decide. Forms call these for field messages and the services call them again, so no
path around the form writes a task that breaks the rules.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from collab.lib.wording import has_measurable_criterion
from collab.lib.workdays import DayKind
from requests_app.rules import vague_wording_errors


@dataclass
class TaskData:
    """The content of a task, as the form (or a later import) hands it to the services."""

    name: str
    owner_id: int
    delivery_standard: str
    deadline: date | None
    receiver_id: int
    department_id: int
    collaborator_ids: list[int] = field(default_factory=list)


def task_problems(data: TaskData) -> dict[str, list[str]]:
    """What stops ``data`` from becoming a task, by field name."""
    problems: dict[str, list[str]] = {}

    def add(name: str, messages: Iterable[str]) -> None:
        messages = list(messages)
        if messages:
            problems.setdefault(name, []).extend(messages)

    if not data.name.strip():
        add("name", [_("Name the task: what exactly is to be done.")])
    if not data.delivery_standard.strip():
        add(
            "delivery_standard",
            [_('Write the delivery standard the result is checked against, e.g. "case coverage ≥ 95%".')],
        )
    add("delivery_standard", vague_wording_errors(data.delivery_standard))
    if data.deadline is None:
        add("deadline", [_("Enter the deadline as a date, e.g. 2026-10-05.")])
    if data.owner_id in data.collaborator_ids:
        add(
            "collaborators",
            [_("The owner cannot also be a collaborator: a task has exactly one owner.")],
        )
    if data.receiver_id == data.owner_id:
        add(
            "receiver",
            [_("The receiver reviews and accepts the owner's deliverable, so it must be someone else.")],
        )
    return problems


def holiday_name(key: str, name: str | None = None) -> str:
    """The translated name of a day off: a holiday, the weekend or a company day off."""
    from collab.org.calendar import holiday_label

    return holiday_label(key, name)


def day_kind_warning(kind: DayKind) -> str | None:
    """What to tell a person who picked ``kind.day`` as a deadline, or None when it is fine."""
    when = f"{kind.day:%Y-%m-%d}"
    if not kind.workday and kind.reason is not None:
        return _("%(date)s is not a working day (%(reason)s). Is this deadline intended?") % {
            "date": when,
            "reason": holiday_name(kind.reason, kind.name),
        }
    if not kind.known:
        return _(
            "The make-up workdays of %(year)s are not published yet, so %(date)s was checked against "
            "weekends and statutory holidays only."
        ) % {"year": kind.day.year, "date": when}
    return None


def deadline_warnings(deadline: date | None, owner: Any = None) -> list[str]:
    """A deadline on a weekend or a public holiday is allowed, but the person should look again.

    Judged in the owner's region calendar (a task owned in Berlin follows Berlin's holidays);
    the company calendar while no owner is chosen.
    """
    from collab.org.calendar import calendar_of

    warning = day_kind_warning(calendar_of(owner).day_kind(deadline)) if deadline is not None else None
    return [warning] if warning else []


def task_owner(owner_id: int) -> Any:
    """The owner with their region, whose calendar judges the deadline."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(pk=owner_id).select_related("person__region").first()


def delivery_standard_warnings(standard: str) -> list[str]:
    """A standard without a figure may be fine ("signed off by Product"), but is worth a look."""
    if not standard.strip() or vague_wording_errors(standard) or has_measurable_criterion(standard):
        return []
    return [
        _(
            "The delivery standard has no figure to check against (a number, a percentage, a date "
            'or a threshold such as "≥ 95%"). Is it specific enough?'
        )
    ]


def task_warnings(data: TaskData) -> dict[str, list[str]]:
    """What the coordinator should look at again but may keep, by field name."""
    warnings = {
        "deadline": deadline_warnings(data.deadline, task_owner(data.owner_id)),
        "delivery_standard": delivery_standard_warnings(data.delivery_standard),
    }
    return {name: messages for name, messages in warnings.items() if messages}
