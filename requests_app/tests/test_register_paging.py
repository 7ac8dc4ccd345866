"""The register's keyset paging: Next and Previous carry the boundary row's sort values, so a deep
page costs what the first does; a walk visits every row the person may see exactly once."""

import html
import json
import re
from base64 import urlsafe_b64encode
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from collab.testing import Org, client_for, make_item
from requests_app.models import CollaborationItem, ItemStatus
from requests_app.register_keyset import cursor_of
from requests_app.rules import ParticipationData
from requests_app.selectors import SORTS, register_items

pytestmark = pytest.mark.django_db

REGISTER = "requests_app:register"


def numbers_on_page(response: Any) -> list[str]:
    return [record.number for record, _row in response.context["rows"]]


def link(response: Any, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}"', response.content.decode())
    return reverse(REGISTER) + html.unescape(found.group(1)) if found else None


def walk(client: Client, url: str, rel: str) -> tuple[list[list[str]], str]:
    """The numbers of each page met following ``rel`` links from ``url``, in the order met, and
    the URL of the last page."""
    pages = []
    while True:
        response = client.get(url)
        assert response.status_code == 200
        pages.append(numbers_on_page(response))
        assert len(pages) < 50, "the walk does not end"
        if (following := link(response, rel)) is None:
            return pages, url
        url = following


@pytest.fixture
def register_of_many(org: Org) -> list[CollaborationItem]:
    """Eleven items the QA owner sees, with equal topics, statuses and deadlines among them and
    some without a deadline, and three (R&D's alone) that he does not see."""
    seen = []
    for n in range(11):
        item = make_item(org, topic=f"事项{n % 3}")
        status = [ItemStatus.SUBMITTED, ItemStatus.EXECUTING, ItemStatus.CLOSED][n % 3]
        due = None if n % 4 == 0 else date(2026, 10, 1) + timedelta(days=n % 2)
        # Test data: the statuses and last-milestone dates the register sorts by, set directly.
        CollaborationItem.objects.filter(pk=item.pk).update(status=status, last_milestone_due=due)
        seen.append(item)
    only_rnd = [ParticipationData(org.rnd.pk, "", "定位并修复故障")]
    for n in range(3):
        make_item(org, topic=f"事项{n}", participations=only_rnd)
    return seen


@pytest.mark.parametrize("sort", list(SORTS))
def test_walking_next_then_previous_visits_each_visible_row_once_in_the_sorts_order(
    org: Org, register_of_many: list[CollaborationItem], monkeypatch: Any, sort: str
) -> None:
    monkeypatch.setattr("requests_app.register_pages.PAGE_SIZE", 3)
    client = client_for(org.owner)
    expected = list(register_items(org.owner, {"sort": sort}).values_list("number", flat=True))
    assert sorted(expected) == sorted(item.number for item in register_of_many)  # R&D's stay out

    forward, last = walk(client, f"{reverse(REGISTER)}?sort={sort}", "next")
    assert [n for page in forward for n in page] == expected
    assert [len(page) for page in forward] == [3, 3, 3, 2]
    # Back from the last page: the same pages, in reverse.
    backward, _first = walk(client, last, "prev")
    assert backward == forward[::-1]


def test_the_pager_says_where_the_page_is_and_keeps_the_filters(
    org: Org, register_of_many: list[CollaborationItem], monkeypatch: Any
) -> None:
    monkeypatch.setattr("requests_app.register_pages.PAGE_SIZE", 3)
    client = client_for(org.owner)
    filters = {"sort": "topic", "status": "submitted"}
    first = client.get(reverse(REGISTER), filters)
    second = client.get(link(first, "next"))
    body = second.content.decode()
    # Four of the eleven are still submitted: page 2 holds the fourth.
    assert "第2页，共2页（第4–4项）" in body
    assert (
        numbers_on_page(second)
        == list(register_items(org.owner, filters).values_list("number", flat=True))[3:]
    )
    export = re.search(r'id="export-link" href="([^"]+)"', body)
    assert export is not None
    assert html.unescape(export.group(1)) == f"{reverse('requests_app:register_export')}?{urlencode(filters)}"
    assert f'<a href="?{html.escape(urlencode(filters))}">第一页</a>' in body
    english = client.get(link(first, "next"), headers={"accept-language": "en"}).content.decode()
    assert "Page 2 of 2 (items 4–4)" in english and ">First page</a>" in english


