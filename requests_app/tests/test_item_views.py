"""The requirement form's pages: who may do what, and what bad input does (nothing)."""

import html
from datetime import date
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from collab.testing import Org, client_for, make_item
from requests_app import services
from requests_app.models import Attachment, CollaborationItem, ItemStatus

pytestmark = pytest.mark.django_db


def text(response: Any) -> str:
    """The page as a person reads it (entities such as &quot; decoded)."""
    return html.unescape(response.content.decode())


def form_post(org: Org, *, action: str = "submit", **overrides: Any) -> dict[str, Any]:
    """What the browser posts for the template's example requirement."""
    data: dict[str, Any] = {
        "topic": "Q3产品上线测试",
        "scenario": "cross_department",
        "requesting_department": org.product.pk,
        "coordinator": org.coordinator.pk,
        "goal": "确保Q3新功能稳定上线,覆盖90%用户需求",
        "scope": "核心功能模块测试",
        "expected_outcome": "功能覆盖90%的用户需求",
        "remarks": "",
        "participations-TOTAL_FORMS": "2",
        "participations-INITIAL_FORMS": "0",
        "participations-0-department": org.rnd.pk,
        "participations-0-role": "",
        "participations-0-core_need": "提供技术支持",
        "participations-1-department": org.qa.pk,
        "participations-1-role": "测试经理",
        "participations-1-core_need": "协助设计测试用例",
        "milestones-TOTAL_FORMS": "1",
        "milestones-INITIAL_FORMS": "0",
        "milestones-0-name": "测试完成",
        "milestones-0-due_date": "2026-10-15",
        action: "1",
    }
    data.update(overrides)
    return data


def urls(item: CollaborationItem, attachment_pk: int = 0) -> dict[str, str]:
    return {
        "detail": reverse("requests_app:item_detail", args=[item.pk]),
        "print": reverse("requests_app:item_print", args=[item.pk]),
        "edit": reverse("requests_app:item_edit", args=[item.pk]),
        "submit": reverse("requests_app:item_submit", args=[item.pk]),
        "upload": reverse("requests_app:attachment_upload", args=[item.pk]),
        "download": reverse("requests_app:attachment_download", args=[item.pk, attachment_pk]),
        "delete": reverse("requests_app:attachment_delete", args=[item.pk, attachment_pk]),
    }


@pytest.fixture
def item_with_file(org: Org) -> tuple[CollaborationItem, Attachment]:
    item = make_item(org, submit=False)
    attachment = services.attachment_add(
        actor=org.requester, item_id=item.pk, upload=SimpleUploadedFile("需求背景.pdf", b"%PDF-1.4 demo")
    )
    services.item_submit(actor=org.requester, item_id=item.pk, version=item.version)
    return item, attachment


def test_a_visitor_who_is_not_logged_in_is_sent_to_the_login_page(item_with_file: Any) -> None:
    item, attachment = item_with_file
    for name, url in urls(item, attachment.pk).items():
        response = Client().get(url)
        assert response.status_code in {302, 405}, name
        if response.status_code == 302:
            assert response["Location"].startswith(reverse("login"))


def test_an_outsider_gets_404_everywhere(org: Org, item_with_file: Any) -> None:
    item, attachment = item_with_file
    client = client_for(org.outsider)
    for name, url in urls(item, attachment.pk).items():
        method = client.get if name in {"detail", "print", "download", "edit"} else client.post
        assert method(url).status_code == 404, name


def test_a_participant_reads_but_gets_403_on_every_write(org: Org, item_with_file: Any) -> None:
    item, attachment = item_with_file
    client = client_for(org.owner)
    links = urls(item, attachment.pk)
    for name in ("detail", "print", "download"):
        assert client.get(links[name]).status_code == 200, name
    assert client.get(links["edit"]).status_code == 403
    assert client.post(links["edit"], form_post(org, action="change", reason="x")).status_code == 403
    for name in ("submit", "upload", "delete"):
        assert client.post(links[name]).status_code == 403, name
    assert Attachment.objects.filter(pk=attachment.pk).exists()


