"""The process around a long export: the garbage collector kept off the process's own objects
while it runs, and the memory it used given back to the system when it ends.

- A long export makes millions of short-lived rows, tuples and strings. Every so many of them
  Python's collector walks the older objects looking for cycles: in a web worker that is the
  whole of Django, hundreds of thousands of objects, again and again (about a third of an
  export's CPU). ``collector_at_rest`` freezes the objects that exist when the export starts
  (``gc.freeze``: they are left out of collections, as the documentation suggests after start-up)
  and unfreezes them when the last export running in the process ends. New objects are
  collected as before.
- What a long export used stays with the process after it ends: the C library keeps freed
  blocks for reuse rather than returning them. ``give_back`` collects the export's cycles and
  asks glibc to return what is free (``malloc_trim``); elsewhere (musl, macOS) only the former.
- A web worker, once it has served its first requests, keeps what it built (Django, the URL
  patterns, templates, translations, compiled statements): ``settle`` freezes it for good. A
  full collection walked all of it, 150-230 ms of CPU with the GIL held, stalling the worker's
  every thread once every few hundred requests (the 8-user p99; bench/RESULTS.md, run 8).
  After an export in a settled process the collector is settled again (what the export left
  collected first), not set back to freezing nothing.
"""

import ctypes
import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_running = 0  # exports running in this process (a web worker may run several in its threads)
_settled = False  # ``settle`` has run in this process


def settle() -> None:
    """Collects once, then leaves every object alive now out of later collections (once per
    process: the gunicorn worker calls it after its first requests, deploy/gunicorn.conf.py)."""
    global _settled
    with _lock:
        if _settled:
            return
        _settled = True
        if _running == 0:
            gc.collect()
            gc.freeze()


@contextmanager
def collector_at_rest() -> Iterator[None]:
    """The collector leaves the objects that exist now alone until the block ends."""
    global _running
    with _lock:
        if _running == 0:
            gc.freeze()
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0:
                gc.unfreeze()
                if _settled:
                    gc.collect()
                    gc.freeze()


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None  # not glibc: nothing to ask


_trim = _malloc_trim()


def give_back() -> None:
    """Frees the cycles left behind and returns the free memory to the system (about 0.1 s in
    a web worker: after long exports only)."""
    gc.collect()
    if _trim is not None:
        _trim(0)
