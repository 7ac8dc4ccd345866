"""The delivery pages: who may do what, what bad input does (nothing), and what the pages cost."""

import html
from typing import Any
from urllib.parse import quote

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from collab.testing import PASSWORD, Org, client_for
from requests_app.models import CollaborationItem
from reviews_app.models import Deliverable, DeliverableFile, DeliverableStatus, DeliverableVersion, Signature
from reviews_app.tests.delivery_support import (
    EN,
    accept,
    at,
    plan_task,
    png_data_url,
    request_changes,
    revise,
    snapshot,
    started_item,
    submit,
    upload,
)
from tasks_app.models import Task, TaskStatus

pytestmark = pytest.mark.django_db


def text(response: Any) -> str:
    """The page as a person reads it (entities decoded, Django's no-break spaces as spaces)."""
    return html.unescape(response.content.decode()).replace("\xa0", " ")


@pytest.fixture
def item(org: Org) -> CollaborationItem:
    return started_item(org)


@pytest.fixture
def task(item: CollaborationItem) -> Task:
    return plan_task(item)


@pytest.fixture
def urls(org: Org, task: Task) -> dict[str, Any]:
    """A deliverable sent back for changes, and every URL of the stage."""
    deliverable = submit(org, task)
    request_changes(org, deliverable)
    pk, d = task.item_id, deliverable.pk
    file = DeliverableFile.objects.get(version__deliverable=deliverable)
    return {
        "deliverable": deliverable,
        "get": {
            "list": reverse("reviews_app:task_deliverables", args=[pk, task.pk]),
            "detail": reverse("reviews_app:deliverable_detail", args=[pk, d]),
            "file": reverse("reviews_app:deliverable_file", args=[pk, d, file.pk]),
            "print": reverse("reviews_app:acceptance_print", args=[pk, d]),
            "pdf": reverse("reviews_app:acceptance_pdf", args=[pk, d]),
        },
        "form": {
            "create": reverse("reviews_app:deliverable_create", args=[pk, task.pk]),
            "revise": reverse("reviews_app:deliverable_revise", args=[pk, d]),
        },
        "post": {
            "review": reverse("reviews_app:deliverable_review", args=[pk, d]),
            "sign": reverse("reviews_app:deliverable_sign", args=[pk, d]),
        },
    }


def write_data(org: Org) -> dict[str, Any]:
    """A post that would be accepted by any of the write views, were the sender allowed."""
    return {
        "name": "测试报告",
        "note": "改好了",
        "decision": "accepted",
        "version_number": 1,
        "role": "deliverer",
        "password": PASSWORD,
    }


# --- access ---------------------------------------------------------------------------------------


def test_a_visitor_who_is_not_logged_in_is_sent_to_the_login_page(urls: dict[str, Any]) -> None:
    before = snapshot()
    for name, url in {**urls["get"], **urls["form"], **urls["post"]}.items():
        method = Client().post if name in urls["post"] else Client().get
        response = method(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), name
    assert snapshot() == before


def test_an_outsider_gets_404_everywhere(org: Org, urls: dict[str, Any]) -> None:
    client = client_for(org.outsider)
    before = snapshot()
    for name, url in {**urls["get"], **urls["form"]}.items():
        assert client.get(url).status_code == 404, name
    for name, url in {**urls["form"], **urls["post"]}.items():
        assert client.post(url, write_data(org)).status_code == 404, name
    assert snapshot() == before


@pytest.mark.parametrize("persona", ["qa_head", "collaborator", "coordinator", "requester"])
def test_a_participant_reads_but_gets_403_on_every_write(
    org: Org, urls: dict[str, Any], persona: str
) -> None:
    client = client_for(getattr(org, persona))
    before = snapshot()
    for name, url in urls["get"].items():
        assert client.get(url).status_code == 200, name
    for name, url in urls["form"].items():
        assert client.get(url).status_code == 403, name
        assert client.post(url, {**write_data(org), "uploads": upload()}).status_code == 403, name
    for name, url in urls["post"].items():
        assert client.post(url, write_data(org)).status_code == 403, name
    assert snapshot() == before


def test_each_side_gets_403_on_the_other_sides_writes(org: Org, urls: dict[str, Any]) -> None:
    before = snapshot()
    receiver = client_for(org.receiver)
    assert receiver.get(urls["form"]["create"]).status_code == 403
    assert receiver.post(urls["form"]["revise"], {"note": "x", "uploads": upload()}).status_code == 403
    owner = client_for(org.owner)
    assert owner.post(urls["post"]["review"], write_data(org)).status_code == 403
    assert snapshot() == before


def test_post_only_actions_refuse_get_and_pages_refuse_post(org: Org, urls: dict[str, Any]) -> None:
    client = client_for(org.receiver)
    for name, url in urls["post"].items():
        assert client.get(url).status_code == 405, name
    for name, url in urls["get"].items():
        assert client.post(url).status_code == 405, name


