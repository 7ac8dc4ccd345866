"""The README's "Run it for a company" steps, followed as written on this machine: as root, the
block that runs deploy/install (a `collab` user, /opt/collab with its own environment built from
requirements.txt, a PostgreSQL role and database `collab`, /etc/collab/collab.env, the systemd
units, the nginx site); as the collab user, step 2's block. Then the installed systemd units'
commands run as the unit's User, in its WorkingDirectory, with its EnvironmentFile: gunicorn
answers through the proxy headers nginx sets, the worker delivers a notification by e-mail to a
real SMTP server run here, beat keeps its schedule, and the backup unit writes a dated folder.

Nothing in the README's blocks is changed. What differs from a company's server is the
environment the installer runs in, which it documents: CELERY_BROKER_URL (this test run's Redis
database), COLLAB_ADDR (a free port) and the mail server come from COLLAB_*/CELERY_BROKER_URL
variables set when it runs. Not executed: systemctl (systemd is not PID 1 in CI's container, so
the installer says so and the test starts each unit's ExecStart itself), `systemctl reload
nginx` and `nginx -t` (nginx is not installed here; the site file is checked instead).

It needs root (it creates a user and writes to /opt, /etc and /var) and runs in the
PostgreSQL/Redis pass; it skips otherwise, and also when this machine holds a Collab
installation or a `collab` database or role that the test did not make. It removes everything it
installed afterwards (and the leftovers of an interrupted run first), one run at a time.
"""

import fcntl
import os
import pwd
import re
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

from tests.test_start_command import free_port, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
AS_ROOT = "<!-- tests/test_production_readme.py runs this block as root, as written -->"
AS_COLLAB = "<!-- tests/test_production_readme.py runs this block as the collab user, as written -->"
# What deploy/install writes on the database and role it creates.
INSTALLER_MARK = "Collab, created by deploy/install"
# Present while this test owns the installation (removed last): an interrupted run's leftovers.
STATE = Path("/var/lib/collab-readme-test")
OWNED = STATE / "owned"
LOCK = STATE / "lock"
UNITS = sorted(path.name for path in (ROOT / "deploy" / "systemd").iterdir())
INSTALLED = [
    Path("/opt/collab"),
    Path("/etc/collab"),
    Path("/var/lib/collab"),
    Path("/var/backups/collab"),
    Path("/etc/nginx/conf.d/collab.conf"),
    Path("/etc/ld.so.conf.d/collab-python.conf"),
    *(Path("/etc/systemd/system") / unit for unit in UNITS),
]


def production_section() -> str:
    readme = (ROOT / "README.md").read_text()
    return readme.split("## Run it for a company", 1)[1].split("### Backup and restore", 1)[0]


def readme_block(mark: str) -> str:
    match = re.search(re.escape(mark) + r"\s*```bash\n(.*?)```", production_section(), re.S)
    assert match, f"the README lost its tested production block ({mark})"
    return "\n".join(line.strip() for line in match.group(1).splitlines())


def test_every_production_command_block_is_one_the_test_runs() -> None:
    blocks = re.findall(r"```bash\n(.*?)```", production_section(), re.S)
    tested = [readme_block(AS_ROOT), readme_block(AS_COLLAB)]
    assert ["\n".join(line.strip() for line in block.splitlines()) for block in blocks] == tested


def unit_settings(unit: str) -> dict[str, str]:
    text = (Path("/etc/systemd/system") / unit).read_text()
    return dict(re.findall(r"^(\w+)=(.+)$", text, re.M))


def exec_start(unit: str, env: dict[str, str]) -> list[str]:
    """The unit's command as systemd runs it: ${NAME} replaced from its EnvironmentFile, %% as %."""
    command = unit_settings(unit)["ExecStart"]
    command = re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], command).replace("%%", "%")
    return shlex.split(command)


def env_file_values(path: str) -> dict[str, str]:
    return dict(
        line.split("=", 1)
        for line in Path(path).read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )


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


def admin_database() -> Any:
    import psycopg2

    db = connection.settings_dict
    admin = psycopg2.connect(
        dbname="postgres",
        user=db["USER"],
        password=db["PASSWORD"],
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
    )
    admin.autocommit = True
    return admin


