"""Every page of a played item fits a 375 px phone, as each role of the item.

Leaders sign on their phones: a page wider than the screen hides the signature table, and a
label squeezed to one character per line (责/任/人) cannot be read. The pages come from the URL
resolver (tests/pages.py), so a new page is checked the day it is added. One browser, one page
per role, reused for every URL.
"""

import io
import os
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import translation

from collab.movein.tests.vendors import APP_ID, APP_SECRET, FakeDirectory, directory_server
from collab.org.models import DirectorySource, SyncRun
from collab.testing import EXAMPLE_NOTICE_2027, PASSWORD, make_item, make_org
from requests_app.models import CollaborationItem, ItemStatus
from requests_app.register import write_register_xlsx
from requests_app.selectors import SORTS
from tests.pages import html_pages, page_urls, played_ids, played_item, role_clients

__all__ = ["directory_server"]  # the local directory server the sync preview reads

pytestmark = [
    pytest.mark.browser,
    # In the SQLite pass, which is the shorter one (scripts/test runs the two at once).
    pytest.mark.one_pass("sqlite", "how wide a page is does not depend on the database"),
]

PHONE = {"width": 375, "height": 740}
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

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
    return org, played_item(org)


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


def _measured(page: Any, name: str, problems: list[str]) -> None:
    """Measures the page, and leaves its picture in test-artifacts/ to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"phone-admin-{name.replace(' ', '-')}.png", full_page=True)
    result = page.evaluate(MEASURE)
    if result["width"] > result["viewport"]:
        problems.append(f"{name}: {result['width']} px wide")
    if result["labels"]:
        problems.append(f"{name}: one character per line: {result['labels']}")


def _register_xlsx(tmp_path: Path) -> Path:
    """The register as Collab exports it: the file a company moving in would upload."""
    stream = io.BytesIO()
    with translation.override("zh-hans"):
        items = CollaborationItem.objects.exclude(status=ItemStatus.DRAFT)
        write_register_xlsx(items.order_by(*SORTS["number"]), stream)
    path = tmp_path / "沟通登记表.xlsx"
    path.write_bytes(stream.getvalue())
    return path


def test_the_admins_import_and_sync_pages_fit_a_phone(
    chromium: Any, live_server: Any, transactional_db: Any, directory_server: FakeDirectory, tmp_path: Path
) -> None:
    """The holiday notice import (form and preview), the directory sync preview and the register
    import (form and dry run), opened by an admin at 375 px: no wider than the screen, no label
    one character per line."""
    org = make_org()
    make_item(org, topic="Q3产品上线测试：覆盖支付、退款和对账三个模块的回归测试")
    register = _register_xlsx(tmp_path)
    CollaborationItem.objects.all().delete()  # the register comes from another system
    get_user_model().objects.create_superuser("boss", "boss@example.com", PASSWORD)
    admin = Client()
    admin.login(username="boss", password=PASSWORD)
    admin.post(
        reverse("admin:org_directorysource_add"),
        {
            "kind": "feishu",
            "name": "飞书通讯录",
            "base_url": directory_server.bases["feishu"],
            "app_id": APP_ID,
            "secret": APP_SECRET,
            "root_department_id": "",
            "user_base": "",
        },
    )
    admin.post(reverse("admin:org_directorysource_sync", args=[DirectorySource.objects.get().pk, "preview"]))
    run = reverse("admin:org_directorysource_run", args=[SyncRun.objects.get().pk])

    context = chromium.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    base = live_server.url
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", PASSWORD)
    page.locator("[type=submit]").click()
    problems: list[str] = []

    page.goto(base + reverse("admin:org_region_notice"))
    _measured(page, "notice import", problems)
    page.fill("[name=text]", EXAMPLE_NOTICE_2027)
    page.get_by_role("button", name="预览").click()
    assert page.locator("td.wd-day.changed").count() > 0  # the preview of the year is shown
    _measured(page, "notice preview", problems)

    page.goto(base + run)
    assert "综合部" in page.inner_text("main")
    _measured(page, "directory sync preview", problems)

    page.goto(base + reverse("movein:register_import"))
    _measured(page, "register import", problems)
    page.set_input_files("[name=workbook]", str(register))
    page.locator("main form [type=submit]").first.click()
    page.wait_for_load_state()
    assert "Q3产品上线测试" in page.inner_text("main")  # the dry run lists the register's rows
    _measured(page, "register dry run", problems)
    context.close()
    assert problems == [], "\n".join(problems)
