"""Fixtures for every test: the shared organisation and, for user journeys, a real Chromium."""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

from collab.testing import Org, make_org

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "test-artifacts"


@pytest.fixture
def org(db: Any) -> Org:
    return make_org()


@pytest.fixture(scope="session", autouse=True)
def _celery_inline() -> None:
    # Background work runs inline in most tests (the real task code, without a worker); tests
    # about background work itself start a real worker.
    from collab.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True


@pytest.fixture(autouse=True)
def _test_settings(settings: Any, tmp_path: Path) -> None:
    # Uploaded files of one test never leak into another's or into var/.
    settings.MEDIA_ROOT = tmp_path / "media"
    # Hashing seven personas' passwords with PBKDF2 costs seconds per test; security is not under test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Plain static names, whether or not someone ran collectstatic into this checkout's var/
    # (tests/test_start_command.py checks the fingerprinted names of a real start).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    # A request that activates English (an English reader's page, the language switch) leaves it
    # active in the thread; the next test in that thread would read English where it expects the
    # default language. After each test the thread is back on the default, as a fresh one is.
    yield
    translation.deactivate()


def require_service(name: str, available: bool) -> None:
    """Skips a test that needs ``name`` when it is absent, except in CI, where it must be there."""
    if available:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{name} is required in CI but is not available")
    pytest.skip(f"{name} is not available")


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """``@pytest.mark.one_pass("sqlite", reason)``: a test whose subject does not depend on the
    database (a page's layout, its language) runs in one of scripts/test's two passes, the one
    COLLAB_TEST_PASS names; run on its own, outside scripts/test, it always runs."""
    current = os.environ.get("COLLAB_TEST_PASS")
    if not current:
        return
    for item in items:
        marker = item.get_closest_marker("one_pass")
        if marker is not None and marker.args[0] != current:
            reason = marker.args[1] if len(marker.args) > 1 else "it does not depend on the database"
            item.add_marker(pytest.mark.skip(reason=f"runs once, in the {marker.args[0]} pass: {reason}"))


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    require_service("Debian's chromium", shutil.which(CHROMIUM) is not None)
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # the live server and sync Playwright share the thread
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-quic",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any, request: Any) -> Iterator[Any]:
    context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
