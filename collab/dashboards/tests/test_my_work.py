"""My work: what waits for each person, each entry one click from its action.

Time is frozen at Wednesday 2026-09-30 10:00 in Shanghai: National Day runs 10-01..10-07,
Saturday 10-10 is a make-up workday, and 09-25..09-27 were the Mid-Autumn holidays.
"""

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from collab.dashboards.board_selectors import working_days_until
from collab.dashboards.my_work_selectors import my_work
from collab.dashboards.tests.support import (
    alert,
    at,
    confirm,
    invitation,
    minutes_for,
    notification,
    raw_item,
    raw_task,
    version,
)
from collab.lib.workdays import Calendar
from collab.testing import Org, client_for, make_person
from requests_app.models import ItemStatus
from tasks_app.models import TaskStatus

pytestmark = pytest.mark.django_db
NOW = "2026-09-30 10:00"


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(at(NOW), tick=False):
        yield


@pytest.mark.parametrize(
    ("deadline", "left"),
    [
        (date(2026, 9, 30), 0),  # due today
        (date(2026, 10, 1), 0),  # National Day: no working day before it
        (date(2026, 10, 8), 1),  # the first working day after the holiday
        (date(2026, 10, 9), 2),
        (date(2026, 10, 10), 3),  # the make-up Saturday counts
        (date(2026, 10, 11), 3),  # Sunday does not
        (date(2026, 10, 12), 4),
        (date(2026, 9, 29), -1),  # late by one working day
        (date(2026, 9, 24), -3),  # 09-25..27 were holidays: late by 28, 29, 30
    ],
)
def test_working_days_left_follow_the_holiday_schedule(deadline: date, left: int) -> None:
    assert working_days_until(Calendar(), date(2026, 9, 30), deadline) == left


def test_my_tasks_are_in_deadline_order_with_working_days_left(org: Org) -> None:
    item = raw_item(org)
    raw_task(org, item, name="later", deadline=date(2026, 10, 12))
    raw_task(org, item, name="late", deadline=date(2026, 9, 29))
    raw_task(org, item, name="after the holiday", deadline=date(2026, 10, 8))
    raw_task(org, item, name="done", deadline=date(2026, 9, 28), status=TaskStatus.DONE)
    raw_task(org, item, name="someone else's", owner=org.collaborator, department=org.rnd)
    closed = raw_item(org, status=ItemStatus.CLOSED)
    raw_task(org, closed, name="of an archived item", status=TaskStatus.DONE)

    with _english():
        rows = my_work(org.owner).entries("tasks")
    assert [(r.title, r.meta[1], r.late) for r in rows] == [
        ("late", "Late by 1 working day", True),
        ("after the holiday", "1 working day left", False),
        ("later", "4 working days left", False),
    ]


def test_a_report_is_owed_when_the_reminder_came_after_the_last_report(org: Org) -> None:
    item = raw_item(org)
    owed = raw_task(org, item, name="owed", last_report="2026-09-28 10:00")
    alert(owed, due="2026-09-29 10:00", sent="2026-09-29 10:00")
    reported = raw_task(org, item, name="reported since", last_report="2026-09-29 11:00")
    alert(reported, due="2026-09-29 10:00", sent="2026-09-29 10:00")
    not_yet = raw_task(org, item, name="reminder not due yet", last_report="2026-09-29 11:00")
    alert(not_yet, due="2026-10-08 10:00")
    never = raw_task(org, item, name="never reported")
    alert(never, due="2026-09-30 09:00")  # due, not sent yet: still owed
    planned = raw_item(org, status=ItemStatus.PLANNED)
    waiting = raw_task(org, planned, name="not started")
    alert(waiting, due="2026-09-29 10:00", sent="2026-09-29 10:00")

    assert sorted(r.title for r in my_work(org.owner).entries("reports_owed")) == ["never reported", "owed"]


def test_deliverables_waiting_for_my_review_show_the_working_time_left(org: Org) -> None:
    item = raw_item(org)
    task = raw_task(org, item)
    # Submitted 09:30, due at 09:30 on the first working day after National Day.
    waiting = version(
        task, receiver=org.owner, submitted="2026-09-30 09:30", due="2026-10-08 09:30", name="waiting"
    )
    late = version(
        task, receiver=org.owner, submitted="2026-09-29 09:00", due="2026-09-30 09:00", name="late"
    )
    version(
        task,
        receiver=org.owner,
        submitted="2026-09-29 09:00",
        due="2026-09-30 09:00",
        reviewed="2026-09-29 17:00",
    )
    version(
        task, receiver=org.receiver, submitted="2026-09-30 09:30", due="2026-10-08 09:30", name="not mine"
    )

    with _english():
        rows = my_work(org.owner).entries("reviews")
    assert [(r.title, r.late) for r in rows] == [
        (f"late v{late.number}", True),
        (f"waiting v{waiting.number}", False),
    ]
    # 10:00-12:00 and 13:00-18:00 today, then 09:00-09:30 on 10-08: 7 h 30 min.
    assert rows[1].flags == [("warn", "7 h 30 min of working time left")]
    assert rows[0].flags == [("danger", "Overdue by 1 h 00 min of working time")]


