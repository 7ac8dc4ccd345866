"""The README's "Run it for a company" steps, followed as written against the local PostgreSQL and
Redis: a fresh database, the block of commands the README marks, then the processes of the
systemd units in deploy/systemd (their ExecStart lines, with their EnvironmentFile). Gunicorn
answers through the proxy headers nginx sets, and the worker delivers a notification by e-mail
to a real SMTP server run here.

The only changes made to what the README says are the two install locations: /opt/collab becomes
a fresh copy of this repository and /etc/collab/collab.env a file written from
deploy/collab.env.example with this machine's database, broker and ports.
"""

import os
import re
import secrets
import shlex
import signal
import socketserver
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from tests.test_runtime_worker import runtime_python
from tests.test_start_command import free_port, fresh_copy, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
MARK = "<!-- tests/test_production_readme.py runs this block as written -->"


def readme_block() -> str:
    readme = (ROOT / "README.md").read_text()
    match = re.search(re.escape(MARK) + r"\s*```bash\n(.*?)```", readme, re.S)
    assert match, "the README lost its tested production block"
    return "\n".join(line.strip() for line in match.group(1).splitlines())


def exec_start(unit: str, env: dict[str, str]) -> list[str]:
    """The unit's command as systemd runs it: ${NAME} replaced from its EnvironmentFile, %% as %."""
    text = (ROOT / "deploy" / "systemd" / unit).read_text()
    command = re.search(r"^ExecStart=(.+)$", text, re.M).group(1)  # type: ignore[union-attr]
    command = re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], command).replace("%%", "%")
    return shlex.split(command)


class SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for one client: the messages' raw text lands in server.messages."""

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 collab-test ESMTP")
        while line := self.rfile.readline().decode(errors="replace").strip():
            verb = line.split(" ", 1)[0].upper()
            if verb == "DATA":
                self.reply("354 end with .")
                lines = []
                while (data := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
                    lines.append(data.decode(errors="replace"))
                self.server.messages.append("".join(lines))  # type: ignore[attr-defined]
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


@pytest.fixture
def smtp_server() -> Iterator[Any]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), SMTPHandler)
    server.messages = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """A new PostgreSQL database beside the test database, dropped afterwards."""
    if connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("runs in the PostgreSQL/Redis pass")
    import psycopg2

    db = connection.settings_dict
    name = f"collab_readme_{os.getpid()}"
    params = {"user": db["USER"], "password": db["PASSWORD"], "host": db["HOST"] or "127.0.0.1"}
    admin = psycopg2.connect(dbname="postgres", port=db["PORT"] or 5432, **params)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://{db['USER']}:{db['PASSWORD']}@{params['host']}:{db['PORT'] or 5432}/{name}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def fetch(url: str, **headers: str) -> tuple[int, str, str]:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any) -> None:
            return None

    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (our own server)
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=15) as response:
            return response.status, response.headers.get("Location", ""), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location", ""), error.read().decode()


def test_the_readme_production_steps_run_as_written(
    tmp_path: Path, fresh_database: str, smtp_server: Any
) -> None:
    python = Path(runtime_python())
    copy = tmp_path / "opt-collab"
    fresh_copy(copy)
    (copy / ".venv").symlink_to(python.parent.parent)
    port = free_port()
    data = tmp_path / "var-lib-collab"
    values = {
        "DATABASE_URL": fresh_database,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "COLLAB_SECRET_KEY": secrets.token_urlsafe(50),
        "COLLAB_MEDIA_ROOT": str(data / "media"),
        "COLLAB_VAR_DIR": str(data),
        "COLLAB_STATIC_ROOT": str(data / "static"),
        "COLLAB_BACKUP_DIR": str(tmp_path / "backups"),
        "COLLAB_ADDR": f"127.0.0.1:{port}",
        "COLLAB_WEB_WORKERS": "2",
        "COLLAB_SMTP_HOST": "127.0.0.1",
        "COLLAB_SMTP_PORT": str(smtp_server.server_address[1]),
    }
    lines = []
    for line in (ROOT / "deploy" / "collab.env.example").read_text().splitlines():
        name = line.split("=", 1)[0]
        lines.append(f"{name}={values.pop(name)}" if name in values else line)
    env_file = tmp_path / "collab.env"
    env_file.write_text("\n".join([*lines, *(f"{k}={v}" for k, v in values.items())]) + "\n")

    def as_installed(text: str) -> str:
        return text.replace("/etc/collab/collab.env", str(env_file)).replace("/opt/collab", str(copy))

    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("COLLAB_", "DATABASE_URL", "CELERY_", "DJANGO_"))
    }
    steps = subprocess.run(  # noqa: S603
        ["/bin/bash", "-euo", "pipefail", "-c", as_installed(readme_block())],
        env=clean,
        capture_output=True,
        text=True,
        check=False,
    )
    assert steps.returncode == 0, steps.stdout[-3000:] + steps.stderr[-3000:]
    assert "System check identified no issues" in steps.stdout + steps.stderr

    # The services, as systemd starts them: the unit's command, its folder, its EnvironmentFile.
    service_env = clean | dict(
        line.split("=", 1)
        for line in env_file.read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    processes = [
        subprocess.Popen(  # noqa: S603
            [as_installed(part) for part in exec_start(unit, service_env)],
            cwd=copy,
            env=service_env,
            stdout=(tmp_path / f"{unit}.log").open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for unit in ("collab-web.service", "collab-worker.service", "collab-beat.service")
    ]
    try:
        wait_for_port(port, processes[0], tmp_path / "collab-web.service.log", 60)
        base = f"http://127.0.0.1:{port}"
        # As nginx passes it on: the public host name and the HTTPS header.
        status, _, page = fetch(
            f"{base}/accounts/login/", Host="collab.example.com", **{"X-Forwarded-Proto": "https"}
        )
        assert status == 200 and "登录" in page
        status, location, _ = fetch(f"{base}/accounts/login/", Host="collab.example.com")
        assert (status, location) == (301, "https://collab.example.com/accounts/login/")
        assert fetch(f"{base}/accounts/login/", Host="evil.example.net")[0] == 400

        # One notification through the application's own service, delivered by the worker.
        tell = (
            "from django.contrib.auth import get_user_model; from collab.notify.services import notify; "
            "u = get_user_model().objects.create_user('readme', 'readme@example.com', 'x'); "
            "notify(recipients=[u], kind='readme.test', render=lambda: ('README 通知', '已送达'))"
        )
        manage = [str(copy / ".venv" / "bin" / "python"), "manage.py", "shell", "-c", tell]
        subprocess.run(manage, cwd=copy, env=service_env, check=True, capture_output=True)  # noqa: S603
        deadline = time.monotonic() + 60
        while not smtp_server.messages:
            assert time.monotonic() < deadline, (tmp_path / "collab-worker.service.log").read_text()[-3000:]
            time.sleep(0.3)
        assert "readme@example.com" in smtp_server.messages[0]
        # The nightly backup's unit, run once: a dated folder whose manifest lists the database.
        backup = [as_installed(part) for part in exec_start("collab-backup.service", service_env)]
        subprocess.run(backup, cwd=copy, env=service_env, check=True, capture_output=True)  # noqa: S603
        (folder,) = (tmp_path / "backups").iterdir()
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}-\d{4}", folder.name)
        assert "database.jsonl" in (folder / "manifest.json").read_text()
        # Every service is still up, beat with its schedule in COLLAB_VAR_DIR.
        assert [process.poll() for process in processes] == [None, None, None]
        assert (data / "celerybeat-schedule").exists() or list(data.glob("celerybeat-schedule*"))
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
