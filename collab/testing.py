"""The shared test organisation: named people across departments, as in healthchecks' tests.

- requester: head of Product, files the requirement
- coordinator: in the PMO, coordinates the item
- owner: in QA, will own tasks (a read-only participant of the form)
- collaborator: in R&D (a read-only participant)
- receiver: in Product, receives deliverables
- qa_head: head of QA
- outsider: in Finance, which takes no part in the item
"""

import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from collab.notify.handoffs import HANDOFF
from collab.org.models import Department, Person, Region
from requests_app import services
from requests_app.models import CollaborationItem, Scenario
from requests_app.rules import MilestoneData, ParticipationData, RequirementData
from requests_app.services import locked_item

PASSWORD = "correct horse battery"

# A notice for 2027 written the way the State Council writes them, giving every statutory holiday
# of the law off (the real one is not a fixture: tests must not depend on it).
EXAMPLE_NOTICE_2027 = """国务院办公厅关于2027年部分节假日安排的通知
一、元旦：1月1日（周五）至3日（周日）放假，共3天。
二、春节：2月5日（农历除夕、周五）至12日（农历正月初七、周五）放假调休，共8天。1月31日（周日）、2月20日（周六）上班。
三、清明节：4月3日（周六）至5日（周一）放假，共3天。
四、劳动节：5月1日（周六）至5日（周三）放假调休，共5天。4月25日（周日）上班。
五、端午节：6月9日（周三）放假1天，不调休。
六、中秋节：9月15日（周三）放假1天，不调休。
七、国庆节：10月1日（周五）至7日（周四）放假调休，共7天。9月26日（周日）、10月9日（周六）上班。
"""


@dataclass
class Org:
    region: Region
    product: Department
    pmo: Department
    qa: Department
    rnd: Department
    finance: Department
    requester: Any
    coordinator: Any
    owner: Any
    collaborator: Any
    receiver: Any
    qa_head: Any
    outsider: Any


def make_person(username: str, department: Department, *, name: str = "", language: str = "zh-hans") -> Any:
    user = get_user_model().objects.create_user(
        username, f"{username}@example.com", PASSWORD, last_name=name[:1], first_name=name[1:]
    )
    Person(user=user, department=department, language=language, region=department.region).save()
    return user


def make_head(department: Department, username: str, *, name: str = "") -> Any:
    """A new person who heads ``department``."""
    head = make_person(username, department, name=name)
    department.head = head
    department.save()
    return head


def make_org() -> Org:
    region = Region.objects.create(code="cn-east", name="华东区")
    departments = {}
    for key, name in [
        ("product", "产品部"),
        ("pmo", "项目管理办公室"),
        ("qa", "测试部"),
        ("rnd", "研发部"),
        ("finance", "财务部"),
    ]:
        department = Department(name=name, region=region)
        department.save()
        departments[key] = department
    requester = make_person("requester", departments["product"], name="张敏")
    qa_head = make_person("qa_head", departments["qa"], name="王芳")
    for key, head in [("product", requester), ("qa", qa_head)]:
        departments[key].head = head
        departments[key].save()
    return Org(
        region=region,
        requester=requester,
        coordinator=make_person("coordinator", departments["pmo"], name="李娜"),
        owner=make_person("owner", departments["qa"], name="吴杰"),
        collaborator=make_person("collaborator", departments["rnd"], name="孙磊"),
        receiver=make_person("receiver", departments["product"], name="钱多"),
        qa_head=qa_head,
        outsider=make_person("outsider", departments["finance"], name="陈刚"),
        **departments,
    )


