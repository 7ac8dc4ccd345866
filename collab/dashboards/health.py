"""The health light of a collaboration item: derived from its data, never typed by hand.

The rules, in order (the first that applies wins); docs/dashboards.md says the same in prose:

1. **Off track** (red) when the item has at least one of
   - a late task: not done and its deadline (a date) is before today;
   - an unanswered escalation: a warning of step 1 or higher (the coordinator or the owner's
     department head was told) that was sent, on a task not done, and no progress report of
     the task came after it;
   - an overdue review: a deliverable version without a decision whose review deadline
     (``review_due_at``, 1 working day after submission) has passed.
2. **At risk** (amber) when it is not off track but has at least one of
   - a missing progress report: a task not done whose "report missing" warning came due after
     its last report (the same test as the progress page's "report missing");
   - an open problem (any row of the issue-tracking list still open) or a blocked task;
   - an emergency item submitted and still without its consensus meeting;
   - a task due within 1 working day (its deadline is today or the next working day of the
     company calendar) that is not done and under 80 % done.
3. **On track** (green) otherwise.

The counts come from the database (``board_selectors.with_health``); this module only applies the
rules, so they can be tested against hand-computed facts without a database.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from requests_app.health_facts import BEHIND_PERCENT

# A task due within this many working days is behind when it is under BEHIND_PERCENT done
# (defined with the stored facts that read it).
DUE_SOON_WORKING_DAYS = 1


class Health(models.TextChoices):
    ON_TRACK = "on_track", _("On track")
    AT_RISK = "at_risk", _("At risk")
    OFF_TRACK = "off_track", _("Off track")


@dataclass(frozen=True)
class HealthFacts:
    """What the rules look at, counted per item."""

    late_tasks: int = 0
    escalations: int = 0
    overdue_reviews: int = 0
    stale_tasks: int = 0
    open_problems: int = 0
    blocked_tasks: int = 0
    due_soon_behind: int = 0
    emergency_waiting: int = 0

    @classmethod
    def of(cls, row: Any) -> "HealthFacts":
        """The facts of an item annotated by ``board_selectors.with_health``."""
        return cls(**{name: getattr(row, name) or 0 for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class HealthLight:
    health: Health
    reasons: list[str]

    @property
    def label(self) -> str:
        return str(self.health.label)


def health_of(facts: HealthFacts) -> HealthLight:
    """Applies the rules of the module docstring; the reasons name every rule that fired."""
    off = _reasons_off(facts)
    risk = _reasons_risk(facts)
    if off:
        return HealthLight(Health.OFF_TRACK, off + risk)
    if risk:
        return HealthLight(Health.AT_RISK, risk)
    return HealthLight(Health.ON_TRACK, [])


def _reasons_off(f: HealthFacts) -> list[str]:
    reasons = []
    if f.late_tasks:
        reasons.append(
            ngettext("%(count)d late task", "%(count)d late tasks", f.late_tasks) % {"count": f.late_tasks}
        )
    if f.escalations:
        reasons.append(
            ngettext("%(count)d unanswered escalation", "%(count)d unanswered escalations", f.escalations)
            % {"count": f.escalations}
        )
    if f.overdue_reviews:
        reasons.append(
            ngettext("%(count)d overdue review", "%(count)d overdue reviews", f.overdue_reviews)
            % {"count": f.overdue_reviews}
        )
    return reasons


def _reasons_risk(f: HealthFacts) -> list[str]:
    reasons = []
    if f.emergency_waiting:
        reasons.append(str(_("An emergency waiting for its consensus meeting")))
    if f.stale_tasks:
        reasons.append(
            ngettext("%(count)d progress report missing", "%(count)d progress reports missing", f.stale_tasks)
            % {"count": f.stale_tasks}
        )
    if f.open_problems:
        reasons.append(
            ngettext("%(count)d open problem", "%(count)d open problems", f.open_problems)
            % {"count": f.open_problems}
        )
    if f.blocked_tasks:
        reasons.append(
            ngettext("%(count)d blocked task", "%(count)d blocked tasks", f.blocked_tasks)
            % {"count": f.blocked_tasks}
        )
    if f.due_soon_behind:
        reasons.append(
            ngettext(
                "%(count)d task due within a working day and under %(percent)d%% done",
                "%(count)d tasks due within a working day and under %(percent)d%% done",
                f.due_soon_behind,
            )
            % {"count": f.due_soon_behind, "percent": BEHIND_PERCENT}
        )
    return reasons


def due_soon_limit(calendar: Any, today: date) -> date:
    """The last deadline that counts as "due within 1 working day": the next working day.

    On Wednesday 2026-09-30 it is Thursday 2026-10-08 (National Day lies between); on a
    Saturday it is the Monday after, when Monday is a working day.
    """
    day = today
    for _step in range(DUE_SOON_WORKING_DAYS):
        day += timedelta(days=1)
        while not calendar.is_working_day(day):
            day += timedelta(days=1)
    return day
