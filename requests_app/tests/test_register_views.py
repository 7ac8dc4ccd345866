"""The communication register page and its Excel export."""

import io
import re
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

import openpyxl
import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from collab.testing import Org, client_for, make_item
from requests_app.models import CollaborationItem, Scenario
from requests_app.rules import ParticipationData
from requests_app.selectors import text_search

pytestmark = pytest.mark.django_db

ZH_HEADERS = [
    "沟通事项编号",
    "事项主题",
    "发起部门/人",
    "参与部门/人",
    "需求描述（目标、范围、时间）",
    "沟通方式",
    "关键结论/任务分配",
    "责任人",
    "截止时间",
    "当前状态",
    "备注",
]
EN_HEADERS = [
    "Item number",
    "Topic",
    "Initiating department/person",
    "Participating departments/persons",
    "Requirement (goal, scope, time)",
    "Communication method",
    "Key conclusions/task assignments",
    "Owner",
    "Deadline",
    "Current status",
    "Remarks",
]


def numbers_on_page(response: Any) -> list[str]:
    return [item.number for item, _row in response.context["rows"]]


def workbook(response: Any) -> Any:
    return openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active


def test_the_register_shows_the_templates_eleven_columns_in_order(org: Org) -> None:
    make_item(org)
    response = client_for(org.owner).get(reverse("requests_app:register"))
    assert [str(c.header) for c in response.context["columns"]] == ZH_HEADERS
    body = response.content.decode()
    positions = [body.index(f'<th scope="col">{h}</th>') for h in ZH_HEADERS]
    assert positions == sorted(positions)


def test_people_see_only_items_their_departments_take_part_in(org: Org) -> None:
    item = make_item(org)
    assert numbers_on_page(client_for(org.collaborator).get(reverse("requests_app:register"))) == [
        item.number
    ]
    assert numbers_on_page(client_for(org.outsider).get(reverse("requests_app:register"))) == []


def test_drafts_stay_out_of_the_register_but_their_author_finds_them(org: Org) -> None:
    draft = make_item(org, submit=False, topic="还没写完的需求")
    response = client_for(org.requester).get(reverse("requests_app:register"))
    assert numbers_on_page(response) == []
    assert list(response.context["drafts"]) == [draft]


@time_machine.travel(datetime(2026, 9, 10, 2, 0, tzinfo=UTC), tick=False)
def test_filters_narrow_the_register(org: Org) -> None:
    launch = make_item(org, topic="Q3产品上线测试")
    only_rnd = [ParticipationData(org.rnd.pk, "", "定位并修复故障")]
    outage = make_item(org, topic="支付系统故障处理", scenario=Scenario.EMERGENCY, participations=only_rnd)
    with time_machine.travel(datetime(2026, 10, 12, 2, 0, tzinfo=UTC), tick=False):
        monthly = make_item(org, topic="10月工作计划同步", scenario=Scenario.ROUTINE_SYNC)
    client = client_for(org.requester)
    register = reverse("requests_app:register")

    def numbers(**params: str) -> set[str | None]:
        return set(numbers_on_page(client.get(register, params)))

    assert numbers() == {launch.number, outage.number, monthly.number}
    assert numbers(scenario="emergency") == {outage.number}
    assert numbers(q="故障") == {outage.number}
    assert numbers(q=monthly.number or "") == {monthly.number}
    assert numbers(department=str(org.qa.pk)) == {launch.number, monthly.number}
    assert numbers(submitted_from="2026-10-01") == {monthly.number}
    assert numbers(submitted_to="2026-09-30") == {launch.number, outage.number}
    assert numbers(status="submitted") == {launch.number, outage.number, monthly.number}


def test_a_backwards_date_range_is_explained(org: Org) -> None:
    make_item(org)
    response = client_for(org.requester).get(
        reverse("requests_app:register"), {"submitted_from": "2026-10-02", "submitted_to": "2026-10-01"}
    )
    assert "开始日期晚于结束日期" in response.content.decode()


def test_sorting_and_paging(org: Org) -> None:
    items = [make_item(org, topic=f"事项{n:02d}") for n in range(27)]
    client = client_for(org.requester)
    first = client.get(reverse("requests_app:register"))
    assert numbers_on_page(first) == [i.number for i in reversed(items)][:25]
    second = client.get(reverse("requests_app:register"), {"page": 2})
    assert numbers_on_page(second) == [items[1].number, items[0].number]
    oldest = client.get(reverse("requests_app:register"), {"sort": "number"})
    assert numbers_on_page(oldest)[0] == items[0].number