def requirement(org: Org, **overrides: Any) -> RequirementData:
    """A requirement that satisfies every rule: the template's own example."""
    values: dict[str, Any] = {
        "topic": "Q3产品上线测试",
        "scenario": Scenario.CROSS_DEPARTMENT,
        "goal": "确保Q3新功能稳定上线,覆盖90%用户需求",
        "scope": "核心功能模块测试",
        "expected_outcome": "10月15日前完成上线测试,功能覆盖90%的用户需求",
        "requesting_department_id": org.product.pk,
        "coordinator_id": org.coordinator.pk,
        "remarks": "需运营部提供用户场景",
        "participations": [
            ParticipationData(org.rnd.pk, "", "提供技术支持"),
            ParticipationData(org.qa.pk, "测试经理", "协助设计测试用例"),
        ],
        "milestones": [
            MilestoneData("需求确认", date(2026, 10, 8)),
            MilestoneData("测试完成", date(2026, 10, 15)),
        ],
    }
    values.update(overrides)
    return RequirementData(**values)


def assert_refused(
    call: Callable[[], Any], message: str, *, problems: dict[str, list[str]] | None = None
) -> Any:
    """Calls ``call`` and asserts it is refused with exactly ``message`` (and, if given, exactly
    these field ``problems``); returns the refusal. A bare ``pytest.raises(ItemError)`` would let
    any refusal pass, including the wrong one.

    A refusal is any error that carries the ``message`` shown to the person (``ItemError`` and
    the typed access refusals); other errors pass through and fail the test.
    """
    try:
        call()
    except Exception as refusal:
        shown = getattr(refusal, "message", None)
        if shown is None:
            raise
        if str(shown) != str(message):
            raise AssertionError(f"refused with {shown!r}, expected {message!r}") from refusal
        if problems is not None and getattr(refusal, "problems", {}) != problems:
            raise AssertionError(
                f"problems {getattr(refusal, 'problems', {})!r}, expected {problems!r}"
            ) from refusal
        return refusal
    raise AssertionError(f"not refused; expected {message!r}")


def client_for(user: Any) -> Client:
    """A test client logged in as ``user``."""
    client = Client()
    client.force_login(user)
    return client


def make_item(org: Org, *, submit: bool = True, **overrides: Any) -> CollaborationItem:
    item = services.item_create_draft(actor=org.requester, data=requirement(org, **overrides))
    if submit:
        item = services.item_submit(actor=org.requester, item_id=item.pk, version=item.version)
    return item


def schedule_meeting(org: Org, item: CollaborationItem, **overrides: Any) -> Any:
    """An online workshop about ``item`` that began an hour ago (so its minutes can be recorded),
    inviting its departments."""
    from datetime import timedelta

    from django.utils import timezone

    from requests_app.meeting_services import MeetingData, meeting_schedule
    from requests_app.models import MeetingForm

    values: dict[str, Any] = {
        "form": MeetingForm.ONLINE_WORKSHOP,
        "starts_at": timezone.now() - timedelta(hours=1),
        "timezone": "Asia/Shanghai",
        "location": "https://meeting.example.com/q3",
        "invitee_ids": [org.requester.pk, org.coordinator.pk],
        "department_ids": [org.rnd.pk, org.qa.pk],
    }
    values.update(overrides)
    return meeting_schedule(actor=org.coordinator, item_id=item.pk, data=MeetingData(**values))


def minutes_data(org: Org, **overrides: Any) -> Any:
    """Minutes with two to-dos (the template's example) and unchanged milestones."""
    from requests_app.meeting_services import MinutesData, TodoData

    values: dict[str, Any] = {
        "attendee_ids": [org.requester.pk, org.coordinator.pk, org.qa_head.pk, org.collaborator.pk],
        "agenda": {"feasibility": "可行", "resources": "测试部2人", "risks": "研发排期紧", "adjustments": ""},
        "conclusions": "按计划10月15日完成上线测试",
        "responsibilities": [(org.qa.pk, "设计测试用例"), (org.rnd.pk, "修复缺陷")],
        "final_milestones": [
            MilestoneData("需求确认", date(2026, 10, 8)),
            MilestoneData("测试完成", date(2026, 10, 15)),
        ],
        "todos": [
            TodoData("提交测试计划", org.qa_head.pk, date(2026, 10, 9)),
            TodoData("完成功能修复", org.collaborator.pk, date(2026, 10, 13)),
        ],
    }
    values.update(overrides)
    return MinutesData(**values)


