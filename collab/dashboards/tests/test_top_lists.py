"""Dashboards show the top of each list with its count and link to the full, paged list, so a
person with 1,000 tasks gets a page of bounded size in a bounded number of queries."""

import re
from collections.abc import Iterator

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from collab.dashboards import department_selectors
from collab.dashboards.coordinator_selectors import ITEMS_PAGE_SIZE, LIST_PAGE_SIZE, TOP_ENTRIES, TOP_ITEMS
from collab.dashboards.tests.support import at, raw_item, raw_task, refresh_facts
from collab.testing import Org, client_for
from tasks_app.models import Task, TaskStatus

pytestmark = pytest.mark.django_db

ITEMS = 60
TASKS = 1000


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(at("2026-09-30 10:00"), tick=False):
        yield


def add_tasks(org: Org, items: list[object], first: int = 0) -> None:
    """1,000 open tasks of one owner in QA on ``items``, every other one late."""
    Task.objects.bulk_create(
        Task(
            item=items[n % len(items)],
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
        for n in range(first, first + TASKS)
    )
    refresh_facts()


@pytest.fixture
def busy(org: Org) -> Org:
    """60 executing items coordinated by one person; 1,000 open tasks of one owner in QA, half late."""
    add_tasks(org, [raw_item(org) for _ in range(ITEMS)])
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
        assert len(re.findall(r'data-task="', body)) == TOP_ENTRIES, url
        assert len(body) < 100_000, url


def task_ids(person: object, url: str) -> list[str]:
    response = client_for(person).get(url)
    assert response.status_code == 200, url
    return re.findall(r'data-task="(\d+)"', response.content.decode())


def test_every_task_of_the_boards_is_reachable_through_the_full_paged_lists(busy: Org) -> None:
    """The coordinator's 500 late tasks and the department's 1,000 open ones: the board shows the
    top and links to the list, whose pages hold every one, once, in the board's order."""
    lists = [
        (
            busy.coordinator,
            reverse("dashboards:coordinator"),
            reverse("dashboards:coordinator_list", args=["tasks"]),
            "",
            500,
        ),
        (
            busy.qa_head,
            reverse("dashboards:department"),
            reverse("dashboards:department_list", args=["tasks"]),
            f"department={busy.qa.pk}&",
            TASKS,
        ),
    ]
    for person, board_url, list_url, query, total in lists:
        board = client_for(person).get(board_url).content.decode()
        assert f"{list_url}?{query}".rstrip("?&") in board
        top = task_ids(person, board_url)
        seen = [
            task
            for number in range(1, total // LIST_PAGE_SIZE + 1)
            for task in task_ids(person, f"{list_url}?{query}page={number}")
        ]
        assert len(seen) == len(set(seen)) == total, list_url
        assert seen[:TOP_ENTRIES] == top
        # Past the last page: the last page again.
        assert task_ids(person, f"{list_url}?{query}page=999") == seen[-LIST_PAGE_SIZE:]


def test_the_full_lists_cost_the_same_queries_for_1000_and_2000_tasks(busy: Org) -> None:
    urls = [
        (busy.coordinator, reverse("dashboards:coordinator")),
        *(
            (busy.coordinator, reverse("dashboards:coordinator_list", args=[name]))
            for name in ("tasks", "problems", "reviews", "gaps")
        ),
        (busy.qa_head, reverse("dashboards:department")),
        *(
            (busy.qa_head, reverse("dashboards:department_list", args=[name]) + f"?department={busy.qa.pk}")
            for name in ("tasks", "people", "measures")
        ),
    ]

    def queries() -> list[int]:
        return [rows_and_queries(person, url)[1] for person, url in urls]

    before = queries()
    add_tasks(busy, [raw_item(busy) for _ in range(ITEMS)], first=TASKS)
    assert queries() == before
    assert max(before) <= 20


def test_the_full_lists_are_the_persons_own(busy: Org) -> None:
    """A coordinator's list shows their own items' tasks only; a department's lists are for its
    head (any department for staff); another department asked for gives the head's own."""
    raw_task(busy, raw_item(busy, coordinator=busy.receiver), name="研发的任务", department=busy.rnd)
    assert task_ids(busy.owner, reverse("dashboards:coordinator_list", args=["tasks"])) == []
    assert (
        client_for(busy.coordinator).get(reverse("dashboards:coordinator_list", args=["nothing"])).status_code
        == 404
    )

    for name in ("tasks", "people", "measures"):
        url = reverse("dashboards:department_list", args=[name])
        assert client_for(busy.owner).get(url).status_code == 403
        assert client_for(busy.qa_head).get(url.replace(name, "nothing")).status_code == 404
    url = reverse("dashboards:department_list", args=["tasks"])
    body = client_for(busy.qa_head).get(f"{url}?department={busy.rnd.pk}").content.decode()
    assert "测试部" in body and "研发的任务" not in body
    busy.outsider.is_staff = True
    busy.outsider.save()
    body = client_for(busy.outsider).get(f"{url}?department={busy.rnd.pk}").content.decode()
    assert "研发的任务" in body

    people = (
        client_for(busy.qa_head).get(reverse("dashboards:department_list", args=["people"])).content.decode()
    )
    assert 'data-person="owner"' in people and 'data-person="qa_head"' in people


def test_a_large_department_count_stops_at_its_cap_in_both_languages(
    busy: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The department's items are counted up to a cap (2,000 in production; 50 here, of 60)."""
    monkeypatch.setattr(department_selectors, "ITEM_COUNT_CAP", 50)
    url = reverse("dashboards:department")
    chinese = client_for(busy.qa_head).get(url, headers={"accept-language": "zh-hans"}).content.decode()
    english = client_for(busy.qa_head).get(url, headers={"accept-language": "en"}).content.decode()
    assert "超过50" in chinese and "查看全部（1000）" in chinese
    assert "more than 50" in english and "See all 1000" in english
    assert reverse("dashboards:department_items") in english
