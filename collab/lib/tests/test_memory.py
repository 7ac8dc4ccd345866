"""A web worker settles its garbage collector after its first requests (collab.lib.memory.settle,
called by deploy/gunicorn.conf.py): what it keeps is frozen for good, and an export afterwards
leaves it settled, its own garbage collected. Each check runs in a fresh Python process: a
freeze cannot be undone for one object and would stay with the test process."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def run(code: str) -> None:
    done = subprocess.run(  # noqa: S603 (this file's own code)
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr


def test_a_settled_process_keeps_its_objects_frozen_through_an_export() -> None:
    run(
        """
import gc, weakref
from collab.lib import memory

class Node:
    pass

before = gc.get_freeze_count()
kept = [Node() for _ in range(1000)]
memory.settle()
settled = gc.get_freeze_count()
assert settled >= before + 1000, (before, settled)
memory.settle()  # once per process
assert gc.get_freeze_count() == settled

with memory.collector_at_rest():  # an export
    looped = Node()
    looped.me = looped
    gone = weakref.ref(looped)
    del looped
assert gone() is None  # the export's cycles were collected, not frozen
assert gc.get_freeze_count() >= settled  # and the process is settled again
"""
    )


def test_without_settling_an_export_leaves_nothing_frozen() -> None:
    run(
        """
import gc
from collab.lib import memory

with memory.collector_at_rest():
    assert gc.get_freeze_count() > 0
assert gc.get_freeze_count() == 0
"""
    )


def test_the_production_server_settles_a_process_after_its_first_requests() -> None:
    run(
        """
import gc, runpy
from types import SimpleNamespace

config = runpy.run_path("deploy/gunicorn.conf.py")
after = config["SETTLE_AFTER_REQUESTS"]
assert 10 <= after <= 1000, after
before = gc.get_freeze_count()
worker = SimpleNamespace(nr=after - 1)
config["post_request"](worker, None, {}, None)
assert gc.get_freeze_count() == before
worker.nr = after
config["post_request"](worker, None, {}, None)
assert gc.get_freeze_count() > before + 1000
"""
    )