def test_minutes_wait_for_the_heads_and_delegates_of_departments_that_have_not_confirmed(org: Org) -> None:
    rnd_delegate = make_person("rnd_delegate", org.rnd, name="周婷")
    org.rnd.confirmation_delegates.add(rnd_delegate)
    item = raw_item(org, status=ItemStatus.SUBMITTED, topic="waiting")
    minutes_for(org, item, starts="2026-09-20 10:00")  # an earlier meeting: not the latest
    latest = minutes_for(org, item, starts="2026-09-25 10:00", version=2)
    confirm(latest, org.qa, org.qa_head, version=1)  # an older version does not count

    meeting_page = reverse("requests_app:meeting_detail", args=[item.pk, latest.meeting_id])
    with _english():
        assert [(r.item.topic, r.url, r.meta) for r in _confirmations(org.qa_head)] == [
            ("waiting", meeting_page, ["For 测试部, minutes version 2"])
        ]
        assert [r.meta for r in _confirmations(rnd_delegate)] == [["For 研发部, minutes version 2"]]
    assert _confirmations(org.owner) == []

    # An objection hands the turn to the coordinator, who revises the minutes.
    confirm(latest, org.rnd, rnd_delegate, decision="objected")
    assert _confirmations(rnd_delegate) == []
    assert [r.item.topic for r in my_work(org.coordinator).entries("revise_minutes")] == ["waiting"]
    confirm(latest, org.qa, org.qa_head)
    assert _confirmations(org.qa_head) == []

    consensus = raw_item(org, status=ItemStatus.CONSENSUS)
    minutes_for(org, consensus)
    assert _confirmations(org.qa_head) == []


def _confirmations(user: Any) -> list[Any]:
    return my_work(user).entries("confirmations")


def test_pre_reads_not_opened_for_meetings_still_ahead(org: Org) -> None:
    item = raw_item(org)
    ahead = invitation(org, item, org.owner, starts="2026-10-08 14:00")
    opened = invitation(org, item, org.owner, starts="2026-10-08 15:00")
    opened.pre_read_opened_at = at("2026-09-30 09:00")
    opened.save()
    invitation(org, item, org.owner, starts="2026-09-29 14:00")  # already held
    closed = raw_item(org, status=ItemStatus.CLOSED)
    invitation(org, closed, org.owner, starts="2026-10-08 16:00")  # an archived item
    pre_read = reverse("requests_app:meeting_pre_read", args=[item.pk, ahead.meeting_id])
    assert [r.url for r in my_work(org.owner).entries("pre_reads")] == [pre_read]


def test_unread_notifications_newest_first(org: Org) -> None:
    for n in range(7):
        notification(org.owner, f"notice {n}")
    read = notification(org.owner, "read")
    read.read_at = at(NOW)
    read.save()
    work = my_work(org.owner)
    assert work.unread_count == 7 and len(work.notifications) == 5
    assert work.notifications[0].title == "notice 6"


def test_the_top_bar_shows_my_works_unread_count_without_counting_again(org: Org) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n in range(3):
        notification(org.owner, f"notice {n}")
    client = client_for(org.owner)
    with CaptureQueriesContext(connection) as captured:
        body = client.get(reverse("home")).content.decode()
    assert '<span class="badge" aria-label="未读">3</span>' in body
    assert '<span class="db-count">3</span>' in body  # the unread list's own count
    top_bar_count = 'SELECT COUNT(*) AS "__count" FROM "notify_notification"'
    assert [q["sql"] for q in captured if q["sql"].startswith(top_bar_count)] == []
    # The top bar's name comes with the person My work reads for the region: one query of people.
    assert f'<span class="who">{org.owner.person}</span>' in body
    assert len([q for q in captured if 'FROM "org_person"' in q["sql"]]) == 1
    # Another page counts them for its top bar.
    with CaptureQueriesContext(connection) as captured:
        notify_list = client.get(reverse("notify:list")).content.decode()
    assert len([q for q in captured if q["sql"].startswith(top_bar_count)]) == 1
    assert '<span class="badge" aria-label="未读">3</span>' in notify_list


