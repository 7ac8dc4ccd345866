"""The department head's dashboard, for QA (测试部, headed by qa_head; owner works there), at
Friday 2026-10-09 12:00 in Shanghai, the second working day after National Day."""

from collections.abc import Iterator
from datetime import date

import pytest
import time_machine
from django.urls import reverse

from collab.dashboards.department_selectors import department_board
from collab.dashboards.management import Period
from collab.dashboards.tests.support import alert, at, measure, raw_item, raw_task, version
from collab.org.calendar import calendar_for
from collab.testing import Org, client_for
from requests_app.models import ItemStatus
from tasks_app.models import AlertKind, TaskStatus

pytestmark = pytest.mark.django_db
NOW = "2026-10-09 12:00"


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(at(NOW), tick=False):
        yield


def board(org: Org, department: object = None) -> object:
    period = Period.default(date(2026, 10, 9))
    return department_board(department or org.qa, start_at=period.start_at, end_at=period.end_at)


def test_the_review_clock_runs_over_national_day() -> None:
    """Submitted Wednesday 09-30 15:00, the 1-working-day review is due Thursday 10-08 15:00."""
    due = calendar_for(None).add_working_days(at("2026-09-30 15:00"), 1)
    assert due == at("2026-10-08 15:00")


def test_acceptance_turnaround_counts_reviews_received_in_the_department(org: Org) -> None:
    task = raw_task(org, raw_item(org))
    # On time although a week of holidays passed: reviewed 10-08 10:00, due 10-08 15:00.
    version(
        task,
        receiver=org.owner,
        submitted="2026-09-30 15:00",
        due="2026-10-08 15:00",
        reviewed="2026-10-08 10:00",
    )
    # Late: reviewed an hour after its deadline.
    version(
        task,
        receiver=org.owner,
        submitted="2026-09-30 15:00",
        due="2026-10-08 15:00",
        reviewed="2026-10-08 16:00",
    )
    # Late: not reviewed, and its deadline (this morning) has passed.
    version(task, receiver=org.qa_head, submitted="2026-10-08 09:00", due="2026-10-09 09:00")
    # Not counted yet: due on the make-up Saturday.
    version(task, receiver=org.owner, submitted="2026-10-09 10:00", due="2026-10-10 10:00")
    # Not counted: received by Product, or decided before the period.
    version(
        task,
        receiver=org.receiver,
        submitted="2026-09-30 15:00",
        due="2026-10-08 15:00",
        reviewed="2026-10-08 16:00",
    )
    version(
        task,
        receiver=org.owner,
        submitted="2026-06-01 10:00",
        due="2026-06-02 10:00",
        reviewed="2026-06-03 10:00",
    )

    turnaround = board(org).turnaround
    assert (turnaround.on_time, turnaround.total, turnaround.rate) == (1, 3, 33)


def test_workload_counts_open_tasks_per_member(org: Org) -> None:
    item = raw_item(org)
    raw_task(org, item, name="a", deadline=date(2026, 10, 8))  # late
    raw_task(org, item, name="b", deadline=date(2026, 10, 12))
    raw_task(org, item, name="c", deadline=date(2026, 10, 13), department=org.rnd)  # counts for the person
    raw_task(org, item, name="d", status=TaskStatus.DONE)
    raw_task(org, raw_item(org, status=ItemStatus.CLOSED), name="e", status=TaskStatus.DONE)  # archived
    raw_task(org, item, name="f", owner=org.qa_head, deadline=date(2026, 10, 20))

    loads = {load.user: (load.open_tasks, load.late_tasks) for load in board(org).workload}
    assert loads == {org.owner: (3, 1), org.qa_head: (1, 0)}


def test_overdue_and_escalated_tasks_come_first(org: Org) -> None:
    item = raw_item(org)
    fine = raw_task(org, item, name="fine", deadline=date(2026, 10, 20))
    escalated = raw_task(
        org, item, name="escalated", deadline=date(2026, 10, 21), last_report="2026-10-08 09:00"
    )
    alert(escalated, kind=AlertKind.REPORT_MISSING, step=2, due="2026-10-09 10:00", sent="2026-10-09 10:00")
    late = raw_task(org, item, name="late", deadline=date(2026, 10, 8))
    raw_task(org, item, name="of R&D", owner=org.collaborator, department=org.rnd, deadline=date(2026, 10, 1))

    result = board(org)
    assert [r.task for r in result.tasks] == [late, escalated, fine]
    assert (result.task_total, result.late_count, result.escalated_count) == (3, 1, 1)


def test_items_and_improvement_measures_of_the_department(org: Org) -> None:
    taking_part = raw_item(org, topic="QA takes part")
    raw_item(org, topic="R&D only", departments=(org.rnd,))
    overdue = measure(org, taking_part, department=org.qa, due=date(2026, 10, 1))
    done = measure(org, taking_part, department=org.qa, due=date(2026, 9, 1), done=True)
    measure(org, taking_part, department=org.rnd, due=date(2026, 10, 1))

    result = board(org)
    assert [r.item.topic for r in result.items] == ["QA takes part"]
    assert result.measures == [done, overdue] or result.measures == [overdue, done]
    assert result.open_measures == 1


def test_the_page_for_the_head(org: Org) -> None:
    item = raw_item(org)
    raw_task(org, item, name="逾期任务", deadline=date(2026, 10, 8))
    response = client_for(org.qa_head).get(
        reverse("dashboards:department"), headers={"accept-language": "en"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "测试部" in body and "Workload per person" in body and 'data-person="owner"' in body
    assert 'value="2026-07-12"' in body and 'value="2026-10-09"' in body  # the last 90 days


def test_a_person_who_heads_nothing_is_refused(org: Org) -> None:
    assert client_for(org.owner).get(reverse("dashboards:department")).status_code == 403


def test_staff_may_look_at_any_department(org: Org) -> None:
    org.outsider.is_staff = True
    org.outsider.save()
    response = client_for(org.outsider).get(reverse("dashboards:department"), {"department": org.rnd.pk})
    assert response.status_code == 200 and response.context["board"].department == org.rnd


def test_a_reversed_period_is_refused_and_the_default_shown(org: Org) -> None:
    response = client_for(org.qa_head).get(
        reverse("dashboards:department"),
        {"start": "2026-10-09", "end": "2026-10-01"},
        headers={"accept-language": "en"},
    )
    assert "The period must start on or before its last day." in response.content.decode()
    assert response.context["period"] == Period.default(date(2026, 10, 9))
