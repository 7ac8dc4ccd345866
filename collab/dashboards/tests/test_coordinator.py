"""The coordinator's dashboard at Wednesday 2026-09-30 10:00 in Shanghai (before National Day)."""

from collections.abc import Iterator
from datetime import date

import pytest
import time_machine
from django.urls import reverse

from collab.dashboards.board_selectors import breakdown_gaps_for, has_breakdown_gap, with_health
from collab.dashboards.coordinator_selectors import coordinator_board
from collab.dashboards.tests.support import alert, at, problem, raw_item, raw_task, refresh_facts, version
from collab.testing import Org, client_for, make_person
from requests_app.models import CollaborationItem, ItemStatus
from tasks_app.models import AlertKind, DepartmentExemption, TaskStatus
from tasks_app.selectors import breakdown_gaps
from tasks_app.tests.support import consensus_item, task_data, todos

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(at("2026-09-30 10:00"), tick=False):
        yield


def test_items_are_grouped_by_stage_in_the_template_order(org: Org) -> None:
    executing = raw_item(org, topic="executing")
    submitted = raw_item(org, topic="submitted", status=ItemStatus.SUBMITTED)
    planned = raw_item(org, topic="planned", status=ItemStatus.PLANNED)
    raw_item(org, topic="draft", status=ItemStatus.DRAFT)
    raw_item(org, topic="closed", status=ItemStatus.CLOSED)
    someone_else = make_person("other_coordinator", org.pmo, name="何静")
    raw_item(org, topic="not mine", coordinator=someone_else)

    board = coordinator_board(org.coordinator)
    assert [(g.status, [r.item for r in g.rows]) for g in board.groups] == [
        (ItemStatus.SUBMITTED, [submitted]),
        (ItemStatus.PLANNED, [planned]),
        (ItemStatus.EXECUTING, [executing]),
    ]
    assert board.closed_count == 1


def test_late_then_escalated_then_missing_reports_then_blocked_then_behind(org: Org) -> None:
    item = raw_item(org)
    behind = raw_task(org, item, name="behind", deadline=date(2026, 10, 8), percent=20)
    blocked = raw_task(org, item, name="blocked", deadline=date(2026, 10, 20), status=TaskStatus.BLOCKED)
    stale = raw_task(org, item, name="stale", deadline=date(2026, 10, 20), last_report="2026-09-28 10:00")
    alert(stale, due="2026-09-29 10:00", sent="2026-09-29 10:00")
    escalated = raw_task(org, item, name="escalated", deadline=date(2026, 10, 21))
    alert(escalated, kind=AlertKind.REPORT_MISSING, step=1, due="2026-09-29 10:00", sent="2026-09-29 10:00")
    late = raw_task(org, item, name="late", deadline=date(2026, 9, 29))
    raw_task(org, item, name="fine", deadline=date(2026, 10, 20))
    raw_task(org, item, name="late but done", deadline=date(2026, 9, 29), status=TaskStatus.DONE)

    board = coordinator_board(org.coordinator)
    assert [r.task for r in board.attention] == [late, escalated, stale, blocked, behind]
    assert board.attention_total == 5
    assert [r.behind for r in board.attention] == [False, False, False, False, True]


def test_open_problems_blockers_first_and_reviews_by_their_deadline(org: Org) -> None:
    item = raw_item(org)
    task = raw_task(org, item)
    risk = problem(task)
    blocker = problem(task, blocking=True)
    problem(task, resolved=True)
    soon = version(task, receiver=org.receiver, submitted="2026-09-30 09:30", due="2026-10-08 09:30")
    overdue = version(task, receiver=org.receiver, submitted="2026-09-29 09:00", due="2026-09-30 09:00")
    version(
        task,
        receiver=org.receiver,
        submitted="2026-09-29 09:00",
        due="2026-09-30 09:00",
        reviewed="2026-09-29 11:00",
    )

    board = coordinator_board(org.coordinator)
    assert board.problems == [blocker, risk] and board.problem_total == 2
    assert [(r.version, r.overdue) for r in board.reviews] == [(overdue, True), (soon, False)]
    assert board.review_total == 2


