"""Every dashboard page and export costs the same number of queries for a small and a large
organisation: one round of data (an item with tasks, warnings, problems, reviews, a meeting,
minutes waiting for confirmation, a measure...) against seven."""

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from collab.dashboards.management import ROW_FIGURES
from collab.dashboards.tests.support import at, populate
from collab.testing import Org, client_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(at("2026-09-30 10:00"), tick=False):
        yield


def pages(org: Org) -> list[tuple[str, Any, str, dict[str, str]]]:
    """(name, person, URL, headers) of every page and export."""
    htmx = {"hx-request": "true"}
    rows = [
        (f"rows {slug}", org.outsider, reverse("dashboards:figure_rows", args=[slug]), {})
        for slug in ROW_FIGURES
    ]
    exports = [
        (f"export {slug}", org.outsider, reverse("dashboards:figure_rows_export", args=[slug]), {})
        for slug in ROW_FIGURES
    ]
    return [
        ("my work", org.owner, reverse("home"), {}),
        ("my work refresh", org.owner, reverse("dashboards:my_work"), htmx),
        ("my work of a head", org.qa_head, reverse("home"), {}),
        ("coordinator", org.coordinator, reverse("dashboards:coordinator"), {}),
        ("department", org.qa_head, reverse("dashboards:department"), {}),
        ("department items", org.qa_head, reverse("dashboards:department_items"), {}),
        ("management", org.outsider, reverse("dashboards:management"), {}),
        ("management export", org.outsider, reverse("dashboards:management_export"), {}),
        *rows,
        *exports,
    ]


def count(client: Client, url: str, headers: dict[str, str]) -> tuple[int, bytes]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
        body = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code == 200, url
    return len(queries), body


def measure(org: Org) -> dict[str, tuple[int, int]]:
    result = {}
    for name, person, url, headers in pages(org):
        queries, body = count(client_for(person), url, headers)
        result[name] = (queries, len(body))
    return result


def test_every_page_takes_the_same_queries_for_a_small_and_a_large_organisation(org: Org) -> None:
    org.outsider.is_staff = True
    org.outsider.save()
    populate(org, 1)
    small = measure(org)
    populate(org, 6)
    large = measure(org)
    assert {name: q for name, (q, _size) in small.items()} == {name: q for name, (q, _size) in large.items()}
    # The large organisation did show more: the pages were not empty both times. (Excel files
    # are zipped, so their size says little.)
    pages_only = [name for name in small if "export" not in name]
    assert [name for name in pages_only if large[name][1] <= small[name][1]] == []


def test_the_pages_stay_within_a_small_fixed_budget(org: Org) -> None:
    org.outsider.is_staff = True
    org.outsider.save()
    populate(org, 2)
    budget = {name: q for name, (q, _size) in measure(org).items()}
    # Session, user, person, the top bar's two counts, then the page's own queries: My work has
    # one per list of the hand-off table (15, each with its count as a window) and one for the
    # unread notifications.
    assert max(budget.values()) <= 22, budget