def test_the_home_page_is_my_work_with_one_click_to_each_action(org: Org) -> None:
    item = raw_item(org)
    task = raw_task(org, item, name="提交测试计划", last_report="2026-09-28 10:00")
    alert(task, due="2026-09-29 10:00", sent="2026-09-29 10:00")
    review = version(task, receiver=org.owner, submitted="2026-09-30 09:30", due="2026-10-08 09:30")
    pre_read = invitation(org, item, org.owner, starts="2026-10-08 14:00")
    notification(org.owner, "任务即将到期")

    response = client_for(org.owner).get(reverse("home"), headers={"accept-language": "en"})
    body = response.content.decode()
    assert response.status_code == 200
    assert reverse("tasks_app:task_report", args=[item.pk, task.pk]) in body
    assert reverse("tasks_app:task_detail", args=[item.pk, task.pk]) in body
    assert reverse("reviews_app:deliverable_detail", args=[item.pk, review.deliverable_id]) in body
    assert reverse("requests_app:meeting_pre_read", args=[item.pk, pre_read.meeting_id]) in body
    assert reverse("notify:list") in body
    assert "Report progress" in body and "2 working days left" in body
    assert 'hx-trigger="every 60s"' in body


def test_htmx_refreshes_only_the_lists(org: Org) -> None:
    raw_task(org, raw_item(org))
    response = client_for(org.owner).get(reverse("dashboards:my_work"), headers={"hx-request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="my-work"') and "<html" not in body
    assert 'hx-trigger="every 60s"' in body


def test_someone_with_nothing_to_do_is_told_so(org: Org) -> None:
    response = client_for(org.outsider).get(reverse("home"), headers={"accept-language": "en"})
    assert "Nothing is waiting for you." in response.content.decode()


def test_my_work_needs_a_login() -> None:
    response = Client().get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_my_work_accepts_only_get(org: Org) -> None:
    assert client_for(org.owner).post(reverse("dashboards:my_work")).status_code == 405


def _english() -> Any:
    from django.utils import translation

    return translation.override("en")


def test_a_thousand_tasks_show_the_most_urgent_few_with_their_count_in_a_fixed_number_of_queries(
    org: Org,
) -> None:
    from datetime import timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from collab.dashboards.my_work_selectors import PAGE_SIZE, TOP
    from tasks_app.models import Task

    item = raw_item(org)
    raw_task(org, item, name="late", deadline=date(2026, 9, 29))
    client = client_for(org.owner)

    def page() -> tuple[str, int]:
        with CaptureQueriesContext(connection) as queries:
            body = client.get(reverse("home"), headers={"accept-language": "en"}).content.decode()
        # The test's own transaction makes the page's transaction a savepoint: not a query.
        savepoints = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")
        return body, len([q for q in queries if not q["sql"].startswith(savepoints)])

    _small, few = page()
    template = Task.objects.get(name="late")
    Task.objects.bulk_create(
        Task(
            item=item,
            name=f"task {n:04d}",
            owner=org.owner,
            delivery_standard=template.delivery_standard,
            deadline=date(2026, 10, 12) + timedelta(days=n % 300),
            receiver=org.receiver,
            department=org.qa,
            created_by=org.coordinator,
            status=TaskStatus.IN_PROGRESS,
            percent_done=10,
        )
        for n in range(999)
    )
    body, many = page()
    assert many == few  # the same queries for 1 task and for 1,000
    # Session, user, the person with their region (the top bar's name too), calendar, the counts
    # of every list (the unread notifications among them: the top bar does not count them again)
    # and the one list with rows (the 15 lists of the hand-off table are not read one by one);
    # inside the test's transaction on PostgreSQL, the SET that keeps parallel workers out.
    assert many <= 7
    assert body.count('class="work-entry') <= TOP * 15  # bounded rows, whatever the data
    with _english():
        tasks = my_work(org.owner).section("tasks")
    assert tasks is not None and tasks.total == 1000 and len(tasks.entries) == TOP
    assert tasks.entries[0].title == "late"  # most urgent first
    assert tasks.full_url in body and "All 1000 entries" in body

    full = client.get(tasks.full_url, {"page": 2}).content.decode()
    assert full.count('class="work-entry') == PAGE_SIZE


def test_only_the_lists_with_rows_are_read(org: Org) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(person: Any) -> int:
        client = client_for(person)
        client.get(reverse("home"))  # the login's first request
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("home")).status_code == 200
        return len(captured)

    nothing = queries(org.owner)
    item = raw_item(org)
    task = raw_task(org, item, name="owed", last_report="2026-09-28 10:00")
    alert(task, due="2026-09-29 10:00", sent="2026-09-29 10:00")
    version(task, receiver=org.owner, submitted="2026-09-30 09:30", due="2026-10-08 09:30")
    notification(org.owner, "任务即将到期")
    work = my_work(org.owner)
    assert [s.key for s in work.sections] == ["reports_owed", "reviews", "tasks"]
    # One query more per list with rows, and one for the unread notifications.
    assert queries(org.owner) == nothing + 3 + 1
