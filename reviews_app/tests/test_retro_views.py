"""The retrospective's pages and the process-improvement log: who may do what, what bad input
does (nothing), the filters, a measure tracked to done, and what the log costs."""

import html
import io
from datetime import timedelta
from typing import Any

import openpyxl
import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from collab.org.calendar import calendar_for
from collab.testing import Org, client_for
from requests_app.models import CollaborationItem, ItemStatus
from requests_app.services import item_transition
from reviews_app.models import ImprovementMeasure, MeasureStatus, Retrospective
from reviews_app.retro_services import MeasureData, measure_add, retrospective_record
from reviews_app.tests.test_archive_build import pdf_fonts, pdf_text
from reviews_app.tests.test_archive_support import EN, record_retro, retro_data, started_item
from tasks_app.tests.support import finish_tasks

pytestmark = pytest.mark.django_db


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def item(org: Org) -> CollaborationItem:
    return started_item(org)


def urls(item: CollaborationItem) -> dict[str, dict[str, str]]:
    pk = item.pk
    return {
        "get": {
            "page": reverse("reviews_app:retrospective", args=[pk]),
        },
        "recorded": {
            "print": reverse("reviews_app:retrospective_print", args=[pk]),
            "pdf": reverse("reviews_app:retrospective_pdf", args=[pk]),
            "xlsx": reverse("reviews_app:retrospective_export", args=[pk]),
        },
        "form": {
            "record": reverse("reviews_app:retrospective_record", args=[pk]),
            "edit": reverse("reviews_app:retrospective_edit", args=[pk]),
        },
        "post": {
            "add": reverse("reviews_app:measure_add", args=[pk]),
        },
    }


def form_post(org: Org, **overrides: Any) -> dict[str, Any]:
    """What the browser posts when recording the template's retrospective (one blank row)."""
    today = timezone.localdate()
    # A working day about a month ahead: a holiday would make the form ask for confirmation first.
    due = calendar_for(org.region).next_working_day(today + timedelta(days=29))
    data: dict[str, Any] = {
        "held_on": f"{today:%Y-%m-%d}",
        "participants": [org.requester.pk, org.coordinator.pk, org.owner.pk],
        "highlights": "跨部门沟通高效",
        "shortcomings": "需求变更未及时同步",
        "measures-TOTAL_FORMS": "2",
        "measures-INITIAL_FORMS": "0",
        "measures-MIN_NUM_FORMS": "0",
        "measures-MAX_NUM_FORMS": "1000",
        "measures-0-text": "建立需求变更通知机制",
        "measures-0-owner": org.qa_head.pk,
        "measures-0-department": "",  # the owner's department
        "measures-0-due_date": f"{due:%Y-%m-%d}",
        "measures-1-text": "",
        "measures-1-owner": "",
        "measures-1-department": "",
        "measures-1-due_date": "",
    }
    data.update(overrides)
    return data


def snapshot() -> tuple[Any, ...]:
    return (
        list(Retrospective.objects.order_by("pk").values_list("pk", "held_on", "highlights")),
        list(ImprovementMeasure.objects.order_by("pk").values_list("pk", "text", "status", "done_note")),
        list(CollaborationItem.objects.order_by("pk").values_list("pk", "status", "version")),
    )


# --- access ---------------------------------------------------------------------------------------


def test_an_outsider_gets_404_on_every_page_of_the_retrospective(org: Org, item: CollaborationItem) -> None:
    record_retro(org, item)
    client = client_for(org.outsider)
    before = snapshot()
    all_urls = urls(item)
    for name, url in {**all_urls["get"], **all_urls["recorded"], **all_urls["form"]}.items():
        assert client.get(url).status_code == 404, name
    for name, url in {**all_urls["form"], **all_urls["post"]}.items():
        assert client.post(url, form_post(org)).status_code == 404, name
    assert snapshot() == before


def test_a_participant_reads_it_but_gets_403_on_every_write(org: Org, item: CollaborationItem) -> None:
    record_retro(org, item)
    client = client_for(org.qa_head)
    before = snapshot()
    all_urls = urls(item)
    for name, url in {**all_urls["get"], **all_urls["recorded"]}.items():
        assert client.get(url).status_code == 200, name
    for name, url in all_urls["form"].items():
        assert client.get(url).status_code == 403, name
        assert client.post(url, form_post(org)).status_code == 403, name
    assert client.post(all_urls["post"]["add"], {"new-text": "x"}).status_code == 403
    assert snapshot() == before
    body = text(client.get(all_urls["get"]["page"]))
    assert all_urls["form"]["edit"] not in body and all_urls["post"]["add"] not in body


