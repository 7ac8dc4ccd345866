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


def test_it_runs_with_no_variables_on_sqlite(tmp_path: Path) -> None:
    result = load_settings(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True"]


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    result = load_settings(tmp_path, COLLAB_DEBUG="false")
    assert result.returncode != 0
    assert "COLLAB_SECRET_KEY must be set" in result.stderr


def test_production_needs_its_host_names(tmp_path: Path) -> None:
    result = load_settings(tmp_path, COLLAB_DEBUG="false", COLLAB_SECRET_KEY="x" * 50)
    assert "COLLAB_ALLOWED_HOSTS" in result.stderr


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
