"""`./scripts/start` in a fresh copy of the repository, as a new user runs it: gunicorn answers with
DEBUG off (the product's Chinese 404, not Django's technical page), serves fingerprinted static
files itself, keeps its generated secret key private, and stops cleanly.

It runs on the runtime-only environment scripts/test builds (COLLAB_RUNTIME_PYTHON), linked in as
the copy's .venv, so it also proves that requirements.txt alone is enough to start; in CI it
never skips.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from tests.test_runtime_worker import runtime_python

ROOT = Path(__file__).resolve().parent.parent


def fresh_copy(target: Path) -> None:
    """The files a clone has: tracked and new ones, none that git ignores (var/, .venv, caches)."""
    listed = subprocess.run(  # noqa: S603
        [str(shutil.which("git")), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (entry.decode() for entry in listed)):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: "subprocess.Popen[bytes]", log: Path, seconds: float) -> None:
    """Until something listens on the port; the process dying or the time running out fails
    with the end of its log."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()[-4000:]
            time.sleep(0.3)


def fetch(url: str) -> tuple[int, dict[str, str], str]:
    try:
        with urllib.request.urlopen(url, timeout=90) as response:  # noqa: S310 (our own server)
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def test_the_start_command_serves_production_from_a_fresh_copy(tmp_path: Path) -> None:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        pytest.skip("runs once, in the SQLite pass: scripts/start brings its own SQLite database")
    python = Path(runtime_python())
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs the git checkout to copy")
    copy = tmp_path / "collab"
    fresh_copy(copy)
    (copy / ".venv").symlink_to(python.parent.parent)
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("COLLAB_", "DATABASE_URL", "CELERY_", "DJANGO_"))
    }
    env["COLLAB_ADDR"] = f"127.0.0.1:{port}"
    log = (tmp_path / "start.log").open("w")
    server = subprocess.Popen(  # noqa: S603
        [str(shutil.which("bash")), "scripts/start"],
        cwd=copy,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_port(port, server, tmp_path / "start.log", 180)

        status, headers, page = fetch(f"http://127.0.0.1:{port}/no-such-page/")
        assert status == 404 and headers["Server"].startswith("gunicorn")
        assert "页面不存在" in page and "URLconf" not in page and "DEBUG" not in page
        stylesheet = re.search(r'href="(/static/css/collab\.[0-9a-f]{12}\.css)"', page)
        assert stylesheet, page
        status, headers, css = fetch(f"http://127.0.0.1:{port}{stylesheet.group(1)}")
        assert status == 200 and "immutable" in headers["Cache-Control"] and ".topbar" in css

        key = copy / "var" / "secret_key"
        assert key.stat().st_mode & 0o777 == 0o600
        assert f"Collab runs at http://127.0.0.1:{port}" in (tmp_path / "start.log").read_text()
    finally:
        os.killpg(server.pid, signal.SIGINT)  # Ctrl+C
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            raise
        log.close()
    assert not (copy / "control").exists()  # the broker's control files stay in var/
