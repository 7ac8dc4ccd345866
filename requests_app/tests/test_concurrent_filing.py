"""Eight people press "Submit" at the same moment over HTTP; every one of them gets a number.

Redmine on SQLite fails about half of its writes at this load. This runs through the whole
stack (threaded live server, sessions, CSRF, forms, services, permissions) on whichever database
the suite runs against.
"""

import re
import threading
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from collab.org.models import Person
from collab.testing import PASSWORD, make_org, make_person
from requests_app.models import CollaborationItem, ItemStatus

PEOPLE = 8


def browser_session(base: str, username: str) -> tuple[Any, str]:
    """Logs in like a browser; returns the opener and a CSRF token for the requirement form."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    login_page = opener.open(f"{base}/accounts/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page).group(1)  # type: ignore[union-attr]
    data = urllib.parse.urlencode({"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token})
    opener.open(f"{base}/accounts/login/", data.encode())
    form_page = opener.open(f"{base}/items/new/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form_page).group(1)  # type: ignore[union-attr]
    return opener, token


@pytest.mark.django_db(transaction=True)
def test_eight_people_submitting_at_once_all_get_a_number(live_server: Any) -> None:
    org = make_org()
    users = [make_person(f"head{n}", org.product, name=f"部门{n}") for n in range(PEOPLE)]
    assert Person.objects.filter(user__in=users).count() == PEOPLE
    sessions = [browser_session(live_server.url, user.username) for user in users]
    barrier = threading.Barrier(PEOPLE)
    statuses: list[int] = []

    def submit(n: int) -> None:
        opener, token = sessions[n]
        form = {
            "csrfmiddlewaretoken": token,
            "topic": f"同时提交的需求{n}",
            "scenario": "routine_sync",
            "requesting_department": org.product.pk,
            "coordinator": org.coordinator.pk,
            "goal": "对齐11月工作计划,覆盖全部5个部门",
            "scope": "各部门月度计划",
            "expected_outcome": "11月30日前发布月度计划",
            "participations-TOTAL_FORMS": 1,
            "participations-INITIAL_FORMS": 0,
            "participations-0-department": org.qa.pk,
            "participations-0-core_need": "提供测试排期",
            "milestones-TOTAL_FORMS": 1,
            "milestones-INITIAL_FORMS": 0,
            "milestones-0-name": "计划发布",
            "milestones-0-due_date": "2026-11-30",
            "submit": 1,
        }
        barrier.wait()
        response = opener.open(f"{live_server.url}/items/new/", urllib.parse.urlencode(form).encode())
        statuses.append(response.status)

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(PEOPLE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert statuses == [200] * PEOPLE  # each landed on its item's page after the redirect
    numbers = list(
        CollaborationItem.objects.filter(status=ItemStatus.SUBMITTED).values_list("number", flat=True)
    )
    assert len(numbers) == PEOPLE and len(set(numbers)) == PEOPLE
    assert get_user_model().objects.filter(requested_items__isnull=False).distinct().count() == PEOPLE
