"""Dashboards show the top of each list with its count and link to the full, paged list, so a
person with 1,000 tasks gets a page of bounded size in a bounded number of queries."""

import re
from collections.abc import Iterator

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from collab.dashboards.board_selectors import LIST_LIMIT
from collab.dashboards.coordinator_selectors import ITEMS_PAGE_SIZE, TOP_ITEMS
from collab.dashboards.tests.support import at, raw_item, refresh_facts
from collab.testing import Org, client_for
from tasks_app.models import Task, TaskStatus

pytestmark = pytest.mark.django_db

ITEMS = 60
TASKS = 1000


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(at("2026-09-30 10:00"), tick=False):
        yield


@pytest.fixture
def busy(org: Org) -> Org:
    """60 executing items coordinated by one person; 1,000 open tasks of one owner in QA, half late."""
    items = [raw_item(org) for _ in range(ITEMS)]
    Task.objects.bulk_create(
        Task(
            item=items[n % ITEMS],
            name=f"任务{n}",
            owner=org.owner,
            delivery_standard="测试用例覆盖率≥95%",
            deadline=at("2026-09-20 00:00").date() if n % 2 else at("2026-10-20 00:00").date(),
            receiver=org.receiver,
            department=org.qa,
            created_by=org.coordinator,
            status=TaskStatus.IN_PROGRESS,
            percent_done=30,
        )
        for n in range(TASKS)
    )
    refresh_facts()
    return org


def rows_and_queries(person: object, url: str) -> tuple[int, int, str]:
    client = client_for(person)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    return len(re.findall(r'<tr data-item="', body)), len(queries), body


def test_the_coordinator_board_shows_the_top_items_and_links_to_them_all(busy: Org) -> None:
    items, queries, body = rows_and_queries(busy.coordinator, reverse("dashboards:coordinator"))
    assert items == TOP_ITEMS
    assert f"{ITEMS}" in body and reverse("dashboards:coordinator_items", args=["executing"]) in body
    assert queries <= 20

    first, list_queries, page = rows_and_queries(
        busy.coordinator, reverse("dashboards:coordinator_items", args=["executing"])
    )
    second, _queries, _page = rows_and_queries(
        busy.coordinator, reverse("dashboards:coordinator_items", args=["executing"]) + "?page=2"
    )
    assert (first, second) == (ITEMS_PAGE_SIZE, ITEMS - ITEMS_PAGE_SIZE)
    assert list_queries < queries  # the full list reads the items only, not the whole board
    assert "page=2" in page


def test_the_department_board_shows_the_top_items_and_links_to_them_all(busy: Org) -> None:
    items, queries, body = rows_and_queries(busy.qa_head, reverse("dashboards:department"))
    assert items == TOP_ITEMS
    assert reverse("dashboards:department_items") in body
    assert queries <= 20
    listed, _queries, _page = rows_and_queries(
        busy.qa_head, reverse("dashboards:department_items") + f"?department={busy.qa.pk}"
    )
    assert listed == ITEMS_PAGE_SIZE


def test_a_person_with_1000_tasks_gets_bounded_task_lists(busy: Org) -> None:
    for person, url in [
        (busy.coordinator, reverse("dashboards:coordinator")),
        (busy.qa_head, reverse("dashboards:department")),
    ]:
        body = client_for(person).get(url).content.decode()
        assert len(re.findall(r'data-task="', body)) <= LIST_LIMIT, url
        assert len(body) < 400_000, url
