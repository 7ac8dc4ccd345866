"""The archive's documents as a reader holds them: PDFs whose names and dates read whole, whose
rows stay on one page under a repeated header, which state the item as archived, in a ZIP whose
entries carry the archive time.

The item is played through its stages with the long texts real reports have (a risk and its
measures of several hundred characters, a long reason for a requirement change), which squeeze
the name and date columns of a printed table; the PDFs are then read back with pypdf.
"""

import io
import itertools
import json
import shutil
import subprocess
import zipfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from pypdf import PdfReader

from collab.org.models import display_name
from collab.testing import Org
from requests_app import services as item_services
from requests_app.models import CollaborationItem
from reviews_app.archive_builder import archive_build
from reviews_app.archive_services import archive_request
from reviews_app.models import Archive, ArchiveStatus
from reviews_app.tests.test_archive_support import (
    attach,
    deliver_everything,
    record_retro,
    started_item,
    tasks_of,
)
from tasks_app import tracking_services
from tasks_app.models import Problem, TaskStatus

pytestmark = pytest.mark.django_db

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# The build runs at 16:20:30 in Shanghai (08:20:30 UTC); ZIP times have a 2-second resolution.
BUILT_AT = datetime(2026, 12, 3, 16, 20, 30, tzinfo=ZoneInfo("Asia/Shanghai"))

RISK = "".join(
    f"第{n}轮接口回归中，测试环境3号数据库在14点至16点的响应超过5秒，共有{n * 12}个用例因超时失败。"
    for n in range(1, 8)
)
MEASURES = "".join(
    f"第{n}步：10月{n + 7}日前把3号数据库的只读查询迁到4号服务器，迁移后重跑{n * 12}个超时用例并记录耗时。"
    for n in range(1, 7)
)
RESOLUTION = "4号服务器10月12日上线，超时用例全部重跑通过。"
CHANGE_REASON = "".join(
    f"第{n}条：发布窗口从10月{n + 9}日调整到10月{n + 12}日，测试范围增加支付接口的{n * 5}个场景。"
    for n in range(1, 6)
)


def played_item(org: Org) -> CollaborationItem:
    """The template's example with long progress reports (their risks resolved by the
    coordinator), a requirement change, both deliverables signed and the retrospective recorded."""
    item = started_item(org)
    tasks = tasks_of(item)
    for task, reporter in ((tasks["提交测试计划"], org.owner), (tasks["完成功能修复"], org.collaborator)):
        tracking_services.progress_report(
            actor=reporter,
            task_id=task.pk,
            data=tracking_services.ReportData(
                status=TaskStatus.IN_PROGRESS,
                percent_done=60,
                summary="完成了60%的用例执行",
                risks=f"{task.name}：{RISK}",
                measures=MEASURES,
            ),
        )
    for problem in Problem.objects.filter(item=item):
        tracking_services.problem_resolve(actor=org.coordinator, problem_id=problem.pk, resolution=RESOLUTION)
    item.refresh_from_db()
    data = item_services.item_requirement_data(item)
    data.remarks = "发布窗口调整到10月13日"
    item_services.item_change_requirement(
        actor=org.requester, item_id=item.pk, version=item.version, data=data, reason=CHANGE_REASON
    )
    attach(org, item)
    deliver_everything(org, item)
    record_retro(org, item)
    item.refresh_from_db()
    return item


@pytest.fixture
def archive(org: Org) -> tuple[Archive, zipfile.ZipFile]:
    item = played_item(org)
    requested = archive_request(actor=org.coordinator, item_id=item.pk)
    with time_machine.travel(BUILT_AT, tick=False):
        built = archive_build(archive_id=requested.pk)
    assert built.status == ArchiveStatus.READY, built.error
    with built.file.open("rb") as stored:
        return built, zipfile.ZipFile(io.BytesIO(stored.read()))


def read(bundle: zipfile.ZipFile, path: str) -> bytes:
    (name,) = [n for n in bundle.namelist() if n.endswith("/" + path)]
    return bundle.read(name)


def pages(data: bytes) -> list[str]:
    """Each page's text as pypdf extracts it, one printed line per text line."""
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def flat(text: str) -> str:
    return text.replace(" ", "").replace("\n", "")