def test_post_only_actions_refuse_get(org: Org, item_with_file: Any) -> None:
    item, attachment = item_with_file
    client = client_for(org.requester)
    links = urls(item, attachment.pk)
    for name in ("submit", "upload", "delete"):
        assert client.get(links[name]).status_code == 405, name
    assert client.get(reverse("requests_app:check_wording")).status_code == 405


def test_the_requester_files_and_submits_a_requirement(org: Org) -> None:
    response = client_for(org.requester).post(reverse("requests_app:item_create"), form_post(org))
    item = CollaborationItem.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "requests_app:item_detail", args=[item.pk]
    )
    assert item.status == ItemStatus.SUBMITTED and item.number
    assert [p.department for p in item.participations.all()] == [org.rnd, org.qa]
    assert [(m.name, m.due_date) for m in item.milestones.all()] == [("测试完成", date(2026, 10, 15))]
    page = client_for(org.collaborator).get(reverse("requests_app:item_detail", args=[item.pk]))
    assert item.number in text(page)


def test_a_vague_goal_is_named_with_its_fix_and_nothing_is_saved(org: Org) -> None:
    response = client_for(org.requester).post(
        reverse("requests_app:item_create"), form_post(org, goal="尽快完成上线测试")
    )
    assert response.status_code == 200
    assert "“尽快”是模糊表述" in text(response)
    assert not CollaborationItem.objects.exists()


def test_in_english_the_advice_is_english(org: Org) -> None:
    client = client_for(org.requester)
    response = client.post(
        reverse("requests_app:item_create"),
        form_post(org, goal="Finish ASAP", expected_outcome="happy users"),
        headers={"accept-language": "en"},
    )
    body = text(response)
    assert '"ASAP" is vague' in body
    assert "needs a measurable criterion" in body
    assert not CollaborationItem.objects.exists()


def test_a_milestone_must_be_a_date(org: Org) -> None:
    response = client_for(org.requester).post(
        reverse("requests_app:item_create"), form_post(org, **{"milestones-0-due_date": "下周"})
    )
    assert response.status_code == 200
    assert "2026-10-05" in text(response)
    assert not CollaborationItem.objects.exists()


def test_a_draft_can_be_saved_incomplete_and_submitted_later(org: Org) -> None:
    client = client_for(org.requester)
    client.post(
        reverse("requests_app:item_create"),
        form_post(org, action="save", goal="", expected_outcome="", **{"milestones-TOTAL_FORMS": "0"}),
    )
    item = CollaborationItem.objects.get()
    assert item.status == ItemStatus.DRAFT
    refused = client.post(reverse("requests_app:item_submit", args=[item.pk]), {"version": item.version})
    assert refused.status_code == 302
    item.refresh_from_db()
    assert item.status == ItemStatus.DRAFT
    client.post(
        reverse("requests_app:item_edit", args=[item.pk]),
        form_post(org, **{"version": item.version, "milestones-INITIAL_FORMS": "0"}),
    )
    item.refresh_from_db()
    assert item.status == ItemStatus.SUBMITTED


def test_editing_a_submitted_form_records_a_change_with_its_reason(org: Org) -> None:
    item = make_item(org)
    client = client_for(org.coordinator)
    edit = reverse("requests_app:item_edit", args=[item.pk])
    data = form_post(org, action="change", version=item.version, **{"milestones-0-due_date": "2026-10-19"})
    missing_reason = client.post(edit, data)
    assert missing_reason.status_code == 200 and not item.requirement_changes.exists()
    response = client.post(edit, {**data, "reason": "研发需要多3天测试"})
    assert response.status_code == 302
    change = item.requirement_changes.get()
    assert change.reason == "研发需要多3天测试"
    detail = client.get(reverse("requests_app:item_detail", args=[item.pk])).content.decode()
    assert "研发需要多3天测试" in detail and "2026-10-19" in detail