def finds_handoff(page: Any, base: str, kind: str, item: CollaborationItem, *, told: bool = True) -> None:
    """In a browser: ``page``'s person finds the hand-off ``kind`` of ``item`` in My work (exactly
    one entry in the row's list) and, when ``told``, in the notification centre. Both pages fit
    the browser's width (a phone's too)."""
    page.goto(f"{base}/")
    entries = _work_entries(page, kind, item).count()
    if entries != 1:
        raise AssertionError(f"{kind}: {entries} entries in My work")
    assert_fits(page, f"My work ({kind})")
    if told:
        page.goto(f"{base}/notifications/")
        notices = page.locator(f".notifications li[data-kind='{kind}'][data-item='{item.pk}']").count()
        if notices != 1:
            raise AssertionError(f"{kind}: {notices} notifications")
        assert_fits(page, f"notifications ({kind})")


def assert_fits(page: Any, what: str) -> None:
    """The page is no wider than the browser window: nothing scrolls sideways on a phone."""
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > page.viewport_size["width"] + 1:
        raise AssertionError(f"{what} is {width} px wide at {page.viewport_size['width']} px")


# The browser journey (requirement form to archive, requests_app/tasks_app/reviews_app
# test_journey_*.py) runs in both languages and at both widths people use.
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1440, "height": 900}


@dataclass(frozen=True)
class JourneyView:
    """A language and a screen: every person of one journey run reads this language (their
    preferred language and the browser's) on this screen."""

    language: str
    viewport: dict[str, int]

    @property
    def locale(self) -> str:
        return "zh-CN" if self.language == "zh-hans" else "en-US"

    def text(self, msgid: str, **values: Any) -> str:
        """``msgid`` as the pages show it in this view's language, with ``values`` filled in."""
        with translation.override(self.language):
            text = gettext(msgid)
        return text % values if values else text

    def before(self, msgid: str, placeholder: str) -> str:
        """The part of ``msgid``'s translation before ``placeholder`` ("opened %(when)s" → "已于")."""
        return self.text(msgid).split(placeholder)[0]

    def log_in(self, chromium: Any, base: str, username: str, *, timeout: int = 15_000) -> Any:
        """A new browser context for ``username``, logged in, on My work."""
        context = chromium.new_context(
            locale=self.locale, timezone_id="Asia/Shanghai", viewport=self.viewport, accept_downloads=True
        )
        context.set_default_timeout(timeout)
        page = context.new_page()
        page.goto(f"{base}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.get_by_role("button", name=self.text("Log in"), exact=True).click()
        page.wait_for_url(f"{base}/")
        return page

    def speak(self) -> None:
        """Everyone reads this view's language."""
        Person.objects.update(language=self.language)


def journey_views() -> list[Any]:
    """The journey's runs: zh-hans at 1440 px and English at 375 px, which together cover both
    languages and both widths. All four combinations take twice as long, more than CI's budget
    on two cores allows; COLLAB_JOURNEY_VIEWS=all runs them (e.g. before a release), and a list
    of ids (``zh-hans-1440,en-375``) runs those: scripts/test gives each of its two database
    passes one of the two views, so each journey runs on both databases and in both views."""
    views = [("zh-hans", DESKTOP), ("en", PHONE)]
    chosen = os.environ.get("COLLAB_JOURNEY_VIEWS", "")
    if chosen == "all":
        views += [("zh-hans", PHONE), ("en", DESKTOP)]
    params = [
        pytest.param(JourneyView(language, viewport), id=f"{language}-{viewport['width']}")
        for language, viewport in views
    ]
    if chosen and chosen != "all":
        wanted = {name.strip() for name in chosen.split(",")}
        unknown = wanted - {param.id for param in params}
        if unknown:
            raise ValueError(f"COLLAB_JOURNEY_VIEWS: unknown views {sorted(unknown)}")
        params = [param for param in params if param.id in wanted]
    return params


def handoff_gone(page: Any, base: str, kind: str, item: CollaborationItem) -> None:
    """In a browser: the entry of ``kind`` for ``item`` has left ``page``'s My work."""
    page.goto(f"{base}/")
    if _work_entries(page, kind, item).count():
        raise AssertionError(f"{kind}: still in My work")


def _work_entries(page: Any, kind: str, item: CollaborationItem) -> Any:
    return page.locator(f"#work-{HANDOFF[kind].entry} li.work-entry[data-item='{item.pk}']")


def database_url() -> str:
    """DATABASE_URL of the database this test runs on, for processes the test starts."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{host}:{port}/{db['NAME']}"


@dataclass
class Worker:
    """A Celery worker the test started; its output goes to a file, shown when the test fails."""

    process: "subprocess.Popen[str]"
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def poll(self) -> int | None:
        return self.process.poll()

    def output(self, last: int = 6000) -> str:
        return self.log.read_text(errors="replace")[-last:]

    def kill(self) -> None:
        """SIGKILL: the worker dies at once, as in an out-of-memory kill or a power cut."""
        self.process.kill()
        self.process.wait(timeout=20)

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM, as systemd stops it; returns the exit code (killed when it takes too long)."""
        self.process.terminate()
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=20)