def test_a_deliverable_of_another_item_is_not_found(org: Org, urls: dict[str, Any]) -> None:
    other = started_item(org)
    deliverable = urls["deliverable"]
    url = reverse("reviews_app:deliverable_detail", args=[other.pk, deliverable.pk])
    assert client_for(org.owner).get(url).status_code == 404


# --- bad input changes nothing --------------------------------------------------------------------


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_a_submission_without_files_or_with_a_forbidden_type_is_refused(org: Org, task: Task) -> None:
    client = client_for(org.owner)
    url = reverse("reviews_app:deliverable_create", args=[task.item_id, task.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"name": "测试报告", "note": ""}, headers=EN)
    assert response.status_code == 200 and "The deliverable is not complete." in _messages(response)
    response = client.post(url, {"name": "测试报告", "uploads": upload("脚本.exe", b"MZ")}, headers=EN)
    assert response.status_code == 200 and any("cannot be attached" in m for m in _messages(response))
    response = client.post(url, {"name": "", "uploads": upload()}, headers=EN)
    assert response.status_code == 200
    assert not Deliverable.objects.exists() and not DeliverableFile.objects.exists()


def test_a_review_without_comments_or_of_a_stale_version_is_refused(org: Org, task: Task) -> None:
    deliverable = submit(org, task)
    client = client_for(org.receiver)
    url = reverse("reviews_app:deliverable_review", args=[task.item_id, deliverable.pk])
    before = snapshot()
    for data in (
        {"decision": "changes_requested", "comments": " ", "version_number": 1},
        {"decision": "accepted", "version_number": 7},
        {"decision": "maybe", "version_number": 1},
        {"decision": "accepted", "version_number": "x"},
    ):
        response = client.post(url, data, headers=EN, follow=True)
        assert response.status_code == 200 and _messages(response), data
    assert snapshot() == before


def test_a_revision_without_a_note_is_refused(org: Org, urls: dict[str, Any]) -> None:
    client = client_for(org.owner)
    before = snapshot()
    response = client.post(urls["form"]["revise"], {"note": "", "uploads": upload()}, headers=EN)
    assert response.status_code == 200 and _messages(response)
    assert snapshot() == before


def test_a_wrong_password_or_a_bad_drawing_signs_nothing(org: Org, task: Task) -> None:
    deliverable = submit(org, task)
    accept(org, deliverable)
    url = reverse("reviews_app:deliverable_sign", args=[task.item_id, deliverable.pk])
    client = client_for(org.owner)
    for data in (
        {"role": "deliverer", "password": "wrong"},
        {"role": "deliverer", "password": ""},
        {"role": "deliverer", "password": PASSWORD, "drawing": "data:image/svg+xml;base64,PHN2Zz4="},
        {"role": "receiver", "password": PASSWORD},  # the owner signing the receiver's line
        {"role": "boss", "password": PASSWORD},
    ):
        response = client.post(url, data, headers=EN, follow=True)
        assert response.status_code == 200 and _messages(response), data
    assert not Signature.objects.exists()


def test_a_submission_before_execution_is_sent_back_with_a_message(org: Org) -> None:
    from tasks_app.tests.support import consensus_item, cover_everything

    item = consensus_item(org)
    first, _ = cover_everything(org, item)
    url = reverse("reviews_app:deliverable_create", args=[item.pk, first.pk])
    response = client_for(org.owner).get(url, headers=EN, follow=True)
    assert any("in execution" in m for m in _messages(response))
    assert not Deliverable.objects.exists()


# --- the journey through the pages ----------------------------------------------------------------


