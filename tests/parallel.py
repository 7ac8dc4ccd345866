"""Loaded first (``-p tests.parallel`` in pytest.ini): each pytest-xdist worker gets a message
broker of its own, before Django reads its settings.

A real Celery worker started by one test process would otherwise take the tasks another test
process queued, and run them against the wrong test database. The test databases themselves are
apart already: pytest-django names them per xdist worker (test_collab_gw0, ...) and SQLite's
test file carries the process id. Redis brokers get a database number each (the one given, then
the ones below it); the filesystem broker a folder each (var/broker-gw0, ...).
"""

import os
import re
from pathlib import Path

_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker.startswith("gw"):
    _index = int(_worker[2:])
    _broker = os.environ.get("CELERY_BROKER_URL", "")
    if _broker.startswith("redis://"):
        _match = re.fullmatch(r"(redis://[^/]+)(?:/(\d+))?", _broker)
        if _match is None:
            raise ValueError(f"CELERY_BROKER_URL: cannot give each test worker a database of {_broker}")
        _number = int(_match.group(2) or 0) - _index
        if _number < 0:
            raise ValueError(
                f"CELERY_BROKER_URL: no Redis database below {_broker} for test worker {_worker}"
            )
        os.environ["CELERY_BROKER_URL"] = f"{_match.group(1)}/{_number}"
    elif not _broker or _broker.startswith("filesystem://"):
        _var = Path(os.environ.get("COLLAB_VAR_DIR", Path(__file__).resolve().parent.parent / "var"))
        os.environ["COLLAB_BROKER_DIR"] = str(_var / f"broker-{_worker}")
