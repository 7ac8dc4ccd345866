"""Meeting pages: scheduling, pre-read, minutes and confirmations; who may do what."""

import html
from datetime import UTC, datetime, time
from typing import Any

import openpyxl
import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from collab.org.models import Person, Region
from collab.testing import Org, client_for, make_item, minutes_data, schedule_meeting
from requests_app import meeting_services
from requests_app.models import Confirmation, Invitation, Meeting, Minutes

pytestmark = pytest.mark.django_db


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def meeting(org: Org) -> Meeting:
    return schedule_meeting(org, make_item(org))


@pytest.fixture
def minutes(org: Org, meeting: Meeting) -> Minutes:
    return meeting_services.minutes_record(
        actor=org.coordinator, meeting_id=meeting.pk, data=minutes_data(org)
    )


def links(meeting: Meeting) -> dict[str, str]:
    args = [meeting.item_id, meeting.pk]
    return {
        "detail": reverse("requests_app:meeting_detail", args=args),
        "pre_read": reverse("requests_app:meeting_pre_read", args=args),
        "minutes": reverse("requests_app:minutes_edit", args=args),
        "confirm": reverse("requests_app:minutes_confirm", args=args),
        "print": reverse("requests_app:minutes_print", args=args),
        "export": reverse("requests_app:minutes_export", args=args),
        "create": reverse("requests_app:meeting_create", args=[meeting.item_id]),
    }


def test_an_outsider_gets_404_on_every_meeting_page(org: Org, minutes: Minutes) -> None:
    client = client_for(org.outsider)
    for name, url in links(minutes.meeting).items():
        response = client.post(url) if name == "confirm" else client.get(url)
        assert response.status_code == 404, name


def test_a_participant_reads_but_cannot_schedule_record_or_confirm(org: Org, minutes: Minutes) -> None:
    client = client_for(org.owner)  # a QA member, not its head
    urls = links(minutes.meeting)
    for name in ("detail", "pre_read", "print", "export"):
        assert client.get(urls[name]).status_code == 200, name
    assert client.get(urls["create"]).status_code == 403
    assert client.get(urls["minutes"]).status_code == 403
    response = client.post(
        urls["confirm"], {"department": org.qa.pk, "version": 1, "decision": "confirmed", "reason": ""}
    )
    assert response.status_code == 403
    assert not Confirmation.objects.exists()


def test_post_only_confirmation_refuses_get(org: Org, minutes: Minutes) -> None:
    assert client_for(org.qa_head).get(links(minutes.meeting)["confirm"]).status_code == 405


def test_the_coordinator_schedules_with_the_scenarios_suggestion(org: Org) -> None:
    item = make_item(org, scenario="emergency")
    client = client_for(org.coordinator)
    page = client.get(reverse("requests_app:meeting_create", args=[item.pk]))
    assert page.context["form"].initial["form"] == "call"  # an emergency suggests a call within hours
    response = client.post(
        reverse("requests_app:meeting_create", args=[item.pk]),
        {
            "form": "call",
            "starts_at": "2026-11-25T10:00",
            "location": "电话会议 400-800-1234",
            "departments": [org.qa.pk],
        },
    )
    meeting = Meeting.objects.get()
    assert response.status_code == 302
    # Typed in the organiser's time zone (Asia/Shanghai): 10:00 there is 02:00 UTC.
    assert meeting.starts_at.isoformat() == "2026-11-25T02:00:00+00:00"


# Monday 30 November 2026, 21:00 in Shanghai: the old suggestion was "now + N hours" at 21:00.
@time_machine.travel(datetime(2026, 11, 30, 13, tzinfo=UTC), tick=False)
@pytest.mark.parametrize(
    ("scenario", "suggested"),
    [
        ("cross_department", "2026-12-02T10:00"),  # two working days, mid-morning
        ("routine_sync", "2026-12-03T10:00"),  # three working days
        ("emergency", "2026-12-01T11:00"),  # two working hours from the next morning, not 23:00
    ],
)
def test_the_suggested_meeting_time_falls_in_the_organisers_working_hours(
    org: Org, scenario: str, suggested: str
) -> None:
    item = make_item(org, scenario=scenario)
    page = client_for(org.coordinator).get(reverse("requests_app:meeting_create", args=[item.pk]))
    assert f'value="{suggested}"' in page.content.decode()


@time_machine.travel(datetime(2026, 12, 30, 13, tzinfo=UTC), tick=False)
def test_the_suggestion_skips_new_years_day_2027_and_follows_a_berlin_organisers_hours(org: Org) -> None:
    item = make_item(org)
    page = client_for(org.coordinator).get(reverse("requests_app:meeting_create", args=[item.pk]))
    # Wednesday 21:00 in Shanghai: Thursday 31 December, then 1 January 2027 is a holiday by law.
    assert 'value="2027-01-04T10:00"' in page.content.decode()
    berlin = Region.objects.create(
        code="de", name="Berlin", timezone="Europe/Berlin", holiday_calendar="DE", workday_start=time(10, 30)
    )
    Person.objects.filter(user=org.coordinator).update(region=berlin)
    page = client_for(org.coordinator).get(reverse("requests_app:meeting_create", args=[item.pk]))
    # 14:00 in Berlin: two German working days later (1 January off there too), not before 10:30.
    assert 'value="2027-01-04T10:30"' in page.content.decode()


def test_scheduling_without_invitees_or_place_changes_nothing(org: Org) -> None:
    item = make_item(org)
    response = client_for(org.coordinator).post(
        reverse("requests_app:meeting_create", args=[item.pk]),
        {"form": "call", "starts_at": "2026-11-25T10:00", "location": ""},
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"location", "__all__"}
    assert not Meeting.objects.exists()