def test_post_only_actions_refuse_get(org: Org, item: CollaborationItem) -> None:
    retrospective = record_retro(org, item)
    client = client_for(org.coordinator)
    assert client.get(urls(item)["post"]["add"]).status_code == 405
    measure = retrospective.measures.first()
    assert measure is not None
    assert client.get(reverse("reviews_app:measure_done", args=[measure.pk])).status_code == 405
    assert client.post(reverse("reviews_app:improvement_log")).status_code == 405


def test_a_visitor_who_is_not_logged_in_is_sent_to_the_login_page(org: Org, item: CollaborationItem) -> None:
    for url in (reverse("reviews_app:improvement_log"), urls(item)["get"]["page"]):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# --- recording ------------------------------------------------------------------------------------


def test_the_coordinator_records_it_in_the_browser(org: Org, item: CollaborationItem) -> None:
    client = client_for(org.coordinator)
    page = client.get(urls(item)["form"]["record"], headers=EN)
    assert page.status_code == 200 and "measures-TOTAL_FORMS" in text(page)

    response = client.post(urls(item)["form"]["record"], form_post(org), headers=EN)
    assert response.status_code == 302 and response["Location"] == urls(item)["get"]["page"]
    retrospective = Retrospective.objects.get(item=item)
    measure = retrospective.measures.get()  # the blank row is ignored
    assert (measure.text, measure.owner, measure.department) == ("建立需求变更通知机制", org.qa_head, org.qa)

    body = text(client.get(urls(item)["get"]["page"], headers=EN))
    for expected in ("跨部门沟通高效", "需求变更未及时同步", "建立需求变更通知机制", "王芳", "测试部"):
        assert expected in body, expected
    # Recording again leads to editing.
    assert client.get(urls(item)["form"]["record"])["Location"] == urls(item)["form"]["edit"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"highlights": ""}, "This field is required."),
        ({"held_on": "下周"}, "Enter a date such as 2026-10-05."),
        (
            {"measures-0-text": "", "measures-0-owner": "", "measures-0-due_date": ""},
            "at least one improvement",
        ),
        ({"measures-0-text": "尽快建立变更通知机制"}, '"尽快" is vague'),
        ({"measures-0-due_date": "2020-01-02"}, "before the retrospective"),
    ],
)
def test_bad_input_shows_a_message_and_saves_nothing(
    org: Org, item: CollaborationItem, overrides: dict[str, Any], message: str
) -> None:
    before = snapshot()
    response = client_for(org.coordinator).post(
        urls(item)["form"]["record"], form_post(org, **overrides), headers=EN
    )
    assert response.status_code == 200
    assert message in text(response)
    assert snapshot() == before


def test_the_form_is_closed_on_an_archived_item(org: Org, item: CollaborationItem) -> None:
    finish_tasks(item)
    with transaction.atomic():
        locked = CollaborationItem.objects.select_for_update().get(pk=item.pk)
        item_transition(actor=org.coordinator, item=locked, to=ItemStatus.CLOSED)
    client = client_for(org.coordinator)
    response = client.get(urls(item)["form"]["record"], headers=EN, follow=True)
    assert "This item is archived and can no longer be changed." in text(response)
    before = snapshot()
    response = client.post(urls(item)["form"]["record"], form_post(org), headers=EN, follow=True)
    assert response.redirect_chain[-1][0] == reverse("requests_app:item_detail", args=[item.pk])
    assert "This item is archived and can no longer be changed." in text(response)
    assert snapshot() == before


def test_the_coordinator_edits_it_and_adds_a_measure(org: Org, item: CollaborationItem) -> None:
    record_retro(org, item)
    client = client_for(org.coordinator)
    edit = form_post(org, highlights="沟通高效,日报准时")
    assert client.post(urls(item)["form"]["edit"], edit).status_code == 302
    assert Retrospective.objects.get(item=item).highlights == "沟通高效,日报准时"

    due = f"{calendar_for(org.region).next_working_day(timezone.localdate() + timedelta(days=6)):%Y-%m-%d}"
    added = {
        "new-text": "每周五同步需求变更",
        "new-owner": org.owner.pk,
        "new-department": "",
        "new-due_date": due,
    }
    assert client.post(urls(item)["post"]["add"], added).status_code == 302
    assert ImprovementMeasure.objects.filter(text="每周五同步需求变更", department=org.qa).exists()
    before = snapshot()
    response = client.post(
        urls(item)["post"]["add"], {**added, "new-text": "适当加强沟通"}, headers=EN, follow=True
    )
    assert '"适当" is vague' in text(response)
    assert snapshot() == before


