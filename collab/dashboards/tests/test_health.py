"""The health light's rules, first on hand-written facts, then on items whose data was worked out
by hand on Wednesday 2026-09-30 10:00 in Shanghai, the last working day before National Day
(10-01..10-07; Thursday 10-08 is the next working day, Saturday 10-10 a make-up workday)."""

from datetime import date

import pytest
import time_machine
from django.utils import timezone, translation

from collab.dashboards.board_selectors import health_rank, item_rows
from collab.dashboards.coordinator_selectors import _items
from collab.dashboards.health import Health, HealthFacts, due_soon_limit, health_of
from collab.dashboards.tests.support import alert, at, problem, raw_item, raw_task, refresh_facts, version
from collab.lib.workdays import Calendar
from collab.testing import Org
from requests_app.models import CollaborationItem
from tasks_app.models import AlertKind, TaskStatus

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (HealthFacts(), Health.ON_TRACK),
        (HealthFacts(late_tasks=1), Health.OFF_TRACK),
        (HealthFacts(escalations=1), Health.OFF_TRACK),
        (HealthFacts(overdue_reviews=1), Health.OFF_TRACK),
        (HealthFacts(stale_tasks=1), Health.AT_RISK),
        (HealthFacts(open_problems=1), Health.AT_RISK),
        (HealthFacts(blocked_tasks=1), Health.AT_RISK),
        (HealthFacts(due_soon_behind=1), Health.AT_RISK),
        # Off track wins over at risk, and says both.
        (HealthFacts(late_tasks=1, stale_tasks=2, open_problems=1), Health.OFF_TRACK),
    ],
)
def test_the_rules_on_hand_written_facts(facts: HealthFacts, expected: Health) -> None:
    assert health_of(facts).health == expected


def test_every_rule_that_fires_is_named() -> None:
    with translation.override("en"):
        light = health_of(HealthFacts(late_tasks=2, open_problems=1))
    assert light.reasons == ["2 late tasks", "1 open problem"]


def test_due_within_a_working_day_crosses_national_day() -> None:
    china = Calendar()
    assert due_soon_limit(china, date(2026, 9, 30)) == date(2026, 10, 8)
    assert due_soon_limit(china, date(2026, 10, 9)) == date(2026, 10, 10)  # the make-up Saturday
    assert due_soon_limit(china, date(2026, 10, 10)) == date(2026, 10, 12)


RANK = {Health.OFF_TRACK: 0, Health.AT_RISK: 1, Health.ON_TRACK: 2}


def _lights(org: Org) -> dict[str, str]:
    with time_machine.travel(at("2026-09-30 10:00"), tick=False):
        # Every item of the coordinator, read as the board and its paged lists read their rows.
        now = timezone.now()
        today = timezone.localdate(now, Calendar().tz)
        soon = due_soon_limit(Calendar(), today)
        ids = list(CollaborationItem.objects.filter(coordinator=org.coordinator).values_list("pk", flat=True))
        rows = item_rows("coordinator items", _items, ids, now=now, today=today, soon=soon)
        # The SQL rank that sorts and cuts the lists before any light is computed must agree
        # with the light of every item.
        ranks = dict(
            CollaborationItem.objects.annotate(rank=health_rank(now=now, today=today, soon=soon)).values_list(
                "topic", "rank"
            )
        )
    lights = {row.item.topic: row.light.health for row in rows}
    assert ranks == {topic: RANK[health] for topic, health in lights.items()}
    return lights


def test_the_lights_of_items_worked_out_by_hand(org: Org) -> None:
    late = raw_item(org, topic="late")
    raw_task(org, late, deadline=date(2026, 9, 29))  # yesterday, not done

    done_late = raw_item(org, topic="done after its deadline")
    raw_task(org, done_late, deadline=date(2026, 9, 29), status=TaskStatus.DONE, percent=100)

    escalated = raw_item(org, topic="escalated, unanswered")
    task = raw_task(org, escalated, deadline=date(2026, 10, 20), last_report="2026-09-29 09:00")
    alert(task, kind=AlertKind.REPORT_MISSING, step=1, due="2026-09-29 15:00", sent="2026-09-29 15:00")

    answered = raw_item(org, topic="escalated, answered")
    task = raw_task(org, answered, deadline=date(2026, 10, 20), last_report="2026-09-29 16:00")
    alert(task, kind=AlertKind.REPORT_MISSING, step=1, due="2026-09-29 15:00", sent="2026-09-29 15:00")

    overdue = raw_item(org, topic="review overdue")
    task = raw_task(org, overdue, deadline=date(2026, 10, 20))
    version(task, receiver=org.receiver, submitted="2026-09-29 09:00", due="2026-09-30 09:00")

    pending = raw_item(org, topic="review within its day")
    task = raw_task(org, pending, deadline=date(2026, 10, 20))
    # Submitted Wednesday 09:30, due Thursday 09:30 after the holiday: not overdue yet.
    version(task, receiver=org.receiver, submitted="2026-09-30 09:30", due="2026-10-08 09:30")

    stale = raw_item(org, topic="report missing")
    task = raw_task(org, stale, deadline=date(2026, 10, 20), last_report="2026-09-28 10:00")
    alert(task, due="2026-09-29 10:00", sent="2026-09-29 10:00")

    reported = raw_item(org, topic="reported since the reminder")
    task = raw_task(org, reported, deadline=date(2026, 10, 20), last_report="2026-09-29 11:00")
    alert(task, due="2026-09-29 10:00", sent="2026-09-29 10:00")

    behind = raw_item(org, topic="due after the holiday, 50%")
    raw_task(org, behind, deadline=date(2026, 10, 8), percent=50)

    on_pace = raw_item(org, topic="due after the holiday, 80%")
    raw_task(org, on_pace, deadline=date(2026, 10, 8), percent=80)

    later = raw_item(org, topic="due in two working days, 10%")
    raw_task(org, later, deadline=date(2026, 10, 9), percent=10)

    open_problem = raw_item(org, topic="open problem")
    problem(raw_task(org, open_problem, deadline=date(2026, 10, 20)))

    resolved = raw_item(org, topic="resolved problem")
    problem(raw_task(org, resolved, deadline=date(2026, 10, 20)), resolved=True)

    blocked = raw_item(org, topic="blocked")
    raw_task(org, blocked, deadline=date(2026, 10, 20), status=TaskStatus.BLOCKED)

    assert _lights(org) == {
        "late": Health.OFF_TRACK,
        "done after its deadline": Health.ON_TRACK,
        "escalated, unanswered": Health.OFF_TRACK,
        "escalated, answered": Health.ON_TRACK,
        "review overdue": Health.OFF_TRACK,
        "review within its day": Health.ON_TRACK,
        "report missing": Health.AT_RISK,
        "reported since the reminder": Health.ON_TRACK,
        "due after the holiday, 50%": Health.AT_RISK,
        "due after the holiday, 80%": Health.ON_TRACK,
        "due in two working days, 10%": Health.ON_TRACK,
        "open problem": Health.AT_RISK,
        "resolved problem": Health.ON_TRACK,
        "blocked": Health.AT_RISK,
    }


def test_a_cancelled_reminder_does_not_make_a_report_missing(org: Org) -> None:
    item = raw_item(org, topic="cancelled")
    task = raw_task(org, item, deadline=date(2026, 10, 20), last_report="2026-09-28 10:00")
    row = alert(task, due="2026-09-29 10:00")
    row.cancelled_at = at("2026-09-28 10:00")
    row.save()
    refresh_facts()
    assert _lights(org) == {"cancelled": Health.ON_TRACK}
