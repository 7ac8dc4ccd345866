"""What the system writes into history and notifications is read in the reader's language.

People act in Chinese; an English reader and a Chinese reader then open the item's history,
the requirement changes and their notification centre, and each reads the system's sentences,
dates and status names in their own language; what people wrote (topics, reasons, names)
stays as written. Every message id the code stores is in the catalogue with its translation.
"""

import ast
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polib
import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import translation

from collab.audit.selectors import audit_history
from collab.audit.texts import display, is_text, msgids
from collab.notify.models import Notification
from collab.org.services import person_set_language
from collab.testing import Org, client_for, make_head, make_item, minutes_data, schedule_meeting
from requests_app import meeting_services
from requests_app.history import history_rows
from requests_app.models import CollaborationItem, RequirementChange
from requests_app.rules import MilestoneData
from reviews_app.tests.test_archive_support import ready_item
from tests.test_chinese_pages import visible_text

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
EN = {"accept-language": "en"}
ZH = {"accept-language": "zh-hans"}
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")
ADJUSTMENTS = "研发说测试需多3天，上线顺延"


def masked(stored: Any) -> Any:
    """A stored text with every person-written (string) parameter replaced by "·": what is left
    is what the system says."""
    if not is_text(stored):
        return stored
    params = {
        name: masked(value) if is_text(value) else ("·" if isinstance(value, str) else value)
        for name, value in (stored.get("params") or {}).items()
    }
    return {**stored, "params": params}


def stored_texts(item: CollaborationItem) -> list[dict[str, Any]]:
    """Every system text stored for the item: history notes and values, notifications,
    requirement-change reasons."""
    found: list[dict[str, Any]] = []

    def walk(value: Any) -> None:
        if is_text(value):
            found.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for entry in audit_history(target=item):
        walk(entry.note_text)
        walk(entry.changes)
    for notification in Notification.objects.filter(item=item):
        walk(notification.title_text)
        walk(notification.body_text)
    for change in RequirementChange.objects.filter(item=item):
        walk(change.reason_text)
    return found


def assert_each_reader_reads_their_language(item: CollaborationItem) -> None:
    texts = stored_texts(item)
    assert texts
    for text in texts:
        with translation.override("en"):
            english = display(masked(text))
        with translation.override("zh-hans"):
            chinese = display(masked(text))
        assert not CJK.search(english), (text, english)
        # Chinese readers read no English words; the few messages of names only ("%(a)s: %(b)s")
        # read the same in both languages.
        assert not ENGLISH_WORD.search(chinese), (text, chinese)
    for entry in audit_history(target=item):
        coded = {name for name, pair in entry.changes.items() if any(isinstance(v, dict) for v in pair)}
        with translation.override("en"):
            [row] = history_rows([entry])
        assert not CJK.search(row.action), row.action
        # Values stored as codes (a task's status, a signer's role) read as words of the reader.
        english = dict(zip(entry.changes, row.changes, strict=True))
        assert not [c for n, c in english.items() if n in coded and CJK.search(c[1] + c[2])], row.changes
        with translation.override("zh-hans"):
            [row] = history_rows([entry])
        assert CJK.search(row.action), row.action
        # Every field is named in words, not by its code ("signed_as").
        assert not [c for c in row.changes if re.fullmatch(r"[a-z0-9_]+", c[0])], row.changes
        chinese = dict(zip(entry.changes, row.changes, strict=True))
        assert not [c for n, c in chinese.items() if n in coded and ENGLISH_WORD.search(c[1] + c[2])], (
            row.changes
        )


def assert_in_catalogue(found: set[str]) -> None:
    """Each message id has a Chinese translation; English is the message id itself (the
    catalogue's source language), so it exists whenever the id does."""
    catalogue = {e.msgid: e for e in polib.pofile(str(CATALOGUE)) if not e.obsolete}
    missing = sorted(m for m in found if m not in catalogue)
    untranslated = sorted(
        m for m in found if m in catalogue and (not catalogue[m].msgstr or catalogue[m].fuzzy)
    )
    assert (missing, untranslated) == ([], [])


