"""The coordinator board's "Open risks and problems" heading counts exactly the rows it lists:
both come from one queryset (an archived item's leftover problem is in neither)."""

import pytest
from django.urls import reverse

from collab.dashboards.coordinator_selectors import coordinator_board
from collab.dashboards.tests.support import problem, raw_item, raw_task
from collab.testing import Org, client_for
from requests_app.models import ItemStatus
from tasks_app.models import TaskStatus

pytestmark = pytest.mark.django_db


def test_the_heading_counts_the_rows_it_lists(org: Org) -> None:
    running = raw_task(org, raw_item(org), name="running")
    listed = problem(running, blocking=True)
    # An item archived before archiving checked its problems still holds an open one.
    problem(raw_task(org, raw_item(org, status=ItemStatus.CLOSED), name="archived", status=TaskStatus.DONE))
    board = coordinator_board(org.coordinator)
    assert board.problems == [listed] and board.problem_total == 1
    page = client_for(org.coordinator).get(reverse("dashboards:coordinator")).content.decode()
    section = page[page.index('id="problems"') :]
    assert '<span class="db-count">1</span>' in section[:400]
