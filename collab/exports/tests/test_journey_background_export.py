"""In Chromium: the owner clicks "Export to Excel" on a register larger than the threshold, lands
on the export's page and downloads the workbook from its link (background work inline here; the
real worker is tested in test_export_worker.py)."""

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from collab.exports.models import Export
from collab.testing import PASSWORD, make_item, make_org

pytestmark = [pytest.mark.browser]


def test_a_large_register_export_ends_in_a_download_link(
    transactional_db: Any, live_server: Any, page: Any, settings: Any
) -> None:
    settings.COLLAB_EXPORT_BACKGROUND_ROWS = 2
    org = make_org()
    numbers = {make_item(org, topic=f"上线准备{n}").number for n in range(3)}
    page.goto(f"{live_server.url}/accounts/login/?next=/register/")
    page.fill("#id_username", org.owner.username)
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url(f"{live_server.url}/register/")
    page.click("#export-link")
    export = Export.objects.get()
    page.wait_for_url(f"{live_server.url}/exports/{export.pk}/")
    link = page.locator("#export-download")
    link.wait_for()
    assert "下载Excel文件" in link.inner_text()
    with page.expect_download() as waiting:
        link.click()
    download = waiting.value
    assert download.suggested_filename.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes())).active
    assert {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)} == numbers