def history_text(client: Any, item: CollaborationItem, headers: dict[str, str]) -> str:
    page = client.get(reverse("requests_app:item_detail", args=[item.pk]), headers=headers)
    assert page.status_code == 200
    return visible_text(page.content.decode())


def notifications_text(user: Any, headers: dict[str, str]) -> str:
    page = client_for(user).get(reverse("notify:list"), headers=headers)
    assert page.status_code == 200
    return visible_text(page.content.decode())


@pytest.fixture
def consensus_played(org: Org, django_capture_on_commit_callbacks: Any) -> CollaborationItem:
    """Stage 2 played in Chinese on Mon 28 Sep 2026: a meeting at 10:00 that moves a milestone,
    both departments confirm, then the minutes are revised."""
    rnd_head = make_head(org.rnd, "rnd_head", name="赵强")
    with (
        time_machine.travel(datetime(2026, 9, 28, 11, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False),
        translation.override("zh-hans"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        item = make_item(org)
        meeting = schedule_meeting(org, item)
        moved = minutes_data(
            org,
            agenda={"adjustments": ADJUSTMENTS},
            final_milestones=[
                MilestoneData("需求确认", date(2026, 10, 8)),
                MilestoneData("测试完成", date(2026, 10, 19)),
            ],
        )
        minutes = meeting_services.minutes_record(actor=org.coordinator, meeting_id=meeting.pk, data=moved)
        for head, department in ((org.qa_head, org.qa), (rnd_head, org.rnd)):
            meeting_services.minutes_confirm(
                actor=head,
                minutes_id=minutes.pk,
                department_id=department.pk,
                version=minutes.version,
                decision="confirmed",
                reason="",
            )
        meeting_services.minutes_record(
            actor=org.coordinator, meeting_id=meeting.pk, data=minutes_data(org, conclusions="测试延后4天")
        )
    item.refresh_from_db()
    return item


def test_the_history_reads_in_the_viewers_language(org: Org, consensus_played: CollaborationItem) -> None:
    item = consensus_played
    coordinator = client_for(org.coordinator)
    english = history_text(coordinator, item, EN)
    chinese = history_text(coordinator, item, ZH)
    # The reason the system gave for moving the milestone, its date in the reader's format.
    assert f"Agreed in the meeting of Sept. 28, 2026: {ADJUSTMENTS}" in english
    assert f"2026年9月28日会议商定：{ADJUSTMENTS}" in chinese
    assert "moved the item to a new stage: Every participating department confirmed the minutes." in english
    assert "moved the item to a new stage: The minutes were revised." in english
    assert "推进了事项阶段：会议纪要已修订。" in chinese or "推进了事项阶段: 会议纪要已修订。" in chinese
    # The meeting named by its form and local time, in each language.
    assert "Online workshop, Sept. 28, 2026, 10 a.m." in english
    assert "线上研讨会（2026年9月28日 10:00）" in chinese
    for leak in ("会议商定", "会议纪要已修订", "各参与部门均已确认", "推进了事项阶段"):
        assert leak not in english
    for leak in ("Agreed in the meeting", "The minutes were revised", "moved the item"):
        assert leak not in chinese
    assert_each_reader_reads_their_language(item)


def test_the_notification_centre_reads_in_the_viewers_language(
    org: Org, consensus_played: CollaborationItem
) -> None:
    english = notifications_text(org.qa_head, EN)
    chinese = notifications_text(org.qa_head, ZH)
    assert 'Please confirm the minutes of "Q3产品上线测试" (version 2)' in english
    assert "请确认“Q3产品上线测试”的会议纪要（第2版）" in chinese
    assert f"Agreed in the meeting of Sept. 28, 2026: {ADJUSTMENTS}" in english
    assert (
        'Meeting on "Q3产品上线测试" at Sept. 28, 2026, 10 a.m.: please read the requirement form first'
        in english
    )
    assert "请确认" not in english and "会议商定" not in english
    assert "Please confirm" not in chinese and "Agreed in the meeting" not in chinese
    # Every notification of the item keeps what the system said as a message id.
    notifications = Notification.objects.filter(item=consensus_played)
    assert notifications.count() > 10
    assert not notifications.filter(title_text__isnull=True).exists()


def test_an_english_recipient_is_emailed_in_english_whoever_acted(
    org: Org, django_capture_on_commit_callbacks: Any
) -> None:
    person_set_language(actor=org.qa_head, language="en")
    mail.outbox.clear()
    with translation.override("zh-hans"), django_capture_on_commit_callbacks(execute=True):
        item = make_item(org)
        meeting = schedule_meeting(org, item)
        meeting_services.minutes_record(actor=org.coordinator, meeting_id=meeting.pk, data=minutes_data(org))
    [english] = [m for m in mail.outbox if m.to == ["qa_head@example.com"] and "minutes" in m.subject]
    assert english.subject == 'Please confirm the minutes of "Q3产品上线测试" (version 1)'
    assert "Confirm them in writing for your department, or object with a reason." in english.body
    [chinese] = [
        m for m in mail.outbox if m.to == ["coordinator@example.com"] and "会前资料" not in m.subject
    ][:1]
    assert CJK.search(chinese.subject)


def test_every_msgid_the_code_marks_or_stores_is_translated(consensus_played: CollaborationItem) -> None:
    marked = set()
    for package in ("collab", "requests_app", "tasks_app", "reviews_app"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if "tests" in path.parts or "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                name = getattr(node.func, "id", None)
                first = node.args[0]
                if name == "gettext_noop" and isinstance(first, ast.Constant):
                    marked.add(first.value)
                # A Text whose msgid is a bare literal escapes the catalogue: it must be marked.
                assert not (name == "Text" and isinstance(first, ast.Constant)), f"{path}:{node.lineno}"
    stored = set().union(*(msgids(t) for t in stored_texts(consensus_played)))
    assert stored <= marked
    assert_in_catalogue(marked | stored)


def test_the_archive_step_says_what_happened_in_each_language(
    org: Org, django_capture_on_commit_callbacks: Any
) -> None:
    with translation.override("zh-hans"):
        item = ready_item(org)
    with translation.override("zh-hans"), django_capture_on_commit_callbacks(execute=True):
        response = client_for(org.coordinator).post(
            reverse("reviews_app:archive_build", args=[item.pk]), {"confirm": "yes"}, headers=ZH
        )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == "closed"
    archive_name = item.archives.get().file_name
    coordinator = client_for(org.coordinator)
    english = history_text(coordinator, item, EN)
    chinese = history_text(coordinator, item, ZH)
    assert (
        f"built the archive and closed the item: The archive {archive_name} is built; "
        "the item is closed and read-only."
    ) in english
    assert f"生成了归档包并关闭了事项：归档包 {archive_name} 已生成；事项已关闭，只读。" in chinese or (
        f"生成了归档包并关闭了事项: 归档包 {archive_name} 已生成；事项已关闭，只读。" in chinese
    )
    assert "built the archive: The item is archived and read-only." in english
    assert "事项已归档，只读。" not in english and "moved the item to a new stage: 协作流程" not in english
    assert "The archive of" in notifications_text(org.coordinator, EN)
    # Whatever told people about the item stored what the system said as a message id.
    assert (
        list(Notification.objects.filter(item=item, title_text__isnull=True).values_list("kind", "title"))
        == []
    )
    assert_each_reader_reads_their_language(item)
    stored = set().union(*(msgids(t) for t in stored_texts(item)))
    assert len(stored) > 20  # stages 1 to 6 told and recorded something
    assert_in_catalogue(stored)
