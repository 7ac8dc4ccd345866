"""Where a requirement form starts: empty, the scenario's template, a previous item, or what the
person typed before and has not sent (a kept draft).

Each returns a ``Start``: the form's initial values and its rows. Nothing is saved until the
person saves or submits the form.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from collab.lib.numbers import parse_whole_number
from collab.lib.workdays import Calendar
from collab.org.calendar import calendar_for
from requests_app.models import SCENARIO_PRESETS, CollaborationItem, ItemStatus, Participation
from requests_app.selectors import visible_items

# How many of the scenario's recent items say which departments usually take part, and how
# many previous items the form offers to copy from.
USUAL_SAMPLE = 10
PREVIOUS_ITEMS = 20
# The most departments a template pre-fills: beyond that a department is not "usual".
USUAL_MOST = 6

# The posted names the requirement form reads back from a kept draft; everything else a post
# carries (the CSRF token, the pressed button, the day-off step) is left out.
FORM_FIELDS = (
    "topic",
    "scenario",
    "requesting_department",
    "coordinator",
    "goal",
    "scope",
    "expected_outcome",
    "remarks",
)
ROW_FIELDS = {"participations": ("department", "role", "core_need"), "milestones": ("name", "due_date")}
# A formset's rows in a post are capped like Django caps them (absolute_max of formset_factory).
MAX_ROWS = 1000


@dataclass
class Start:
    initial: dict[str, Any] = field(default_factory=dict)
    participations: list[dict[str, Any]] = field(default_factory=list)
    milestones: list[dict[str, Any]] = field(default_factory=list)
    reason: str = ""
    version: int | None = None  # the item version the kept draft was typed against


def _person(user: Any) -> Any:
    return getattr(user, "person", None)


def own_department(user: Any) -> Any:
    return getattr(_person(user), "department", None)


def requester_calendar(user: Any) -> Calendar:
    """The working-day calendar of the requester's region (the company's when unknown)."""
    return calendar_for(getattr(_person(user), "region", None))


def today_for(calendar: Calendar) -> date:
    """Today where the calendar's region is."""
    return calendar.localize(timezone.now()).date()


def empty_start(user: Any) -> Start:
    return Start(initial={"requesting_department": own_department(user), "coordinator": user})


def usual_departments(user: Any, scenario: str) -> list[int]:
    """The departments that took part in at least half of the scenario's recent items, most
    often first, then in the order they were first named. The items are the person's own
    department's when it filed any, else every item of the scenario the person may see."""
    items = visible_items(user).filter(scenario=scenario).exclude(status=ItemStatus.DRAFT)
    department = own_department(user)
    if department is not None and items.filter(requesting_department=department).exists():
        items = items.filter(requesting_department=department)
    recent = list(items.order_by("-submitted_at", "-pk").values_list("pk", flat=True)[:USUAL_SAMPLE])
    if not recent:
        return []
    counts = (
        Participation.objects.filter(item_id__in=recent)
        .values("department")
        .annotate(items=Count("item", distinct=True), first=Min("pk"))
        .order_by("-items", "first")
    )
    return [row["department"] for row in counts if row["items"] * 2 >= len(recent)][:USUAL_MOST]


def template_start(user: Any, scenario: str) -> Start:
    """The scenario's template: the requester's own department, the departments usual for the
    scenario, and the scenario's milestones at their working-day offsets from today in the
    requester's region calendar."""
    calendar = requester_calendar(user)
    today = today_for(calendar)
    start = empty_start(user)
    start.initial["scenario"] = scenario
    start.participations = [{"department": pk} for pk in usual_departments(user, scenario)]
    start.milestones = [
        {"name": str(m.name), "due_date": calendar.working_day_after(today, m.working_days)}
        for m in SCENARIO_PRESETS[scenario].milestones
    ]
    return start


def copy_start(user: Any, item: CollaborationItem) -> Start:
    """What of ``item`` does not depend on its topic: scenario, scope, participating departments
    with their core needs, and milestones as far ahead of today in working days as they were
    ahead of the day the item was submitted (or drafted). Never its number, status, history or
    signatures: those belong to the item, not to its content."""
    calendar = requester_calendar(user)
    today = today_for(calendar)
    began = calendar.localize(item.submitted_at or item.created_at).date()
    start = empty_start(user)
    start.initial.update(scenario=item.scenario, scope=item.scope)
    start.participations = [
        {"department": p.department_id, "role": p.role, "core_need": p.core_need}
        for p in item.participations.all()
    ]
    start.milestones = [
        {
            "name": m.name,
            "due_date": calendar.working_day_after(today, calendar.working_days_between(began, m.due_date)),
        }
        for m in item.milestones.all()
    ]
    return start


def previous_items(user: Any) -> QuerySet[CollaborationItem]:
    """The items a person may copy a new form from: their own and their department's, newest first."""
    mine = Q(requester=user)
    if (department := own_department(user)) is not None:
        mine |= Q(requesting_department=department)
    return visible_items(user).filter(mine).order_by("-created_at", "-pk")[:PREVIOUS_ITEMS]


def kept_start(data: Mapping[str, list[str]]) -> Start:
    """What a kept draft holds, as the form's initial values: exactly the rows that were on the
    page (blank ones too), less those the person ticked to remove."""

    def value(name: str) -> str:
        values = data.get(name) or [""]
        return values[-1]

    start = Start(initial={name: value(name) for name in FORM_FIELDS if name in data})
    for prefix, names in ROW_FIELDS.items():
        rows = []
        for index in range(min(parse_whole_number(value(f"{prefix}-TOTAL_FORMS")) or 0, MAX_ROWS)):
            if value(f"{prefix}-{index}-DELETE"):
                continue
            rows.append({name: value(f"{prefix}-{index}-{name}") for name in names})
        setattr(start, prefix, rows)
    start.reason = value("reason")
    start.version = parse_whole_number(value("version")) or None
    return start
