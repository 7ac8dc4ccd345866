"""Every page of a played item, rendered in zh-hans as each role, shows no English text.

The English source of every translated message (its msgid) is looked for in the text a person
reads (tags and attributes stripped): finding one means a string escaped translation, like the
"- Select an option -" that once stood in the problem hand-over select.
"""

import html
import re
from pathlib import Path
from typing import Any

import polib
import pytest

from tests.pages import html_pages, page_urls, played_item, role_clients

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.one_pass("sqlite", "which language a page speaks does not depend on the database"),
]

CATALOGUE = Path(__file__).resolve().parent.parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
_TAGS = re.compile(r"<script.*?</script>|<style.*?</style>|<[^>]+>", re.S)


def english_sentences() -> list[str]:
    """The msgids a reader could recognise as English: two words or more, translated to
    something else, without placeholders (their text is cut by the values)."""
    found = []
    for entry in polib.pofile(str(CATALOGUE)):
        text = entry.msgid
        if entry.obsolete or "%" in text or "{" in text or entry.msgstr == text:
            continue
        if len(re.findall(r"[A-Za-z]{2,}", text)) >= 2:
            found.append(text)
    return sorted(found, key=len, reverse=True)


def visible_text(body: str) -> str:
    return " ".join(html.unescape(_TAGS.sub(" ", body)).split())


def test_no_english_on_any_page_in_chinese(org: Any) -> None:
    item = played_item(org)
    english = english_sentences()  # "- Select an option -" (Django's) is in the catalogue too
    urls = page_urls(item)
    leaks = set()
    pages = 0
    for role, client in role_clients(org).items():
        for url, body in html_pages(client, urls).items():
            text = visible_text(body)
            pages += 1
            leaks |= {f"{role} {url}: {sentence}" for sentence in english if sentence in text}
    assert pages > 6 * 20
    assert sorted(leaks) == []
