"""The coordinator's board as a person sees it after two savings: the late tasks read from the
items whose first deadline falls before the cut (``_late_cut``), and the item rows written as
HTML once per page (``item_rows_html``) instead of through a template per row."""

import re
from collections.abc import Iterator
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
import time_machine
from django.urls import reverse

from collab.dashboards import coordinator_selectors as cs
from collab.dashboards.tests.support import at, raw_item, raw_task, version
from collab.testing import Org, client_for
from requests_app.models import ItemStatus, Scenario
from tasks_app.models import TaskStatus

pytestmark = pytest.mark.django_db

TODAY = date(2026, 9, 30)


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(at("2026-09-30 10:00"), tick=False):
        yield


def late_everywhere(org: Org) -> None:
    """Sixteen executing items with one to three late tasks each, many first deadlines shared
    (ties at the cut), done and not-yet-late tasks before and after them, and late tasks on a
    planned item and on another coordinator's item (neither on the list)."""
    for n in range(16):
        item = raw_item(org)
        first = TODAY - timedelta(days=n % 6 + 1)
        for k in range(n % 3 + 1):
            raw_task(org, item, name=f"迟{n}-{k}", deadline=first + timedelta(days=k * 2 - k))
        raw_task(org, item, name=f"完{n}", deadline=first - timedelta(days=9), status=TaskStatus.DONE)
        raw_task(org, item, name=f"后{n}", deadline=TODAY + timedelta(days=n % 4))
    planned = raw_item(org, status=ItemStatus.PLANNED)
    raw_task(org, planned, name="未启动", deadline=TODAY - timedelta(days=30))
    other = raw_item(org, coordinator=org.receiver)
    raw_task(org, other, name="别人的", deadline=TODAY - timedelta(days=30))


@pytest.mark.parametrize(
    "when", ["2026-09-30 10:00", "2026-09-27 10:00", "2026-09-22 10:00", "2026-10-09 10:00"]
)
def test_the_late_tasks_shown_are_the_first_of_the_full_list(org: Org, when: str) -> None:
    """Whatever the moment (many late tasks, ties at the cut, fewer late items than the top,
    none late), the board's tasks are the head of the ranked list of every attention task."""
    late_everywhere(org)
    moment = cs.Moment.at(at(when))
    board = cs.coordinator_board(org.coordinator, now=moment.now)
    ranked = cs._attention_tasks(org.coordinator, moment)
    assert [row.task.pk for row in board.attention] == [task.pk for task in ranked[: cs.TOP_ENTRIES]]
    assert board.attention_total == ranked.count()


def test_the_cut_keeps_every_late_task_of_a_tie(org: Org) -> None:
    """Twelve items with the same first deadline and several late tasks each: the late tasks
    of all of them come into the sort, the first by id win."""
    for n in range(12):
        item = raw_item(org)
        for k in range(2):
            raw_task(org, item, name=f"同{n}-{k}", deadline=TODAY - timedelta(days=3 + k))
    moment = cs.Moment.at()
    board = cs.coordinator_board(org.coordinator)
    ranked = list(cs._attention_tasks(org.coordinator, moment)[: cs.TOP_ENTRIES])
    assert [row.task.pk for row in board.attention] == [task.pk for task in ranked]
    assert {row.task.deadline for row in board.attention} == {TODAY - timedelta(days=4)}


def _rows(body: str) -> dict[str, str]:
    """Each item row of a page, by item id, as a browser lays it out: runs of white space as one,
    none around the table's cells and the list's entries."""
    rows = re.findall(r'<tr data-item="(\d+)">(.*?)</tr>', body, flags=re.S)
    return {
        pk: re.sub(r"\s*(</?(?:td|ul|li)\b[^>]*>)\s*", r"\1", re.sub(r"\s+", " ", html)) for pk, html in rows
    }


