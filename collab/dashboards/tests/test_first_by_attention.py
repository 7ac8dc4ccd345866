"""The boards' top tasks are read late-first without ranking every open task
(``board_selectors.first_by_attention``): the same tasks in the same order as the plain ranked
queryset cut at the top, with many, few or no late tasks, for the coordinator's and the
department's lists."""

import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
import time_machine
from django.urls import reverse

from collab.dashboards import coordinator_selectors, department_selectors
from collab.dashboards.board_selectors import first_by_attention
from collab.dashboards.coordinator_selectors import TOP_ENTRIES, Moment
from collab.dashboards.tests.support import alert, at, raw_item, raw_task
from collab.testing import Org, client_for
from tasks_app.models import TaskStatus

pytestmark = pytest.mark.django_db

TODAY = date(2026, 9, 30)


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(at("2026-09-30 10:00"), tick=False):
        yield


def tasks_of(org: Org, late: int) -> None:
    """``late`` late tasks, and as many again of each other kind the attention rank orders:
    escalated, report missing, blocked, due soon and behind, and on track (due later)."""
    item = raw_item(org)
    for n in range(late):
        raw_task(org, item, name=f"迟{n}", deadline=TODAY - timedelta(days=n % 4 + 1))
    for n in range(3):
        escalated = raw_task(org, item, name=f"升级{n}", deadline=TODAY + timedelta(days=n + 3))
        alert(escalated, step=1, due="2026-09-29 09:00", sent="2026-09-29 09:00")
        stale = raw_task(org, item, name=f"缺报{n}", deadline=TODAY + timedelta(days=n + 5))
        alert(stale, due="2026-09-29 09:00")
        raw_task(
            org, item, name=f"阻塞{n}", deadline=TODAY + timedelta(days=n + 2), status=TaskStatus.BLOCKED
        )
        raw_task(org, item, name=f"落后{n}", deadline=TODAY + timedelta(days=1), percent=10)
        raw_task(org, item, name=f"正常{n}", deadline=TODAY + timedelta(days=20 + n), percent=90)


@pytest.mark.parametrize("late", [0, 3, TOP_ENTRIES, 25])
def test_the_top_tasks_equal_the_ranked_list_cut_at_the_top(org: Org, late: int) -> None:
    tasks_of(org, late)
    moment = Moment.at()
    for ranked in (
        coordinator_selectors._attention_tasks(org.coordinator, moment),
        department_selectors._ranked_tasks(org.qa, department_selectors._moment(org.qa, None)),
    ):
        for limit in (1, 4, TOP_ENTRIES, 40):
            expected = [task.pk for task in ranked[:limit]]
            assert [task.pk for task in first_by_attention(ranked, moment.today, limit)] == expected
            assert len(expected) == min(limit, ranked.count())


@pytest.mark.parametrize("late", [0, 3, 25])
def test_each_board_shows_the_head_of_its_full_list(org: Org, late: int) -> None:
    """What a person sees on the board is the first rows of the full, paged list (ranked by the
    plain queryset), whatever the number of late tasks."""
    tasks_of(org, late)
    for person, board, full in (
        (org.coordinator, "dashboards:coordinator", reverse("dashboards:coordinator_list", args=["tasks"])),
        (
            org.qa_head,
            "dashboards:department",
            reverse("dashboards:department_list", args=["tasks"]) + f"?department={org.qa.pk}",
        ),
    ):
        shown = client_for(person).get(reverse(board)).content.decode()
        listed = client_for(person).get(full).content.decode()
        board_ids = _task_ids(shown)
        assert board_ids and board_ids == _task_ids(listed)[:TOP_ENTRIES], board


def _task_ids(body: str) -> list[str]:
    return re.findall(r'data-task="(\d+)"', body)
