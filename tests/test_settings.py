"""Settings come from environment variables and fail loudly, in words, on bad values."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from collab import settings as collab_settings

ROOT = Path(__file__).resolve().parent.parent


def load_settings(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("COLLAB_", "DATABASE_URL"))}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import collab.settings as s; print(s.DATABASES['default']['ENGINE'], s.DEBUG)",
        ],
        cwd=ROOT,
        env={**clean, "COLLAB_VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_it_runs_with_no_variables_on_sqlite_with_debug_off(tmp_path: Path) -> None:
    result = load_settings(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "False"]


def test_the_secret_key_is_generated_once_and_readable_by_its_owner_only(tmp_path: Path) -> None:
    key = collab_settings.secret_key(None, tmp_path / "secret_key")
    assert len(key) >= 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert collab_settings.secret_key("", tmp_path / "secret_key") == key  # the next process
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no temporary file left


def test_a_short_secret_key_is_refused_in_words(tmp_path: Path) -> None:
    result = load_settings(tmp_path, COLLAB_SECRET_KEY="changeme")
    assert result.returncode != 0
    assert "COLLAB_SECRET_KEY is too short: use at least 50 random characters" in result.stderr
    assert not (tmp_path / "secret_key").exists()
    given = "k3y-Z" * 10
    assert collab_settings.secret_key(given, tmp_path / "secret_key") == given


def test_hosts_default_to_this_machine_only(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import collab.settings as s; print(s.ALLOWED_HOSTS)"],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("COLLAB_")}
        | {"COLLAB_VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "['127.0.0.1', 'localhost', '[::1]', 'testserver']"


def test_proxy_settings_are_read_in_their_usual_spelling() -> None:
    assert collab_settings.proxy_ssl_header("X-Forwarded-Proto") == ("HTTP_X_FORWARDED_PROTO", "https")
    assert collab_settings.proxy_ssl_header("") is None
    os.environ["COLLAB_TEST_PROXIES"] = "10.0.0.5, 172.16.0.0/12"
    try:
        assert [str(n) for n in collab_settings.ip_networks("COLLAB_TEST_PROXIES")] == [
            "10.0.0.5/32",
            "172.16.0.0/12",
        ]
        os.environ["COLLAB_TEST_PROXIES"] = "10.0.0.5,proxy.internal"
        with pytest.raises(ImproperlyConfigured, match=r"'proxy\.internal' is not an IP address or network"):
            collab_settings.ip_networks("COLLAB_TEST_PROXIES")
    finally:
        del os.environ["COLLAB_TEST_PROXIES"]


def test_database_url_switches_to_postgresql() -> None:
    db = collab_settings.database_from_url("postgres://app:s%40cret@db.internal:5433/collab")
    assert (db["ENGINE"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "django.db.backends.postgresql",
        "app",
        "s@cret",
        "db.internal",
        "5433",
        "collab",
    )


def test_bad_values_are_explained() -> None:
    with pytest.raises(ImproperlyConfigured, match="mysql"):
        collab_settings.database_from_url("mysql://x")
    os.environ["COLLAB_TEST_FLAG"] = "maybe"
    try:
        with pytest.raises(ImproperlyConfigured, match="not a boolean"):
            collab_settings.env_bool("COLLAB_TEST_FLAG", False)
    finally:
        del os.environ["COLLAB_TEST_FLAG"]


def test_sqlite_is_set_up_for_several_writers(tmp_path: Path) -> None:
    options = collab_settings.sqlite_database(tmp_path / "x.sqlite3")["OPTIONS"]
    assert options == {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }


def test_the_documented_production_settings_pass_djangos_deployment_check(tmp_path: Path) -> None:
    """deploy/collab.env.example, which the README has a company copy and fill in, with only the
    values the README says to fill in: no warning from `manage.py check --deploy`."""
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; a deployment never has it.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("COLLAB_", "DATABASE_URL", "CELERY_", "DJANGO_ALLOW_ASYNC_UNSAFE"))
    }
    for line in (ROOT / "deploy" / "collab.env.example").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            name, value = line.split("=", 1)
            env[name] = value
    assert env["COLLAB_SECRET_KEY"] == ""  # the README says to generate one
    env |= {
        # Model checks ask the database for its features: a local one stands in for the server.
        "DATABASE_URL": f"sqlite:///{tmp_path / 'check.sqlite3'}",
        "COLLAB_SECRET_KEY": "Zq" + "k3y-ZmX9" * 8,
        "COLLAB_VAR_DIR": str(tmp_path),
        "COLLAB_MEDIA_ROOT": str(tmp_path / "media"),
        "COLLAB_STATIC_ROOT": str(tmp_path / "static"),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.django_db
def test_postgresql_connections_run_without_jit() -> None:
    """Dashboards' ranking queries have large estimates; JIT compiled them for seconds (bench/)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("JIT is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)
