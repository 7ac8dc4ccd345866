"""zh-hans is the default language: every string a person reads must be translated and compiled."""

from pathlib import Path

import polib

CATALOGUE = Path(__file__).resolve().parent.parent / "locale" / "zh_Hans" / "LC_MESSAGES"


def test_every_message_has_a_chinese_translation() -> None:
    po = polib.pofile(str(CATALOGUE / "django.po"))
    assert [e.msgid for e in po.untranslated_entries()] == []
    assert [e.msgid for e in po.fuzzy_entries()] == []


def test_the_compiled_catalogue_matches_the_source() -> None:
    """The committed .mo must be compiled from the current .po (run scripts/messages)."""
    po = polib.pofile(str(CATALOGUE / "django.po"))
    mo = polib.mofile(str(CATALOGUE / "django.mo"))

    def pairs(catalogue: polib.POFile | polib.MOFile) -> set[tuple[str | None, str, str]]:
        return {
            (e.msgctxt, e.msgid, e.msgstr or e.msgstr_plural.get(0, ""))
            for e in catalogue
            if e.msgid and not e.obsolete
        }

    assert pairs(po) == pairs(mo)


def test_placeholders_survive_translation() -> None:
    import re

    placeholder = re.compile(r"%\((\w+)\)[sd]")
    po = polib.pofile(str(CATALOGUE / "django.po"))
    for entry in po.translated_entries():
        translated = entry.msgstr or entry.msgstr_plural[0]
        assert set(placeholder.findall(entry.msgid)) == set(placeholder.findall(translated)), entry.msgid


def test_chinese_sentences_use_full_width_punctuation() -> None:
    """Half-width , ? ! : ; ( ) next to a Chinese character reads as a typo in a Chinese office
    ("…,并已通知相关人员。", "…吗?"): use ，？！：；（）. A time, a URL or "%(name)s" is not
    touched by this rule, as none of them stands next to a Chinese character."""
    import re

    cjk = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
    half_width = re.compile(rf"[{cjk}][,?!:;()]|[,?!:;()][{cjk}]")
    po = polib.pofile(str(CATALOGUE / "django.po"))
    found = [
        (entry.msgid, text)
        for entry in po.translated_entries()
        for text in [entry.msgstr, *entry.msgstr_plural.values()]
        if text and half_width.search(text)
    ]
    assert found == []
