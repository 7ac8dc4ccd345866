"""System texts are stored as message ids with parameters and read in the reader's language."""

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation
from django.utils.translation import gettext_noop

from collab.audit.legacy_texts import AUDIT_NOTES, CHANGE_REASONS, NOTIFICATIONS, recognise, recogniser
from collab.audit.texts import Choice, Date, DateTime, Joined, Renderings, Text, display, msgids, render
from requests_app.models import ItemStatus, MeetingForm

AGREED = gettext_noop("Agreed in the meeting of %(date)s: %(adjustments)s")


def read(text: Text | Joined, language: str) -> str:
    """What a reader of ``language`` sees of the stored form (as it comes back from the database)."""
    stored = json.loads(json.dumps(text.as_json()))
    with translation.override(language):
        return display(stored)


def test_a_system_sentence_reads_in_each_language_and_person_text_stays_as_written() -> None:
    text = Text(AGREED, date=date(2026, 12, 2), adjustments="测试延后3天")
    assert read(text, "zh-hans") == "2026年12月2日会议商定：测试延后3天"
    assert read(text, "en") == "Agreed in the meeting of Dec. 2, 2026: 测试延后3天"


def test_it_stores_the_msgid_and_codes_not_a_rendering() -> None:
    text = Text(AGREED, date=date(2026, 12, 2), adjustments="测试延后3天")
    with translation.override("zh-hans"):
        assert text.as_json() == {
            "msgid": AGREED,
            "params": {"date": {"date": "2026-12-02", "format": "DATE_FORMAT"}, "adjustments": "测试延后3天"},
        }


def test_choices_dates_and_nested_texts_render_for_the_reader() -> None:
    moment = datetime(2026, 9, 28, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    meeting = Text(
        gettext_noop("%(form)s, %(time)s"), form=Choice(MeetingForm, "call"), time=DateTime(moment)
    )
    early = Text(
        gettext_noop("%(meeting)s; recorded before the scheduled time: %(reason)s"),
        meeting=meeting,
        reason="提前开",
    )
    assert read(early, "zh-hans") == "电话/即时通讯（2026年9月28日 10:00）；早于预定时间记录，原因：提前开"
    assert (
        read(early, "en")
        == "Phone or IM call, Sept. 28, 2026, 10 a.m.; recorded before the scheduled time: 提前开"
    )
    status = Text(
        gettext_noop("%(field)s: %(old)s → %(new)s"), field="状态", old=Choice(ItemStatus, "closed"), new=""
    )
    assert read(status, "en") == "状态: Archived → "


def test_a_month_day_keeps_its_format_name() -> None:
    due = Text(
        gettext_noop('"%(task)s" is due tomorrow (%(deadline)s)'),
        task="提交测试计划",
        deadline=Date(date(2026, 10, 9), "MONTH_DAY_FORMAT"),
    )
    assert read(due, "zh-hans") == "“提交测试计划”明天（10月9日）到期"
    assert read(due, "en") == '"提交测试计划" is due tomorrow (October 9)'


def test_joined_lines_render_each_line() -> None:
    lines = Joined([Text(gettext_noop("The minutes were revised.")), "照原样"])
    assert read(lines, "en") == "The minutes were revised.\n照原样"
    assert read(lines, "zh-hans") == "会议纪要已修订。\n照原样"
    assert msgids(lines.as_json()) == {"The minutes were revised."}


def test_an_old_row_without_a_stored_text_shows_its_rendered_text() -> None:
    assert display(None, "事项已归档，只读。") == "事项已归档，只读。"


def test_a_lazy_string_is_refused_as_msgid() -> None:
    from django.utils.translation import gettext_lazy

    with pytest.raises(TypeError):
        Text(gettext_lazy("The minutes were revised."))  # type: ignore[arg-type]


def test_a_translation_that_lost_its_placeholder_falls_back_to_the_source() -> None:
    # A stored message id that the catalogue no longer has: the source sentence, not an error.
    text = {"msgid": "Gone %(what)s.", "params": {"what": "x"}}
    with translation.override("zh-hans"):
        assert display(text) == "Gone x."


def test_texts_rendered_together_read_as_each_alone() -> None:
    """A sweep renders thousands of texts in one language sharing the translations and the
    rendered dates and choices (``Renderings``): each reads as it does rendered alone."""
    moment = datetime(2026, 9, 28, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    meeting = Text(
        gettext_noop("%(form)s, %(time)s"), form=Choice(MeetingForm, "call"), time=DateTime(moment)
    )
    texts = [
        Text(AGREED, date=date(2026, 12, 2), adjustments="测试延后3天"),
        Text(AGREED, date=date(2026, 12, 2), adjustments="测试延后5天"),
        Text(AGREED, date=date(2026, 12, 3), adjustments=""),
        Text(
            gettext_noop("%(meeting)s; recorded before the scheduled time: %(reason)s"),
            meeting=meeting,
            reason="提前开",
        ),
        Text(gettext_noop("The minutes were revised.")),
        Text.stored("Gone %(what)s.", {"what": "x"}),
    ]
    for language in ("zh-hans", "en"):
        with translation.override(language):
            alone = [str(text) for text in texts]
            renderings = Renderings()
            assert [text.render(renderings) for text in texts] == alone
            assert [render(text.as_json(), renderings) for text in texts] == alone
            assert [read(text, language) for text in texts] == alone
    assert alone[0] == "Agreed in the meeting of Dec. 2, 2026: 测试延后3天"


@pytest.mark.parametrize(
    ("rendered", "expected"),
    [
        ("事项已归档，只读。", {"msgid": "The item is archived and read-only."}),
        ("The item is archived and read-only.", {"msgid": "The item is archived and read-only."}),
        (
            "2026年12月2日会议商定：测试延后3天",
            {
                "msgid": AGREED,
                "params": {
                    "date": {"date": "2026-12-02", "format": "DATE_FORMAT"},
                    "adjustments": "测试延后3天",
                },
            },
        ),
        (
            "Agreed in the meeting of Sept. 28, 2026: later",
            {
                "msgid": AGREED,
                "params": {"date": {"date": "2026-09-28", "format": "DATE_FORMAT"}, "adjustments": "later"},
            },
        ),
        ("协作流程-20261001-Q3产品上线测试.zip", None),
        ("评审人请假", None),
    ],
)
def test_old_rendered_notes_are_recognised_as_their_messages(rendered: str, expected: object) -> None:
    assert recognise(rendered, recogniser(AUDIT_NOTES + CHANGE_REASONS)) == expected


def test_old_notification_titles_are_recognised() -> None:
    stored = recognise("请确认“Q3产品上线测试”的会议纪要（第2版）", recogniser(NOTIFICATIONS))
    assert stored == {
        "msgid": 'Please confirm the minutes of "%(topic)s" (version %(version)s)',
        "params": {"topic": "Q3产品上线测试", "version": "2"},
    }
    with translation.override("en"):
        assert display(stored) == 'Please confirm the minutes of "Q3产品上线测试" (version 2)'