def installer_made(cursor: Any) -> dict[str, str | None]:
    """The comment on the `collab` role and database, "" when they have none, None when absent."""
    cursor.execute(
        "select coalesce(shobj_description(oid, 'pg_authid'), '') from pg_roles where rolname = 'collab'"
    )
    role = cursor.fetchone()
    cursor.execute(
        "select coalesce(shobj_description(oid, 'pg_database'), '') from pg_database where datname = 'collab'"
    )
    database = cursor.fetchone()
    return {"role": role and role[0], "database": database and database[0]}


def remove_in_background(folder: Path) -> None:
    """``folder`` gone from its place at once, its files deleted by a process of their own:
    /opt/collab holds a Python and a virtual environment (30,000 files), whose deletion waited
    30 s on this machine's disk while the test's worker could run other tests."""
    trash = folder.with_name(f".{folder.name}-removed-{os.getpid()}-{time.monotonic_ns()}")
    folder.rename(trash)
    # The shell leaves rm running and ends: nothing of this process waits for it.
    subprocess.run(["sh", "-c", 'rm -rf -- "$1" </dev/null >/dev/null 2>&1 &', "rm", str(trash)], check=True)  # noqa: S603, S607


def uninstall() -> None:
    """Everything the installer made; the database and role only when the installer made them."""
    try:
        pwd.getpwnam("collab")
    except KeyError:
        pass
    else:
        # userdel refuses while the user's processes (the stopped services' last workers) live on.
        deadline = time.monotonic() + 90
        while subprocess.run(["pgrep", "-u", "collab"], capture_output=True, check=False).returncode == 0:  # noqa: S607
            assert time.monotonic() < deadline, "the collab user's processes did not end"
            time.sleep(0.5)
        subprocess.run(["userdel", "collab"], check=True, capture_output=True)  # noqa: S607
    for path in INSTALLED:
        if path.is_dir() and not path.is_symlink():
            remove_in_background(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
    subprocess.run(["ldconfig"], check=False)  # noqa: S607
    admin = admin_database()
    with admin.cursor() as cursor:
        made = installer_made(cursor)
        if made["database"] == INSTALLER_MARK:
            cursor.execute("DROP DATABASE collab WITH (FORCE)")
        if made["role"] == INSTALLER_MARK:
            cursor.execute("DROP ROLE collab")
    admin.close()


@pytest.fixture
def this_machine() -> Iterator[None]:
    """This machine, free for an installation, to the test alone; cleaned up afterwards."""
    if connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("runs in the PostgreSQL/Redis pass")
    if os.geteuid() != 0:
        pytest.skip("the README's installation runs as root (it creates a user, writes /opt and /etc)")
    STATE.mkdir(mode=0o700, exist_ok=True)
    with LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if OWNED.exists():
            uninstall()  # an interrupted run's leftovers
        else:
            present = [str(path) for path in INSTALLED if path.exists()]
            try:
                pwd.getpwnam("collab")
                present.append("the user collab")
            except KeyError:
                pass
            admin = admin_database()
            with admin.cursor() as cursor:
                made = installer_made(cursor)
            admin.close()
            present += [f"a PostgreSQL {kind} collab" for kind, note in made.items() if note is not None]
            if present:
                pytest.skip(f"this machine holds a Collab installation the test did not make: {present}")
        OWNED.touch()
        try:
            yield
        finally:
            uninstall()
            OWNED.unlink()


def fetch(url: str, **headers: str) -> tuple[int, str, str]:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any) -> None:
            return None

    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (our own server)
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=90) as response:
            return response.status, response.headers.get("Location", ""), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location", ""), error.read().decode()