def items_of_each_kind(org: Org) -> dict[str, int]:
    executing = raw_item(org, topic="发布 <b>\"Q3\" & 'Q4'</b>", scenario=Scenario.EMERGENCY)
    task = raw_task(org, executing, name="逾期", deadline=TODAY - timedelta(days=2))
    for n in range(2):
        version(task, receiver=org.owner, submitted="2026-09-28 10:00", due=f"2026-09-29 1{n}:00")
    planned = raw_item(org, status=ItemStatus.PLANNED, scenario=Scenario.ROUTINE_SYNC)
    submitted = raw_item(org, status=ItemStatus.SUBMITTED)
    org.product.name = "产品部 <R&D>"
    org.product.save()
    return {"executing": executing.pk, "planned": planned.pk, "submitted": submitted.pk}


EXPECTED = {
    "en": {
        "executing": (
            '<td data-label="Health"><span class="db-health db-health-off_track" data-health="off_track">'
            '<span class="dot" aria-hidden="true"></span>Off track</span><ul class="db-reasons">'
            "<li>1 late task</li><li>2 overdue reviews</li></ul></td>"
            '<td data-label="Item"><a href="/items/{executing}/">'
            '<span class="number">{executing_number}</span> '
            "发布 &lt;b&gt;&quot;Q3&quot; &amp; &#x27;Q4&#x27;&lt;/b&gt;</a><br>"
            '<span class="muted">Emergency · 产品部 &lt;R&amp;D&gt;</span></td>'
            '<td data-label="Tasks done">0 / 1</td><td data-label="Open problems">0</td>'
            '<td data-label="Reviews waiting">2 <span class="tag danger">2 overdue</span></td>'
            '<td class="actions-cell"><a href="/items/{executing}/progress/">Progress tracking</a> '
            '<a href="/items/{executing}/timeline/">Timeline</a></td>'
        ),
        "planned": (
            '<td data-label="Health"><span class="db-health db-health-on_track" data-health="on_track">'
            '<span class="dot" aria-hidden="true"></span>On track</span></td>'
            '<td data-label="Item"><a href="/items/{planned}/"><span class="number">{planned_number}</span> '
            'Q3产品上线测试</a><br><span class="muted">Routine sync · 产品部 &lt;R&amp;D&gt;</span></td>'
            '<td data-label="Tasks done">0 / 0</td><td data-label="Open problems">0</td>'
            '<td data-label="Reviews waiting">0</td>'
            '<td class="actions-cell"><a href="/items/{planned}/tasks/">Task breakdown</a> '
            '<a href="/items/{planned}/timeline/">Timeline</a></td>'
        ),
        "submitted": (
            '<td data-label="Health"><span class="db-health db-health-on_track" data-health="on_track">'
            '<span class="dot" aria-hidden="true"></span>On track</span></td>'
            '<td data-label="Item"><a href="/items/{submitted}/">'
            '<span class="number">{submitted_number}</span> Q3产品上线测试</a><br>'
            '<span class="muted">Cross-department project · 产品部 &lt;R&amp;D&gt;</span></td>'
            '<td data-label="Tasks done">0 / 0</td><td data-label="Open problems">0</td>'
            '<td data-label="Reviews waiting">0</td>'
            '<td class="actions-cell"><a href="/items/{submitted}/timeline/">Timeline</a></td>'
        ),
    },
    "zh-hans": {
        "executing": (
            '<td data-label="健康状况"><span class="db-health db-health-off_track" data-health="off_track">'
            '<span class="dot" aria-hidden="true"></span>已偏离</span><ul class="db-reasons">'
            "<li>滞后任务1个</li><li>审核逾期2项</li></ul></td>"
        ),
    },
}