# --- the printable record, its PDF and Excel ------------------------------------------------------


def test_the_record_prints_and_downloads_as_pdf_and_excel(org: Org, item: CollaborationItem) -> None:
    record_retro(org, item)
    client = client_for(org.collaborator)
    printed = text(client.get(urls(item)["recorded"]["print"]))
    for expected in ("协作流程优化记录", "Q3产品上线测试", "跨部门沟通高效", "建立需求变更通知机制"):
        assert expected in printed

    pdf = client.get(urls(item)["recorded"]["pdf"])
    assert pdf["Content-Type"] == "application/pdf"
    assert any("CJK" in name for name in pdf_fonts(pdf.content))
    assert "需求变更未及时同步" in pdf_text(pdf.content).replace("\n", "")

    xlsx = client.get(urls(item)["recorded"]["xlsx"])
    assert "filename*=utf-8''" in xlsx["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(xlsx.streaming_content)))
    cells = {str(c.value) for sheet in workbook for row in sheet.iter_rows() for c in row if c.value}
    assert {"Q3产品上线测试", "跨部门沟通高效", "建立需求变更通知机制", "李娜"} <= cells


def test_before_it_is_recorded_the_record_pages_are_404(org: Org, item: CollaborationItem) -> None:
    client = client_for(org.coordinator)
    for name, url in urls(item)["recorded"].items():
        assert client.get(url).status_code == 404, name
    body = text(client.get(urls(item)["get"]["page"], headers=EN))
    assert "The retrospective is not recorded yet." in body and urls(item)["form"]["record"] in body


# --- the process-improvement log ------------------------------------------------------------------


def log(client: Client, **params: Any) -> str:
    response = client.get(reverse("reviews_app:improvement_log"), params, headers=EN)
    assert response.status_code == 200
    return text(response)


def test_the_log_shows_each_person_only_the_measures_of_items_they_see(
    org: Org, item: CollaborationItem, django_user_model: Any
) -> None:
    retrospective = record_retro(org, item)
    assert "建立需求变更通知机制" in log(client_for(org.owner))
    # Finance takes no part in the item: neither its number, topic nor measures show.
    hidden = log(client_for(org.outsider))
    assert "建立需求变更通知机制" not in hidden and item.number not in hidden and "0 measures" in hidden
    admin = django_user_model.objects.create_superuser("admin", "admin@example.com", "pw")
    assert "建立需求变更通知机制" in log(client_for(admin))
    # Given a measure, a person outside the item sees the item and that measure.
    today = timezone.localdate()
    measure_add(
        actor=org.coordinator,
        retrospective_id=retrospective.pk,
        data=MeasureData("报销流程附上验收表", org.outsider.pk, org.finance.pk, today + timedelta(days=7)),
    )
    mine = log(client_for(org.outsider))
    assert "报销流程附上验收表" in mine and "建立需求变更通知机制" in mine
    assert (
        client_for(org.outsider).get(reverse("requests_app:item_detail", args=[item.pk])).status_code == 200
    )


def test_anyone_logged_in_reads_the_log_and_filters_it(org: Org, item: CollaborationItem) -> None:
    record_retro(org, item)
    other = started_item(org, topic="月度计划同步")
    today = timezone.localdate()
    retrospective_record(
        actor=org.coordinator,
        item_id=other.pk,
        data=retro_data(org, measures=[MeasureData("月报模板统一", org.requester.pk, org.product.pk, today)]),
    )
    done = ImprovementMeasure.objects.get(text="月报模板统一")
    ImprovementMeasure.objects.filter(pk=done.pk).update(status=MeasureStatus.DONE, done_note="已统一")
    late = ImprovementMeasure.objects.get(text="建立需求变更通知机制")
    ImprovementMeasure.objects.filter(pk=late.pk).update(due_date=today - timedelta(days=3))

    client = client_for(org.owner)  # company-wide: every item QA takes part in
    everything = log(client)
    for expected in ("建立需求变更通知机制", "需求确认后3天内完成测试用例评审", "月报模板统一", "3 measures"):
        assert expected in everything, expected
    by_department = log(client, department=org.qa.pk)
    assert "需求确认后3天内完成测试用例评审" in by_department and "建立需求变更通知机制" not in by_department
    open_only = log(client, status="open")
    assert "月报模板统一" not in open_only and "建立需求变更通知机制" in open_only
    done_only = log(client, status="done")
    assert "月报模板统一" in done_only and "已统一" in done_only and "建立需求变更通知机制" not in done_only
    overdue = log(client, status="overdue")
    assert "建立需求变更通知机制" in overdue and "需求确认后3天内完成测试用例评审" not in overdue
    mine = log(client_for(org.qa_head), mine="on")
    assert "需求确认后3天内完成测试用例评审" in mine and "建立需求变更通知机制" not in mine
    # HTMX asks for the results only.
    partial = client.get(
        reverse("reviews_app:improvement_log"), {"status": "done"}, headers={"HX-Request": "true"}
    )
    assert "月报模板统一" in text(partial) and "<html" not in text(partial)
    # Nobody outside the item marks its measures done, and the page offers them no button.
    assert reverse("reviews_app:measure_done", args=[late.pk]) not in everything


def test_the_owner_tracks_a_measure_to_done_from_the_log(org: Org, item: CollaborationItem) -> None:
    record_retro(org, item)
    measure = ImprovementMeasure.objects.get(owner=org.qa_head)
    done_url = reverse("reviews_app:measure_done", args=[measure.pk])
    client = client_for(org.qa_head)
    back = reverse("reviews_app:improvement_log") + "?status=open"
    assert done_url in log(client)

    before = snapshot()
    response = client.post(done_url, {"note": "", "next": back}, headers=EN)
    assert response.status_code == 302 and response["Location"] == back
    assert snapshot() == before
    # Outside the item: 404 (it does not exist for them); the requester sees it but may not: 403.
    assert client_for(org.outsider).post(done_url, {"note": "完成"}).status_code == 404
    assert client_for(org.requester).post(done_url, {"note": "完成"}).status_code == 403
    assert snapshot() == before

    response = client.post(done_url, {"note": "评审已纳入流程", "next": "https://evil.example.com/"})
    assert response["Location"] == reverse("reviews_app:improvement_log")
    measure.refresh_from_db()
    assert measure.status == MeasureStatus.DONE and measure.done_note == "评审已纳入流程"
    assert "评审已纳入流程" in log(client, status="done")
    assert done_url not in log(client)


def _log_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("reviews_app:improvement_log"))
    assert response.status_code == 200
    return len(queries)