def test_the_organiser_sees_who_has_not_opened_the_pre_read(org: Org, meeting: Meeting) -> None:
    assert client_for(org.owner).get(links(meeting)["pre_read"]).status_code == 200
    page = client_for(org.coordinator).get(links(meeting)["detail"])
    rows = {i.person.username: i.pre_read_opened_at for i in page.context["invitations"]}
    assert rows["owner"] is not None and rows["collaborator"] is None
    assert Invitation.objects.filter(pre_read_opened_at__isnull=False).count() == 1


def test_recording_minutes_through_the_form(org: Org, meeting: Meeting) -> None:
    data = {
        "attendees": [org.requester.pk, org.qa_head.pk],
        "feasibility": "可行",
        "resources": "",
        "risks": "",
        "adjustments": "",
        "conclusions": "10月15日完成上线测试",
        "responsibilities-TOTAL_FORMS": 1,
        "responsibilities-INITIAL_FORMS": 0,
        "responsibilities-0-department": org.qa.pk,
        "responsibilities-0-text": "设计测试用例",
        "milestones-TOTAL_FORMS": 2,
        "milestones-INITIAL_FORMS": 0,
        "milestones-0-name": "需求确认",
        "milestones-0-due_date": "2026-10-08",
        "milestones-1-name": "测试完成",
        "milestones-1-due_date": "2026-10-15",
        "todos-TOTAL_FORMS": 1,
        "todos-INITIAL_FORMS": 0,
        "todos-0-text": "提交测试计划",
        "todos-0-owner": org.qa_head.pk,
        "todos-0-due_date": "2026-10-09",
    }
    client = client_for(org.coordinator)
    bad = client.post(links(meeting)["minutes"], {**data, "conclusions": ""})
    assert bad.status_code == 200 and not Minutes.objects.exists()
    response = client.post(links(meeting)["minutes"], data)
    assert response.status_code == 302
    minutes = Minutes.objects.get()
    assert [t.text for t in minutes.todos.all()] == ["提交测试计划"]


def test_a_head_confirms_and_another_objects_on_the_page(org: Org, minutes: Minutes) -> None:
    urls = links(minutes.meeting)
    client = client_for(org.qa_head)
    page = client.get(urls["detail"])
    assert page.context["confirm_for"] == [org.qa]
    refused = client.post(
        urls["confirm"], {"department": org.qa.pk, "version": 1, "decision": "objected", "reason": ""}
    )
    assert refused.status_code == 302 and not Confirmation.objects.exists()
    client.post(
        urls["confirm"], {"department": org.qa.pk, "version": 1, "decision": "confirmed", "reason": ""}
    )
    assert Confirmation.objects.get().decided_by == org.qa_head


def test_the_minutes_export_reopens(org: Org, minutes: Minutes) -> None:
    response = client_for(org.owner).get(links(minutes.meeting)["export"])
    sheet = openpyxl.load_workbook(__import__("io").BytesIO(b"".join(response.streaming_content))).active
    values = [cell for row in sheet.iter_rows(values_only=True) for cell in row if cell]
    assert "按计划10月15日完成上线测试" in values and "提交测试计划" in values and "完成功能修复" in values


def test_the_meeting_page_takes_the_same_queries_for_few_or_many_invitees(org: Org) -> None:
    from collab.testing import make_person

    item = make_item(org)
    few = schedule_meeting(org, item)
    for n in range(12):
        make_person(f"qa{n}", org.qa, name=f"测试{n}")
    many = schedule_meeting(org, item)
    client = client_for(org.coordinator)

    def count(meeting: Meeting) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(links(meeting)["detail"]).status_code == 200
        return len(queries)

    assert count(few) == count(many)


def test_anonymous_visitors_are_sent_to_log_in(meeting: Meeting) -> None:
    response = Client().get(links(meeting)["pre_read"])
    assert response.status_code == 302
    assert not Invitation.objects.exclude(pre_read_opened_at=None).exists()


def test_the_minutes_form_starts_from_the_invitees_and_adds_duty_rows(org: Org, meeting: Meeting) -> None:
    page = client_for(org.coordinator).get(links(meeting)["minutes"])
    invited = {i.person_id for i in meeting.invitations.all()}
    assert set(page.context["editor"].form["attendees"].value()) == invited
    body = page.content.decode()
    assert 'data-prefix="responsibilities"' in body  # the "add a responsibility" button
    assert 'name="early_reason"' not in body  # the meeting has started: nothing to explain


def test_a_to_do_due_on_a_holiday_is_asked_about_before_the_minutes_are_saved(
    org: Org, meeting: Meeting
) -> None:
    client = client_for(org.coordinator)
    posted = {
        "attendees": [org.requester.pk],
        "conclusions": "10月15日完成上线测试",
        "responsibilities-TOTAL_FORMS": 0,
        "responsibilities-INITIAL_FORMS": 0,
        "milestones-TOTAL_FORMS": 0,
        "milestones-INITIAL_FORMS": 0,
        "todos-TOTAL_FORMS": 1,
        "todos-INITIAL_FORMS": 0,
        "todos-0-text": "提交测试计划",
        "todos-0-owner": org.qa_head.pk,
        "todos-0-due_date": "2026-10-01",
    }
    asked = client.post(links(meeting)["minutes"], posted)
    assert "待办事项“提交测试计划”：2026-10-01（星期四）不是工作日（国庆节）" in asked.content.decode()
    assert not Minutes.objects.exists()
    answer = {"day_off": "keep", "day_off_seen": "todos-0-due_date=2026-10-01"}
    assert client.post(links(meeting)["minutes"], {**posted, **answer}).status_code == 302
    assert [t.due_date.isoformat() for t in Minutes.objects.get().todos.all()] == ["2026-10-01"]