def assert_names_whole(text: str, names: list[str]) -> None:
    """Each name is printed on one line: never 周/婷 with one character per line."""
    lines = [line.replace(" ", "") for line in text.splitlines()]
    for name in names:
        assert any(name in line for line in lines), (name, lines)
        for first, second in itertools.pairwise(lines):
            for cut in range(1, len(name)):
                assert not (first.endswith(name[:cut]) and second.startswith(name[cut:])), (
                    name,
                    first,
                    second,
                )


def test_the_zip_is_dated_with_the_archive_time_and_its_forms_state_the_item_archived_with_names_whole(
    org: Org, archive: tuple[Archive, zipfile.ZipFile]
) -> None:
    """One build (they are slow): the ZIP's dates, the status the forms state, their names."""
    _built, bundle = archive
    assert len(bundle.infolist()) > 10
    for info in bundle.infolist():
        assert info.date_time == (2026, 12, 3, 16, 20, 30), info.filename
    root = bundle.namelist()[0].split("/")[0]
    manifest = json.loads(bundle.read(f"{root}/manifest.json"))
    assert manifest["generated_at"] == "2026-12-03T16:20:30+08:00"
    assert "2026-12-03 16:20" in bundle.read(f"{root}/清单.txt").decode()
    # The PDFs say the same time in their footers.
    assert "2026-12-0316:20" in flat("".join(pages(read(bundle, "进度跟踪记录表.pdf"))))

    # Rendered a moment before the build closes the item, the forms state it archived.
    for path in ("协作需求确认表.pdf", "任务分解与分配表.pdf"):
        text = flat("".join(pages(read(bundle, path))))
        assert "状态已归档" in text, path
        assert "进行中" not in text, path

    # Names print whole beside a long reason for a change, and in the task sheet.
    form = "\n".join(pages(read(bundle, "协作需求确认表.pdf")))
    assert CHANGE_REASON[-20:] in flat(form)
    assert_names_whole(form, [display_name(org.requester), display_name(org.coordinator)])
    sheet = "\n".join(pages(read(bundle, "任务分解与分配表.pdf")))
    assert_names_whole(
        sheet,
        [display_name(u) for u in (org.owner, org.collaborator, org.receiver, org.coordinator)],
    )
    assert "2026-10-09" in sheet.replace(" ", "")


def test_the_progress_record_prints_names_whole_and_each_row_on_one_page_under_its_header(
    org: Org, archive: tuple[Archive, zipfile.ZipFile]
) -> None:
    _built, bundle = archive
    data = read(bundle, "进度跟踪记录表.pdf")
    texts = pages(data)
    assert len(texts) >= 2, "the long reports fill more than a page"
    whole = "\n".join(texts)
    assert_names_whole(
        whole, [display_name(org.owner), display_name(org.collaborator), display_name(org.coordinator)]
    )
    for date in ("2026-10-09", "2026-10-12", "2026-12-03"):
        assert date in whole.replace(" ", ""), date

    # Every row's cells land on one page: its task, its owner, the start and the end of its risk
    # and of its measures (the first table; the issue list below repeats the risks). Each page
    # with rows of the record repeats the record's header row.
    rows = {"提交测试计划": display_name(org.owner), "完成功能修复": display_name(org.collaborator)}
    for task, owner in rows.items():
        holding = [i for i, text in enumerate(texts) if f"{task}：第1轮" in flat(text)]
        assert holding, task
        page = flat(texts[holding[0]])
        for cell in (f"{task}：第1轮", owner, RISK[-20:], MEASURES[:20], MEASURES[-20:]):
            assert cell in page, (task, cell, holding[0])
    assert holding[0] > 0, "the second row moved whole to the next page"
    for text in texts:
        if MEASURES[:20] in flat(text):
            assert "责任人截止时间当前状态" in flat(text) and "风险/问题解决措施" in flat(text)

    if pdftoppm := shutil.which("pdftoppm"):  # render the first pages to look at (test-artifacts/)
        ARTIFACTS.mkdir(exist_ok=True)
        target = ARTIFACTS / "archive-progress-record"
        (ARTIFACTS / "archive-progress-record.pdf").write_bytes(data)
        subprocess.run(  # noqa: S603 (a fixed command on a PDF this test built)
            [pdftoppm, "-r", "70", "-png", "-f", "1", "-l", "2", "-", str(target)], input=data, check=True
        )
        assert (ARTIFACTS / "archive-progress-record-1.png").stat().st_size > 10_000