def test_each_item_row_shows_its_health_links_and_counts_escaped(org: Org) -> None:
    ids = items_of_each_kind(org)
    numbers = {
        f"{name}_number": item.number
        for name, item in ((name, cs.CollaborationItem.objects.get(pk=pk)) for name, pk in ids.items())
    }
    values = {**{name: str(pk) for name, pk in ids.items()}, **numbers}
    for page in (
        reverse("dashboards:coordinator"),
        reverse("dashboards:coordinator_items", args=[ItemStatus.EXECUTING]),
    ):
        rows = _rows(
            client_for(org.coordinator).get(page, headers={"accept-language": "en"}).content.decode()
        )
        assert rows[str(ids["executing"])] == EXPECTED["en"]["executing"].format(**values), page
    rows = _rows(
        client_for(org.coordinator)
        .get(reverse("dashboards:coordinator"), headers={"accept-language": "en"})
        .content.decode()
    )
    for name in ("planned", "submitted"):
        assert rows[str(ids[name])] == EXPECTED["en"][name].format(**values)
    chinese = _rows(
        client_for(org.coordinator)
        .get(reverse("dashboards:coordinator"), headers={"accept-language": "zh-hans"})
        .content.decode()
    )
    assert chinese[str(ids["executing"])].startswith(EXPECTED["zh-hans"]["executing"])


def _entries(body: str, section: str) -> str:
    """A section of the board, as a browser lays it out (runs of white space as one, none
    between block elements)."""
    found = re.search(rf'<section class="card" id="{section}">(.*?)</section>', body, flags=re.S)
    assert found, section
    text = re.sub(r"\s+", " ", found.group(1))
    return re.sub(r"\s*(</?(?:ul|li|div|h2|h3|p)\b[^>]*>)\s*", r"\1", text)


def test_the_reviews_and_the_gaps_read_as_before_with_their_texts_escaped(org: Org) -> None:
    from django.contrib.auth import get_user_model

    nobody = get_user_model().objects.create_user("no<person>", password="x")  # no Person row
    item = raw_item(org, topic="上线 <准备> & 验收")
    task = raw_task(org, item, name="测试 & 验收", deadline=TODAY + timedelta(days=5))
    late = version(
        task, receiver=nobody, submitted="2026-09-28 10:00", due="2026-09-29 11:00", name="计划<v2>"
    )
    soon = version(task, receiver=org.receiver, submitted="2026-09-30 09:00", due="2026-10-08 09:00")
    number = item.number
    client = client_for(org.coordinator)
    english = client.get(
        reverse("dashboards:coordinator"), headers={"accept-language": "en"}
    ).content.decode()
    reviews = _entries(english, "reviews")
    assert (
        f'<li class="work-entry late" data-version="{late.pk}">'
        f'<a class="work-action button" href="/items/{item.pk}/deliverables/{late.deliverable_id}/">View</a>'
        '<div class="work-main"><strong>计划&lt;v2&gt;</strong> <span class="muted">v1</span>'
        f'<div class="work-meta"><span class="number">{number}</span> Receiver: no&lt;person&gt;</div>'
        '<div class="work-meta">Review due 2026-09-29 11:00 · <span class="tag danger">'
    ) in reviews
    assert (
        f'<li class="work-entry" data-version="{soon.pk}">'
        f'<a class="work-action button" href="/items/{item.pk}/deliverables/{soon.deliverable_id}/">View</a>'
        f'<div class="work-main"><strong>测试计划</strong> <span class="muted">v1</span>'
        f'<div class="work-meta"><span class="number">{number}</span> Receiver: 钱多</div>'
        '<div class="work-meta">Review due 2026-10-08 09:00 · <span class="tag warn">'
    ) in reviews
    gaps = _entries(english, "gaps")
    assert gaps.startswith(
        '<h2>Nothing left out? <span class="db-count">1</span></h2>'
        f'<div class="gap-item" data-item="{item.pk}"><h3><a href="/items/{item.pk}/tasks/">'
        f'<span class="number">{number}</span> 上线 &lt;准备&gt; &amp; 验收</a></h3><ul class="warnings"><li>'
    )
    chinese = client.get(
        reverse("dashboards:coordinator"), headers={"accept-language": "zh-hans"}
    ).content.decode()
    assert '<div class="work-meta">审核截止：2026-09-29 11:00 · ' in _entries(chinese, "reviews")
    listed = client.get(reverse("dashboards:coordinator_list", args=["reviews"])).content.decode()
    assert f'data-version="{late.pk}"' in listed and "no&lt;person&gt;" in listed