def test_the_readme_production_steps_run_as_written(
    this_machine: None, smtp_server: Any, tmp_path: Path
) -> None:
    port = free_port()
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("COLLAB_", "DATABASE_URL", "CELERY_", "DJANGO_", "VIRTUAL_ENV", "PYTHON"))
    }
    # This machine's broker, port and mail server, as the installer's --help describes.
    given = {
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "COLLAB_ADDR": f"127.0.0.1:{port}",
        "COLLAB_WEB_WORKERS": "2",
        "COLLAB_SMTP_HOST": "127.0.0.1",
        "COLLAB_SMTP_PORT": str(smtp_server.server_address[1]),
    }
    started = time.monotonic()
    install = subprocess.run(  # noqa: S603
        ["/bin/bash", "-euo", "pipefail", "-c", readme_block(AS_ROOT)],
        cwd=ROOT,
        env=clean | given,
        capture_output=True,
        text=True,
        check=False,
        timeout=1200,
    )
    output = install.stdout + install.stderr
    assert install.returncode == 0, output[-5000:]
    assert "System check identified no issues" in output
    assert "systemd is not running" in output or Path("/run/systemd/system").is_dir()
    print(f"deploy/install took {time.monotonic() - started:.0f} s")
    env_file = Path("/etc/collab/collab.env")
    assert (env_file.stat().st_mode & 0o777, env_file.owner()) == (0o600, "collab")
    values = env_file_values(str(env_file))
    assert len(values["COLLAB_SECRET_KEY"]) >= 50
    assert values["COLLAB_ALLOWED_HOSTS"] == "collab.example.com"
    assert values["DATABASE_URL"].endswith("@127.0.0.1:5432/collab")
    site = Path("/etc/nginx/conf.d/collab.conf")
    site = site if site.exists() else Path("/etc/collab/nginx-collab.conf")
    assert "server_name collab.example.com;" in site.read_text()
    assert f"server 127.0.0.1:{port};" in site.read_text()

    steps = subprocess.run(  # noqa: S603
        ["runuser", "-u", "collab", "--", "/bin/bash", "-euo", "pipefail", "-c", readme_block(AS_COLLAB)],  # noqa: S607
        cwd="/",
        env=clean,
        capture_output=True,
        text=True,
        check=False,
    )
    assert steps.returncode == 0, steps.stdout[-3000:] + steps.stderr[-3000:]
    assert "System check identified no issues" in steps.stdout + steps.stderr

    # The services, as systemd starts them: the unit's User, folder, EnvironmentFile and command.
    logs = tmp_path

    def as_unit(unit: str, **kwargs: Any) -> Any:
        unit_env = unit_settings(unit)
        env = clean | env_file_values(unit_env["EnvironmentFile"])
        command = ["runuser", "-u", unit_env["User"], "--", *exec_start(unit, env)]
        return command, {"cwd": unit_env["WorkingDirectory"], "env": env, **kwargs}

    processes = []
    for unit in ("collab-web.service", "collab-worker.service", "collab-beat.service"):
        command, options = as_unit(unit)
        log = (logs / f"{unit}.log").open("w")
        processes.append(
            subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **options)  # noqa: S603
        )
    try:
        wait_for_port(port, processes[0], logs / "collab-web.service.log", 120)
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
        command, options = as_unit("collab-web.service")
        manage = ["runuser", "-u", "collab", "--", ".venv/bin/python", "manage.py", "shell", "-c", tell]
        subprocess.run(manage, check=True, capture_output=True, **options)  # noqa: S603
        deadline = time.monotonic() + 120
        while not smtp_server.messages:
            assert time.monotonic() < deadline, (logs / "collab-worker.service.log").read_text()[-3000:]
            time.sleep(0.3)
        assert "readme@example.com" in smtp_server.messages[0]
        # The nightly backup's unit, run once: a dated folder whose manifest lists the database.
        command, options = as_unit("collab-backup.service")
        subprocess.run(command, check=True, capture_output=True, **options)  # noqa: S603
        (folder,) = Path("/var/backups/collab").iterdir()
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}-\d{4}", folder.name)
        assert "database.jsonl" in (folder / "manifest.json").read_text()
        # Every service is still up, beat with its schedule in COLLAB_VAR_DIR.
        assert [process.poll() for process in processes] == [None, None, None]
        assert list(Path("/var/lib/collab").glob("celerybeat-schedule*"))
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            deadline = time.monotonic() + 60
            try:  # the whole group: runuser may end before gunicorn's and celery's children
                while time.monotonic() < deadline:
                    process.poll()  # reaps runuser, which would otherwise keep the group alive
                    os.killpg(process.pid, 0)
                    time.sleep(0.3)
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
    print(f"the whole test took {time.monotonic() - started:.0f} s")