def test_the_bulk_gaps_match_the_task_sheets_own_check(org: Org) -> None:
    """The dashboard finds the same gaps as tasks_app's check of one item, for many at once."""
    from tasks_app import services

    fresh = consensus_item(org)  # two open to-dos, QA and R&D without a task
    half = consensus_item(org)
    services.task_create(
        actor=org.coordinator,
        item_id=half.pk,
        data=task_data(org),
        source_todo_id=todos(half)["提交测试计划"].pk,
    )
    DepartmentExemption.objects.create(
        item=half, department=org.rnd, reason="只提供技术支持", decided_by=org.coordinator
    )
    items = list(
        with_health(
            CollaborationItem.objects.filter(pk__in=[fresh.pk, half.pk]),
            now=at("2026-09-30 10:00"),
            today=date(2026, 9, 30),
            soon=date(2026, 10, 8),
        )
    )
    gaps = breakdown_gaps_for(items)
    assert gaps[fresh.pk] == breakdown_gaps(fresh) and len(gaps[fresh.pk]) == 5
    assert gaps[half.pk] == breakdown_gaps(half) and len(gaps[half.pk]) == 1
    # The board counts and cuts the items with gaps in SQL: the same items.
    done = consensus_item(org)
    for todo in todos(done).values():
        services.task_create(
            actor=org.coordinator, item_id=done.pk, data=task_data(org), source_todo_id=todo.pk
        )
    for department in (org.qa, org.rnd):
        DepartmentExemption.objects.get_or_create(
            item=done,
            department=department,
            defaults={"reason": "只提供技术支持", "decided_by": org.coordinator},
        )
    assert breakdown_gaps(done) == []
    refresh_facts()  # the exemptions above were written with the ORM, not department_exempt
    with_gaps = CollaborationItem.objects.filter(has_breakdown_gap()).values_list("pk", flat=True)
    assert set(with_gaps) == {fresh.pk, half.pk}


def test_the_page_shows_lights_and_links_to_each_action(org: Org) -> None:
    item = raw_item(org, topic="Q3上线")
    task = raw_task(org, item, name="逾期任务", deadline=date(2026, 9, 29))
    problem(task, blocking=True)
    response = client_for(org.coordinator).get(
        reverse("dashboards:coordinator"), headers={"accept-language": "en"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-health="off_track"' in body and "1 late task" in body
    assert reverse("tasks_app:task_detail", args=[item.pk, task.pk]) in body
    assert reverse("tasks_app:progress", args=[item.pk]) + "#problems" in body
    assert reverse("dashboards:timeline", args=[item.pk]) in body


def test_the_dashboard_link_leads_each_person_to_their_view(org: Org) -> None:
    raw_item(org)
    assert client_for(org.coordinator).get(reverse("dashboards:index"))["Location"] == reverse(
        "dashboards:coordinator"
    )
    assert client_for(org.qa_head).get(reverse("dashboards:index"))["Location"] == reverse(
        "dashboards:department"
    )
    assert client_for(org.owner).get(reverse("dashboards:index"))["Location"] == reverse("dashboards:my_work")


def test_the_navigation_offers_dashboards_to_coordinators_and_heads_only(org: Org) -> None:
    raw_item(org)
    dashboard = reverse("dashboards:index")
    for person, shown in [(org.coordinator, True), (org.qa_head, True), (org.owner, False)]:
        page = client_for(person).get(reverse("requests_app:register")).content.decode()
        assert f'href="{reverse("dashboards:my_work")}"' in page
        assert f'hx-get="{reverse("dashboards:nav_link")}"' in page  # loaded after the page
        assert f'href="{reverse("dashboards:management")}"' not in page
        link = client_for(person).get(reverse("dashboards:nav_link"))
        assert (f'href="{dashboard}"' in link.content.decode()) is shown, person
        assert "private" in link["Cache-Control"] and "max-age=300" in link["Cache-Control"]


def test_the_navigation_costs_other_pages_no_query(org: Org) -> None:
    """Pages of the other apps keep their query budgets: the dashboard link loads afterwards."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(org.coordinator)
    client.get(reverse("requests_app:register"))  # warm the permission caches
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("requests_app:register"))
    assert not any("coordinator_id" in q["sql"] and "EXISTS" in q["sql"] for q in queries.captured_queries)