def test_deliver_review_revise_accept_and_sign_through_the_pages(org: Org, task: Task) -> None:
    owner, receiver = client_for(org.owner), client_for(org.receiver)
    create = reverse("reviews_app:deliverable_create", args=[task.item_id, task.pk])
    with time_machine.travel(at("2026-09-30 15:00"), tick=False):
        response = owner.post(
            create, {"name": "测试报告", "note": "初版", "uploads": [upload("测试报告.pdf")]}
        )
        deliverable = Deliverable.objects.get()
        detail = reverse("reviews_app:deliverable_detail", args=[task.item_id, deliverable.pk])
        assert response.status_code == 302 and response["Location"] == detail
        page = text(receiver.get(detail, headers=EN))
        chinese = text(receiver.get(detail))
    # The due moment and the working time left, on the receiver's calendar (National Day in
    # between), worded as the boards word it: no calendar time ("1 week, 1 day left") beside it.
    assert (
        "The review of version 1 is due 2026-10-08 15:00 (Asia/Shanghai): 8 h 00 min of working time left."
        in page
    )
    assert "1 week" not in page
    assert "第1版须于 2026-10-08 15:00（Asia/Shanghai）前审核：剩余工作时间8小时00分。" in chinese
    assert reverse("reviews_app:deliverable_review", args=[task.item_id, deliverable.pk]) in page
    with time_machine.travel(at("2026-10-08 09:00"), tick=False):
        assert "5 h 00 min of working time left." in text(receiver.get(detail, headers=EN))
        receiver.post(
            reverse("reviews_app:deliverable_review", args=[task.item_id, deliverable.pk]),
            {
                "decision": "changes_requested",
                "comments": "第3章用例结果描述不清晰,需补充截图",
                "version_number": 1,
            },
        )
    revise_url = reverse("reviews_app:deliverable_revise", args=[task.item_id, deliverable.pk])
    assert revise_url in text(owner.get(detail))
    assert "第3章用例结果描述不清晰" in text(owner.get(revise_url))
    with time_machine.travel(at("2026-10-08 16:00"), tick=False):
        response = owner.post(
            revise_url, {"note": "补充了截图", "uploads": [upload("测试报告v2.pdf", b"v2")]}
        )
        assert response.status_code == 302
    with time_machine.travel(at("2026-10-09 10:00"), tick=False):
        receiver.post(
            reverse("reviews_app:deliverable_review", args=[task.item_id, deliverable.pk]),
            {"decision": "accepted", "comments": "", "version_number": 2},
        )
    page = text(owner.get(detail, headers=EN))
    assert 'id="sign-form"' in page and "signature_pad.js" in page
    assert 'id="version-count">2<' in page and "第3章用例结果描述不清晰" in page
    sign_url = reverse("reviews_app:deliverable_sign", args=[task.item_id, deliverable.pk])
    drawing = png_data_url()
    owner.post(
        sign_url, {"role": "deliverer", "password": PASSWORD, "drawing": drawing}, REMOTE_ADDR="10.1.2.3"
    )
    receiver.post(sign_url, {"role": "receiver", "password": PASSWORD, "drawing": ""}, REMOTE_ADDR="::1")
    assert list(Signature.objects.order_by("pk").values_list("role", "signer", "ip_address", "drawing")) == [
        ("deliverer", org.owner.pk, "10.1.2.3", drawing),
        ("receiver", org.receiver.pk, "::1", ""),
    ]
    deliverable.refresh_from_db()
    task.refresh_from_db()
    assert deliverable.status == DeliverableStatus.SIGNED and task.status == TaskStatus.DONE
    page = text(client_for(org.coordinator).get(detail, headers=EN))
    assert 'data-intact="true"' in page and drawing in page and 'id="sign-form"' not in page
    assert revise_url not in page


def test_a_file_downloads_with_its_original_chinese_name(org: Org, urls: dict[str, Any]) -> None:
    response = client_for(org.qa_head).get(urls["get"]["file"])
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 test report v1"
    assert f"filename*=utf-8''{quote('测试报告.pdf')}" in response["Content-Disposition"]


def test_an_overdue_review_says_so(org: Org, task: Task) -> None:
    with time_machine.travel(at("2026-09-30 15:00"), tick=False):
        deliverable = submit(org, task)
    detail = reverse("reviews_app:deliverable_detail", args=[task.item_id, deliverable.pk])
    with time_machine.travel(at("2026-10-09 09:00"), tick=False):
        page = text(client_for(org.owner).get(detail, headers=EN))
        chinese = text(client_for(org.owner).get(detail))
    assert "was due 2026-10-08 15:00 (Asia/Shanghai): Overdue by 3 h 00 min of working time." in page
    assert "应于 2026-10-08 15:00（Asia/Shanghai）前审核：已超时，超出工作时间3小时00分。" in chinese


def test_the_task_page_links_to_its_deliverables(org: Org, task: Task) -> None:
    submit(org, task)
    page = text(
        client_for(org.collaborator).get(reverse("tasks_app:task_detail", args=[task.item_id, task.pk]))
    )
    url = reverse("reviews_app:task_deliverables", args=[task.item_id, task.pk])
    assert url in page
    listing = text(client_for(org.collaborator).get(url))
    assert "测试报告" in listing
    assert reverse("reviews_app:deliverable_create", args=[task.item_id, task.pk]) not in listing
    assert reverse("reviews_app:deliverable_create", args=[task.item_id, task.pk]) in text(
        client_for(org.owner).get(url)
    )


# --- cost -----------------------------------------------------------------------------------------


def _count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_the_deliverable_page_takes_the_same_queries_for_1_or_5_versions(org: Org, task: Task) -> None:
    deliverable = submit(org, task)
    request_changes(org, deliverable, comments="第1轮意见")
    pages = [
        reverse("reviews_app:deliverable_detail", args=[task.item_id, deliverable.pk]),
        reverse("reviews_app:task_deliverables", args=[task.item_id, task.pk]),
        reverse("reviews_app:acceptance_print", args=[task.item_id, deliverable.pk]),
    ]
    client = client_for(org.receiver)
    small = [_count_queries(client, url) for url in pages]
    for n in range(4):
        revise(org, deliverable, content=f"v{n + 2}".encode())
        request_changes(org, deliverable, comments=f"第{n + 2}轮意见")
    assert DeliverableVersion.objects.filter(deliverable=deliverable).count() == 5
    large = [_count_queries(client, url) for url in pages]
    assert small == large
    assert large[0] <= 12 and large[1] <= 11 and large[2] <= 12, large