def test_empty_reviews_and_gaps_say_so(org: Org) -> None:
    body = client_for(org.coordinator).get(
        reverse("dashboards:coordinator"), headers={"accept-language": "en"}
    )
    text = body.content.decode()
    assert (
        '<ul class="work-list"><li class="muted">No deliverable is waiting for review.</li></ul>'
        in _entries(text, "reviews")
    )
    assert '<p class="muted">Every to-do and every participating department is covered.</p>' in _entries(
        text, "gaps"
    )


def _laid_out(html: str) -> str:
    """``html`` as a browser lays a table out: runs of white space as one, none around cells."""
    text = re.sub(r"\s+", " ", html)
    return re.sub(r"\s*(</?(?:div|table|thead|tbody|tr|th|td|br)\b[^>]*>)\s*", r"\1", text).strip()


class _Cells(HTMLParser):
    """A table's header and rows as a browser shows them: each cell's text, white space
    collapsed, and each link's address."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.links: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "a":
            self.links.append(dict(attrs)["href"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def cells(html: str) -> _Cells:
    parser = _Cells()
    parser.feed(html)
    return parser


def test_the_task_table_says_why_each_task_is_listed_escaped_in_the_readers_language(org: Org) -> None:
    """task_table_html (both boards' tasks and their full lists): every reason a task is listed,
    an owner without a person, a long topic cut, texts escaped, links to the task and the item's
    progress, in both languages; and the table without rows says so."""
    from django.contrib.auth import get_user_model
    from django.utils import translation

    from collab.dashboards.tests.support import alert

    nobody = get_user_model().objects.create_user("无人<x>", password="x")
    item = raw_item(org, topic="一个很长的主题 <需要> & 截断，" * 4)
    late = raw_task(org, item, name="迟 & <交>", deadline=TODAY - timedelta(days=3), owner=nobody)
    escalated = raw_task(org, item, name="升级", deadline=TODAY + timedelta(days=4))
    alert(escalated, step=1, due="2026-09-29 09:00", sent="2026-09-29 09:00")
    stale = raw_task(org, item, name="缺报", deadline=TODAY + timedelta(days=6))
    alert(stale, due="2026-09-29 09:00")
    blocked = raw_task(org, item, name="阻塞", deadline=TODAY - timedelta(days=1), status=TaskStatus.BLOCKED)
    behind = raw_task(org, item, name="落后", deadline=TODAY + timedelta(days=1), percent=10)
    board = cs.coordinator_board(org.coordinator)
    rows = {row.task.pk: row for row in board.attention}
    assert set(rows) == {late.pk, escalated.pk, stale.pk, blocked.pk, behind.pk}

    with translation.override("en"):
        html = cs.task_table_html(board.attention, "attention-tasks", "Nothing <here>")
        empty = cs.task_table_html([], "attention-tasks", "Nothing <here>")
    table = cells(html)
    assert table.rows[0] == ["Task", "Item", "Owner", "Deadline", "Percent done", "Why it is here"]
    shown = {row[0]: row for row in table.rows[1:]}
    topic = f"{item.number} {('一个很长的主题 <需要> & 截断，' * 4)[:39]}…"  # cut at 40 characters
    assert shown["迟 & <交>"][1:3] == [topic, "无人<x>"]
    assert shown["迟 & <交>"][3] == f"2026-09-27{rows[late.pk].deadline_text}"  # a line break between
    assert shown["迟 & <交>"][4:] == ["30%", "late"]
    assert shown["阻塞"][5] == "late blocked"
    assert shown["升级"][5] == "escalated due soon, behind"  # 30 % with 4 days left
    assert shown["缺报"][5] == "report missing due soon, behind"
    assert shown["落后"][4:] == ["10%", "due soon, behind"]
    assert "迟 &amp; &lt;交&gt;" in html and "无人&lt;x&gt;" in html and "&lt;需要&gt; &amp;" in html
    assert f"/items/{item.pk}/tasks/{late.pk}/" in table.links
    assert reverse("tasks_app:progress", args=[item.pk]) in table.links
    assert cells(empty).rows[1:] == [["Nothing <here>"]] and "Nothing &lt;here&gt;" in empty

    with translation.override("zh-hans"):
        chinese = cells(cs.task_table_html(board.attention, "attention-tasks", "没有"))
        words = [translation.gettext(w) for w in ("late", "escalated", "report missing", "blocked")]
    assert chinese.rows[0][0] != "Task" and not {"late", "escalated", "report missing"} & set(
        " ".join(row[5] for row in chinese.rows[1:]).split()
    )
    assert {row[0]: row[5] for row in chinese.rows[1:]}["阻塞"] == f"{words[0]} {words[3]}"


def test_the_full_list_of_tasks_is_the_boards_table_paged(org: Org) -> None:
    """The coordinator's and the department's full lists of tasks write the boards' table."""
    for n in range(3):
        raw_task(org, raw_item(org), name=f"迟{n}", deadline=TODAY - timedelta(days=n + 1))
    department = reverse("dashboards:department_list", args=["tasks"]) + f"?department={org.qa.pk}"
    for user, url in (
        (org.coordinator, reverse("dashboards:coordinator_list", args=["tasks"])),
        (org.qa_head, department),
    ):
        page = client_for(user).get(url, headers={"accept-language": "en"}).content.decode()
        names = [row[0] for row in cells(page[page.index('id="list-tasks"') :]).rows[1:4]]
        assert names == ["迟2", "迟1", "迟0"]


def test_the_gaps_read_by_compiled_statements_are_breakdown_gaps_for(org: Org) -> None:
    """breakdown_gaps_read (the board's and the gaps list's) says what breakdown_gaps_for says,
    item by item and in the same order, over more items than one statement reads at once."""
    from collab.dashboards.board_selectors import (
        GAP_BATCH,
        breakdown_gaps_for,
        breakdown_gaps_read,
        with_health,
    )
    from collab.dashboards.tests.support import minutes_for
    from tasks_app.models import DepartmentExemption, Task

    for n in range(GAP_BATCH + 5):
        item = raw_item(org, status=[ItemStatus.CONSENSUS, ItemStatus.PLANNED, ItemStatus.EXECUTING][n % 3])
        if n % 2:
            minutes_for(org, item)
        if n % 3 == 1:
            raw_task(org, item, name=f"任务{n}", department=org.qa)
        if n % 4 == 2 and item.status != ItemStatus.CONSENSUS:  # its first task plans it
            raw_task(org, item, name=f"无标准{n}", department=org.rnd)
            Task.objects.filter(item=item, name=f"无标准{n}").update(delivery_standard="  ")
        if n % 5 == 3:
            DepartmentExemption.objects.create(
                item=item, department=org.rnd, reason="支持", decided_by=org.coordinator
            )
    raw_item(org, status=ItemStatus.SUBMITTED)  # no breakdown yet: no gaps either way
    moment = cs.Moment.at()
    items = list(
        with_health(
            cs.CollaborationItem.objects.order_by("-pk"), now=moment.now, today=moment.today, soon=moment.soon
        )
    )
    expected = breakdown_gaps_for(items)
    assert breakdown_gaps_read(items) == expected
    assert sum(len(gaps) for gaps in expected.values()) > 2 * GAP_BATCH
    assert breakdown_gaps_read([]) == {}


def test_the_roles_read_by_a_compiled_statement_follow_each_person(org: Org) -> None:
    """roles_of's statement is compiled once and run for each person: asked again in another
    order, every person gets their own answer."""
    from django.contrib.auth.models import AnonymousUser

    from collab.dashboards.board_selectors import roles_of

    raw_item(org)
    org.pmo.head = org.coordinator  # coordinates and heads
    org.pmo.save()
    people = [org.coordinator, org.qa_head, org.owner, AnonymousUser()]
    assert [roles_of(person) for person in reversed(people)][::-1] == [roles_of(person) for person in people]
    assert [(r.coordinates, r.heads) for r in map(roles_of, people)] == [
        (True, True),
        (False, True),
        (False, False),
        (False, False),
    ]