def _add_measures(org: Org, item: CollaborationItem, count: int) -> None:
    retrospective = Retrospective.objects.get(item=item)
    people = [
        (org.qa_head, org.qa),
        (org.owner, org.qa),
        (org.collaborator, org.rnd),
        (org.coordinator, org.pmo),
    ]
    ImprovementMeasure.objects.bulk_create(
        ImprovementMeasure(
            retrospective=retrospective,
            text=f"改进措施{n}",
            owner=people[n % 4][0],
            department=people[n % 4][1],
            due_date=timezone.localdate() + timedelta(days=n),
        )
        for n in range(count)
    )


def test_the_log_takes_the_same_queries_for_3_or_15_measures(org: Org, item: CollaborationItem) -> None:
    record_retro(
        org,
        item,
        measures=[
            MeasureData("首条措施", org.qa_head.pk, org.qa.pk, timezone.localdate() + timedelta(days=1))
        ],
    )
    client = client_for(org.coordinator)  # sees a "mark done" form on every row
    _add_measures(org, item, 2)
    assert ImprovementMeasure.objects.count() == 3
    few = _log_queries(client)
    _add_measures(org, item, 12)
    assert ImprovementMeasure.objects.count() == 15
    assert _log_queries(client) == few


def test_a_long_log_pages_and_its_pages_keep_the_filter(org: Org, item: CollaborationItem) -> None:
    record_retro(org, item)
    _add_measures(org, item, 60)  # 15 of them R&D's
    client = client_for(org.coordinator)
    first = client.get(reverse("reviews_app:improvement_log"), {"status": "open"}, headers=EN)
    page = first.content.decode()
    assert "Page 1 of 3" in html.unescape(text(first))
    assert 'href="?status=open&amp;page=2"' in page
    second = client.get(reverse("reviews_app:improvement_log"), {"status": "open", "page": 2}, headers=EN)
    assert "Page 2 of 3" in text(second)
    assert 'href="?status=open&amp;page=1"' in second.content.decode()
    # A filter that fits one page shows no pager.
    rnd = client.get(reverse("reviews_app:improvement_log"), {"department": org.rnd.pk}, headers=EN)
    assert "Page 1 of" not in text(rnd) and 'class="pager"' not in rnd.content.decode()