def test_a_stale_edit_is_refused_with_a_message_and_loses_nothing(org: Org) -> None:
    item = make_item(org, submit=False)
    stale = item.version
    client_for(org.coordinator).post(
        reverse("requests_app:item_edit", args=[item.pk]),
        form_post(org, action="save", topic="协调人先改", version=stale),
    )
    response = client_for(org.requester).post(
        reverse("requests_app:item_edit", args=[item.pk]),
        form_post(org, action="save", topic="发起人后改", version=stale),
    )
    assert response.status_code == 200
    assert "发起人后改" in text(response)  # their input is still in the form
    item.refresh_from_db()
    assert item.topic == "协调人先改"


def test_attachments_keep_their_chinese_names(org: Org, item_with_file: Any) -> None:
    item, attachment = item_with_file
    response = client_for(org.collaborator).get(urls(item, attachment.pk)["download"])
    assert b"".join(response.streaming_content) == b"%PDF-1.4 demo"
    assert "%E9%9C%80%E6%B1%82%E8%83%8C%E6%99%AF.pdf" in response["Content-Disposition"]


def test_an_unsafe_or_oversized_file_is_refused(org: Org, settings: Any) -> None:
    settings.COLLAB_MAX_UPLOAD_MB = 1
    item = make_item(org, submit=False)
    client = client_for(org.requester)
    upload = reverse("requests_app:attachment_upload", args=[item.pk])
    response = client.post(upload, {"files": SimpleUploadedFile("run.exe", b"MZ")}, follow=True)
    assert "run.exe" in text(response)
    client.post(upload, {"files": SimpleUploadedFile("big.pdf", b"0" * (1024 * 1024 + 1))})
    assert not Attachment.objects.exists()


def test_the_printable_form_shows_the_whole_requirement(org: Org) -> None:
    item = make_item(org)
    body = client_for(org.owner).get(reverse("requests_app:item_print", args=[item.pk])).content.decode()
    for text in ("协作需求确认表", item.number, "覆盖90%", "研发部", "测试部", "2026-10-15"):
        assert text in body


def test_the_history_shows_who_changed_what(org: Org) -> None:
    item = make_item(org)
    body = client_for(org.owner).get(reverse("requests_app:item_detail", args=[item.pk])).content.decode()
    assert "张敏" in body and "提交了协作需求确认表" in body


def test_the_wording_check_answers_while_typing(org: Org) -> None:
    client = client_for(org.requester)
    url = reverse("requests_app:check_wording")
    vague = client.post(url, {"field": "goal", "goal": "尽快上线"}, headers={"hx-request": "true"})
    assert "尽快" in vague.content.decode()
    clear = client.post(url, {"field": "expected_outcome", "expected_outcome": "覆盖90%"})
    assert clear.content.decode().strip() == ""


def test_every_page_needs_a_login(org: Org) -> None:
    for name in ("register", "register_export", "item_create"):
        response = Client().get(reverse(f"requests_app:{name}"))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), name
    response = Client().post(reverse("requests_app:check_wording"), {"field": "goal", "goal": "尽快"})
    assert response.status_code == 302
    Client().post(reverse("requests_app:item_create"), form_post(org))
    assert not CollaborationItem.objects.exists()


def test_the_item_page_takes_the_same_queries_however_much_happened(org: Org) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from collab.testing import schedule_meeting

    def count(item: CollaborationItem) -> int:
        client = client_for(org.owner)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("requests_app:item_detail", args=[item.pk])).status_code == 200
        return len(queries)

    quiet = make_item(org)
    schedule_meeting(org, quiet)
    busy = make_item(org, submit=False)
    for n in range(5):
        services.attachment_add(
            actor=org.requester, item_id=busy.pk, upload=SimpleUploadedFile(f"资料{n}.pdf", b"%PDF")
        )
    busy = services.item_submit(actor=org.requester, item_id=busy.pk, version=busy.version)
    for _ in range(4):
        schedule_meeting(org, busy)
    assert count(quiet) == count(busy)


