"""Every page of a played item fits a 375 px phone, as each role of the item.

Leaders sign on their phones: a page wider than the screen hides the signature table, and a
label squeezed to one character per line (责/任/人) cannot be read. The pages come from the URL
resolver (tests/pages.py), so a new page is checked the day it is added. One browser, one page
per role, reused for every URL.
"""

import os
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse

from collab.testing import make_org
from reviews_app.tests.test_archive_support import ready_item
from tests.pages import html_pages, page_urls, played_ids, role_clients

pytestmark = [pytest.mark.browser]

PHONE = {"width": 375, "height": 740}

# Measured in the page: how far the document overflows the viewport, and each label (a table
# header, a form label, a card's data-label) rendered narrower than two characters while it
# holds two or more, which is what wrapping one character per line looks like.
MEASURE = """() => {
  const labels = [];
  for (const el of document.querySelectorAll("main th, main label, main dt, main legend, main h1, main h2")) {
    const text = el.innerText.trim();
    if ([...text].length < 2 || el.offsetParent === null) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (el.getBoundingClientRect().width < 1.9 * size) labels.push(text.slice(0, 20));
  }
  return {width: document.documentElement.scrollWidth, viewport: window.innerWidth, labels};
}"""


@pytest.fixture
def played(transactional_db: Any) -> tuple[Any, Any]:
    org = make_org()
    return org, ready_item(org)


def test_every_page_of_a_played_item_fits_a_phone(chromium: Any, live_server: Any, played: Any) -> None:
    org, item = played
    urls = page_urls(item)
    ids = played_ids(item)
    signing = reverse("reviews_app:deliverable_detail", args=[item.pk, ids["deliverable_pk"]])
    problems: list[str] = []
    opened = 0
    for role, client in role_clients(org).items():
        pages = html_pages(client, urls)
        context = chromium.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
        host = live_server.url.split("//")[1].split(":")[0]
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "domain": host,
                    "path": "/",
                }
            ]
        )
        page = context.new_page()
        for url in pages:
            page.goto(live_server.url + url)
            result = page.evaluate(MEASURE)
            opened += 1
            if result["width"] > result["viewport"]:
                problems.append(f"{role} {url}: {result['width']} px wide")
            if result["labels"]:
                problems.append(f"{role} {url}: one character per line: {result['labels']}")
            if role == "receiver" and url == signing and os.environ.get("SCREENSHOTS"):
                # README's picture of the signing page on a phone: SCREENSHOTS=docs pytest ...
                page.screenshot(path=Path(os.environ["SCREENSHOTS"]) / "phone-signing.png", full_page=True)
        context.close()
    assert opened > 6 * 20  # every role opened the item's pages, not only a login page
    assert problems == [], "\n".join(problems)