@contextmanager
def celery_worker(python: str, env: dict[str, str], *extra: str, purge: bool = True) -> Iterator[Worker]:
    """A real Celery worker on this test's database, broker and MEDIA_ROOT.

    Solo pool, and no mingle, gossip or heartbeat: they cost seconds of start-up and test nothing
    here. Background work runs through the broker while it lives; inline again afterwards. Its
    output goes to a temporary file, not a pipe (a chatty worker would block writing to a pipe
    nobody reads); a test that fails inside the block gets the output's end as a note.
    ``purge=False`` keeps the messages already queued (a second worker taking over).
    """
    from collab.celery import app

    app.conf.task_always_eager = False
    if purge:
        app.control.purge()  # leftovers of earlier runs would only slow this one down
    command = [python, "-m", "celery", "-A", "collab", "worker", "--pool", "solo", "--loglevel", "INFO"]
    command += ["--without-mingle", "--without-gossip", "--without-heartbeat", *extra]
    # The worker stores files where this test's storage reads them (unless ``env`` says where).
    env = {"COLLAB_MEDIA_ROOT": str(settings.MEDIA_ROOT)} | env
    env |= {
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "COLLAB_VAR_DIR": str(settings.VAR_DIR),
    }
    if "data_folder_in" in settings.CELERY_BROKER_TRANSPORT_OPTIONS:  # the filesystem broker's folder
        env["COLLAB_BROKER_DIR"] = str(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
    log_dir = Path(tempfile.mkdtemp(prefix="collab-worker-"))
    log = log_dir / "worker.log"
    with log.open("w") as sink:
        process = subprocess.Popen(  # noqa: S603 (a python the test chose)
            command,
            cwd=Path(__file__).resolve().parent.parent,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
        )
    worker = Worker(process, log)
    try:
        yield worker
    except BaseException as failure:
        failure.add_note(f"--- worker output (pid {process.pid}) ---\n{worker.output()}")
        raise
    finally:
        if process.poll() is None:
            worker.stop()
        app.conf.task_always_eager = True
        shutil.rmtree(log_dir, ignore_errors=True)


@contextmanager
def item_held(item: CollaborationItem) -> Iterator[None]:
    """Another writer of the item holds its row (as every write of an item does first, through
    ``locked_item``) until the block ends: a thread with a connection and a transaction of its
    own (PostgreSQL; a transactional test, so the item is committed for it to see)."""
    held, release = threading.Event(), threading.Event()

    def writer() -> None:
        try:
            with transaction.atomic():
                locked_item(item.pk)
                held.set()
                release.wait(60)
        finally:
            connections.close_all()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        if not held.wait(30):
            raise AssertionError("the other writer did not get the item's row within 30 s")
        yield
    finally:
        release.set()
        thread.join(60)