def test_cells_are_escaped_keep_their_line_breaks_and_the_number_links_to_the_item(org: Org) -> None:
    item = make_item(org, topic="<script>alert(1)</script>", remarks="第一行\r\n第二行 & <b>三</b>")
    body = client_for(org.requester).get(reverse("requests_app:register")).content.decode()
    link = reverse("requests_app:item_detail", args=[item.pk])
    assert f'<td class="col-1"><a href="{link}">{item.number}</a></td>' in body
    assert '<td class="col-2">&lt;script&gt;alert(1)&lt;/script&gt;</td>' in body
    assert '<td class="col-11">第一行<br>第二行 &amp; &lt;b&gt;三&lt;/b&gt;</td>' in body
    assert "<script>alert(1)" not in body


def test_htmx_gets_only_the_results(org: Org) -> None:
    make_item(org)
    response = client_for(org.requester).get(reverse("requests_app:register"), headers={"hx-request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="results">') and "<html" not in body


def _count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200
    return len(queries)


def test_register_and_export_take_the_same_queries_for_3_or_20_items(org: Org) -> None:
    client = client_for(org.owner)
    register, export = reverse("requests_app:register"), reverse("requests_app:register_export")
    for _ in range(3):
        make_item(org)
    small = (_count_queries(client, register), _count_queries(client, export))
    for _ in range(17):
        make_item(org)
    large = (_count_queries(client, register), _count_queries(client, export))
    assert small == large
    # The export: its rows in five queries per chunk, the names of departments and people once.
    assert large[0] <= 13 and large[1] <= 14


REGISTER_FILTERS: list[dict[str, str]] = [
    {},
    {"department": "qa"},
    {"status": "submitted"},
    {"scenario": "cross_department"},
    {"submitted_from": "2026-01-01", "submitted_to": "2026-12-31"},
    {"q": "上线"},
    {"sort": "deadline"},
    {"sort": "topic"},
    {"sort": "status", "page": "2"},
]


def test_every_register_filter_takes_a_fixed_number_of_queries(org: Org, monkeypatch: Any) -> None:
    # Pages of 10: with 26 items as with 56, page 2 of every filter has a next page to count for.
    monkeypatch.setattr("requests_app.register_pages.PAGE_SIZE", 10)
    client = client_for(org.owner)

    def counts() -> list[int]:
        result = []
        for params in REGISTER_FILTERS:
            query = {k: str(org.qa.pk) if k == "department" else v for k, v in params.items()}
            url = f"{reverse('requests_app:register')}?{urlencode(query)}"
            result.append(_count_queries(client, url))
        return result

    for _ in range(26):
        make_item(org)
    small = counts()
    for _ in range(30):
        make_item(org, topic="第二批上线")
    assert counts() == small
    # The page's ids, then its rows in five queries; PostgreSQL asks the planner for its estimate
    # before counting: one query more than SQLite.
    assert max(small) <= 16


def test_the_export_is_the_filtered_register_in_chinese(org: Org) -> None:
    launch = make_item(org, remarks="需运营部提供用户场景")
    make_item(org, topic="紧急故障", scenario=Scenario.EMERGENCY)
    response = client_for(org.owner).get(
        reverse("requests_app:register_export"), {"scenario": "cross_department"}
    )
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "filename*=utf-8''" in response["Content-Disposition"]
    sheet = workbook(response)
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == ZH_HEADERS
    assert len(rows) == 2
    row = dict(zip(ZH_HEADERS, rows[1], strict=True))
    assert row["沟通事项编号"] == launch.number
    assert row["发起部门/人"] == "产品部/张敏"
    assert row["参与部门/人"] == "研发部、测试部(测试经理)"
    assert row["需求描述（目标、范围、时间）"].startswith("目标：确保Q3新功能稳定上线")
    assert "时间：2026-10-08至2026-10-15" in row["需求描述（目标、范围、时间）"]
    # Typed cells: the deadline is an Excel date in a Chinese format, so it sorts and filters.
    deadline = sheet.cell(row=2, column=ZH_HEADERS.index("截止时间") + 1)
    assert deadline.is_date and deadline.value.date() == date(2026, 10, 15)
    assert deadline.number_format == 'yyyy"年"m"月"d"日"'
    assert sheet.cell(row=2, column=1).data_type == "s"  # the register number stays text
    assert sheet.freeze_panes == "A2"
    assert row["备注"] == "需运营部提供用户场景"
    assert sheet.column_dimensions["E"].width > sheet.column_dimensions["A"].width


def test_the_export_follows_the_readers_language(org: Org) -> None:
    make_item(org)
    response = client_for(org.owner).get(
        reverse("requests_app:register_export"), headers={"accept-language": "en"}
    )
    assert list(next(workbook(response).iter_rows(values_only=True))) == EN_HEADERS


def test_a_formula_typed_into_a_topic_stays_text(org: Org) -> None:
    make_item(org, topic='=HYPERLINK("http://evil.example","点我")', remarks="+1+1")
    sheet = workbook(client_for(org.owner).get(reverse("requests_app:register_export")))
    topic, remarks = sheet.cell(row=2, column=2), sheet.cell(row=2, column=11)
    assert topic.data_type == "s" and topic.value == '=HYPERLINK("http://evil.example","点我")'
    assert remarks.data_type == "s" and remarks.value == "+1+1"


def test_invalid_export_filters_send_the_person_back_with_a_message(org: Org) -> None:
    response = client_for(org.owner).get(
        reverse("requests_app:register_export"), {"submitted_from": "不是日期"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("requests_app:register")
    assert response.context["messages"]


def test_past_the_exact_count_cap_the_register_estimates_and_says_so(org: Org, monkeypatch: Any) -> None:
    """Counting 50,000 visible items for every page would read them all: the register counts
    exactly up to its cap; past it PostgreSQL's planner estimates the total and the page says so
    (SQLite, which has no estimate, says "more than"). Every row stays on its page either way."""
    monkeypatch.setattr("requests_app.register_pages.PAGE_SIZE", 2)
    monkeypatch.setattr("requests_app.register_pages.COUNT_CAP", 3)
    items = [make_item(org) for _ in range(5)]
    client = client_for(org.requester)
    register = reverse("requests_app:register")
    body = client.get(register).content.decode()
    if connection.vendor == "postgresql":
        assert re.search(r"约\d+项（估算值：缩小筛选范围可得到准确数目）", body), body
        assert re.search(r"第1页，共约\d+页", body), body
    else:
        assert "超过3项（缩小筛选范围可得到准确数目）" in body and "第1页，共约2页" in body
    pages = [client.get(register, {"page": n}) for n in (1, 2, 3)]
    assert [n for p in pages for n in numbers_on_page(p)] == [i.number for i in reversed(items)]
    assert 'page=4"' not in pages[2].content.decode()  # the last page links no next one
    assert "5项" in pages[2].content.decode() and "估算" not in pages[2].content.decode()
    few = client.get(register, {"q": items[0].number})
    assert "1项" in few.content.decode() and "估算" not in few.content.decode()
    english = client.get(register, headers={"accept-language": "en"}).content.decode()
    if connection.vendor == "postgresql":
        assert "(an estimate: narrow the filters for an exact count)" in english
    else:
        assert "More than 3 items (narrow the filters for an exact count)" in english


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the planner's estimate is PostgreSQL's")
def test_when_the_planner_expects_many_rows_the_register_counts_none(org: Org, monkeypatch: Any) -> None:
    monkeypatch.setattr("requests_app.register_pages.PAGE_SIZE", 2)
    monkeypatch.setattr("requests_app.register_pages.ESTIMATE_ABOVE", 0)
    for _ in range(3):
        make_item(org)
    client = client_for(org.requester)
    with CaptureQueriesContext(connection) as queries:
        body = client.get(reverse("requests_app:register")).content.decode()
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert not [sql for sql in counts if "collaborationitem" in sql]
    assert re.search(r"约\d+项（估算值", body), body


def test_the_last_page_is_counted_from_its_own_rows(org: Org) -> None:
    """A page that is not full is the last: the rows before it and on it are all there are."""
    items = [make_item(org) for _ in range(27)]
    client = client_for(org.requester)
    with CaptureQueriesContext(connection) as queries:
        last = client.get(reverse("requests_app:register"), {"page": 2})
    assert numbers_on_page(last) == [items[1].number, items[0].number]
    assert "27项" in last.content.decode() and "第2页，共2页" in last.content.decode()
    assert not [
        q["sql"]
        for q in queries.captured_queries
        if "COUNT(*)" in q["sql"] and "collaborationitem" in q["sql"]
    ]


def test_a_page_past_the_end_or_not_a_number_shows_the_first(org: Org) -> None:
    items = [make_item(org) for _ in range(2)]
    client = client_for(org.requester)
    for page in ("9", "0", "-1", "x", "99999999999999999999"):
        response = client.get(reverse("requests_app:register"), {"page": page})
        assert response.status_code == 200
        assert numbers_on_page(response) == [items[1].number, items[0].number]


def test_the_text_filter_takes_percent_and_underscore_literally(org: Org) -> None:
    full = make_item(org, topic="覆盖率100%_达标")
    make_item(org, topic="覆盖率1000达标")
    client = client_for(org.requester)
    for words in ["100%", "%_", "0%_达"]:
        assert numbers_on_page(client.get(reverse("requests_app:register"), {"q": words})) == [full.number]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigram index is PostgreSQL's")
def test_the_text_filter_is_answered_from_the_trigram_index(org: Org) -> None:
    make_item(org, topic="支付系统故障处理")
    # The register's text condition on its own: its expression must be the index's.
    sql, params = (
        CollaborationItem.objects.filter(text_search("支付系统"))
        .order_by()
        .values("pk")
        .query.sql_with_params()
    )
    with connection.cursor() as cursor:
        # A handful of rows: plain scans would win; leave the planner only bitmap index scans.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "item_text_search_trgm" in plan, plan