def raw_cursor(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return urlsafe_b64encode(text.encode()).decode()


BAD_CURSORS = [
    "x",
    "!!!",
    "中文",
    cursor_of(["not a number", 1]),
    cursor_of([2**70, 1]),
    cursor_of([None, 1]),
    cursor_of([1]),
    cursor_of([1, 2, 3]),
    raw_cursor({"a": 1}),
    raw_cursor("[1, 2"),
    cursor_of([1.5, 1]),
    cursor_of([True, 1]),
    "A" * 5000,
]


@pytest.mark.parametrize("cursor", BAD_CURSORS)
@pytest.mark.parametrize("direction", ["after", "before"])
def test_a_cursor_that_is_not_valid_shows_the_first_page_and_says_why(
    org: Org, register_of_many: list[CollaborationItem], direction: str, cursor: str
) -> None:
    client = client_for(org.owner)
    response = client.get(reverse(REGISTER), {direction: cursor, "at": "25"})
    assert response.status_code == 200
    assert numbers_on_page(response) == list(register_items(org.owner, {}).values_list("number", flat=True))
    assert "该翻页链接无效（可能不完整），已显示第一页。" in response.content.decode()


@pytest.mark.parametrize(
    ("sort", "values"),
    [
        ("topic", ["事项\x00", 1, 1]),
        ("deadline", ["2026-13-40", 1, 1]),
        ("deadline", [20261001, 1, 1]),
        ("topic", ["长" * 201, 1, 1]),
    ],
)
def test_cursor_values_the_database_would_refuse_never_reach_it(
    org: Org, register_of_many: list[CollaborationItem], sort: str, values: list[Any]
) -> None:
    response = client_for(org.owner).get(reverse(REGISTER), {"sort": sort, "after": cursor_of(values)})
    assert response.status_code == 200
    assert "该翻页链接无效" in response.content.decode()
    english = client_for(org.owner).get(
        reverse(REGISTER), {"sort": sort, "after": cursor_of(values)}, headers={"accept-language": "en"}
    )
    assert "This page link is not valid (it may have been cut short): here is the first page." in (
        english.content.decode()
    )


def test_page_numbers_past_the_cheap_ones_show_the_first_page_and_say_why(
    org: Org, register_of_many: list[CollaborationItem], monkeypatch: Any
) -> None:
    monkeypatch.setattr("requests_app.register_pages.PAGE_SIZE", 1)
    client = client_for(org.owner)
    tenth = client.get(reverse(REGISTER), {"page": "10"})
    expected = list(register_items(org.owner, {}).values_list("number", flat=True))
    assert numbers_on_page(tenth) == [expected[9]]
    eleventh = client.get(reverse(REGISTER), {"page": "11"})
    assert numbers_on_page(eleventh) == [expected[0]]
    assert "第10页以后的内容请用“下一页”翻到，或缩小筛选范围；已显示第一页。" in eleventh.content.decode()
    # The numbered page's Next link goes on by cursor.
    assert numbers_on_page(client.get(link(tenth, "next"))) == [expected[10]]


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


REGISTER_FILTERS: list[dict[str, str]] = [
    {},
    {"department": "qa"},
    {"status": "submitted"},
    {"submitted_from": "2026-01-01", "submitted_to": "2030-12-31"},
    {"q": "上线"},
    {"sort": "deadline"},
    {"sort": "topic"},
    {"sort": "status"},
    {"sort": "number"},
]


def test_a_cursor_page_takes_the_same_queries_for_every_filter_whatever_the_rows(
    org: Org, monkeypatch: Any
) -> None:
    """Page 2 and the page back to page 1, by cursor, for every filter: with 24 items as with
    54, the same number of queries."""
    monkeypatch.setattr("requests_app.register_pages.PAGE_SIZE", 10)
    client = client_for(org.owner)

    def counts() -> list[tuple[int, int]]:
        result = []
        for params in REGISTER_FILTERS:
            query = {k: str(org.qa.pk) if k == "department" else v for k, v in params.items()}
            first = client.get(f"{reverse(REGISTER)}?{urlencode(query)}")
            following = link(first, "next")
            assert following is not None, params
            second = client.get(following)
            third = link(second, "next")
            assert third is not None, params  # page 2 has a next page to count for
            back = link(client.get(third), "prev")
            assert back is not None
            result.append((_queries(client, following), _queries(client, back)))
        return result

    for _ in range(24):
        make_item(org, topic="上线测试")
    small = counts()
    for _ in range(30):
        make_item(org, topic="第二批上线")
    assert counts() == small
    # The page's sort values, its rows in five queries, the estimate or a capped count, and
    # the session, the person and the notifications.
    assert max(q for pair in small for q in pair) <= 16