def test_a_tampered_version_is_refused_with_a_message_and_changes_nothing(org: Org) -> None:
    item = make_item(org, submit=False)
    client = client_for(org.requester)
    edited = client.post(
        reverse("requests_app:item_edit", args=[item.pk]),
        form_post(org, action="save", topic="改过", version="abc"),
    )
    assert edited.status_code == 200 and "改过" in text(edited)
    submitted = client.post(
        reverse("requests_app:item_submit", args=[item.pk]), {"version": "x"}, follow=True
    )
    assert submitted.status_code == 200 and submitted.context["messages"]
    item.refresh_from_db()
    assert (item.topic, item.status, item.number) == ("Q3产品上线测试", "draft", None)


def test_one_submit_reports_every_problem_and_ignores_blank_rows(org: Org) -> None:
    """The first submit names the missing topic, every vague sentence and nothing about the
    pre-printed rows left blank: a person fixes everything in one round."""
    posted = form_post(
        org,
        topic="",
        goal="尽快完成上线测试",
        scope="活动页面相关内容等",
        **{
            "participations-0-core_need": "尽快开发",
            "milestones-TOTAL_FORMS": "2",
            "milestones-1-name": "",
            "milestones-1-due_date": "",
        },
    )
    response = client_for(org.requester).post(reverse("requests_app:item_create"), posted)
    body = text(response)
    assert response.status_code == 200
    assert "这个字段是必填项" in body  # the topic
    assert body.count("这个字段是必填项") == 1  # and not the blank milestone row
    assert "“尽快”是模糊表述" in body
    assert "“相关内容”是模糊表述" in body and "“等”是模糊表述" in body
    assert "核心需求“尽快开发”" in body
    assert not CollaborationItem.objects.exists()


def test_the_live_check_also_reads_a_rows_field(org: Org) -> None:
    response = client_for(org.requester).post(
        reverse("requests_app:check_wording"),
        {"field": "core_need", "participations-3-core_need": "配合测试，尽量快"},
    )
    assert "尽量" in response.content.decode()


def test_a_milestone_on_a_sunday_is_asked_about_before_anything_is_saved(org: Org) -> None:
    client = client_for(org.requester)
    url = reverse("requests_app:item_create")
    posted = form_post(org, **{"milestones-0-due_date": "2026-10-18"})
    asked = client.post(url, posted)
    body = text(asked)
    assert "时间节点“测试完成”：2026-10-18（星期日）不是工作日（周末）" in body
    assert "下一个工作日2026-10-19（星期一）" in body
    assert not CollaborationItem.objects.exists()
    # "Move": the calendar's next working day is saved, and the submit goes ahead.
    moved = client.post(
        url,
        {
            **posted,
            "day_off": "move",
            "day_off_seen": "milestones-0-due_date=2026-10-18",
            "day_off_move": "milestones-0-due_date=2026-10-18>2026-10-19",  # as the question posts it
        },
    )
    assert moved.status_code == 302
    item = CollaborationItem.objects.get()
    assert [m.due_date for m in item.milestones.all()] == [date(2026, 10, 19)]
    assert item.status == ItemStatus.SUBMITTED


def test_a_kept_day_off_is_saved_and_a_changed_one_is_asked_again(org: Org) -> None:
    client = client_for(org.requester)
    url = reverse("requests_app:item_create")
    seen = {"day_off": "keep", "day_off_seen": "milestones-0-due_date=2026-10-18", "day_off_action": "save"}
    posted = form_post(org, action="save", **{"milestones-0-due_date": "2026-10-17"}) | seen
    again = client.post(url, posted)  # the person changed the date to the Saturday: asked again
    assert "2026-10-17（星期六）" in text(again) and not CollaborationItem.objects.exists()
    kept = client.post(url, form_post(org, action="save", **{"milestones-0-due_date": "2026-10-18"}) | seen)
    assert kept.status_code == 302
    item = CollaborationItem.objects.get()
    assert item.status == ItemStatus.DRAFT  # "save draft" was the button pressed first
    assert [m.due_date for m in item.milestones.all()] == [date(2026, 10, 18)]
