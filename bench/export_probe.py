"""Streams the register export from the production server and measures what a person and the
server feel: time to the first byte, total time, the worker's peak memory above idle while
streaming, and its memory two seconds after (given back or kept).

    python bench/export_probe.py                   # as the member of the big department
    python bench/export_probe.py --user bench-p00000
    python bench/export_probe.py --background      # the worker's side, in this process

The streamed request is what a web worker does for an export under COLLAB_EXPORT_BACKGROUND_ROWS;
to time a larger one streamed, raise it (COLLAB_EXPORT_BACKGROUND_ROWS=1000000). ``--background``
writes the export as a Celery worker does (``export_build``), in this process, inside a
transaction rolled back at the end (the exports table is created in it if the bench database
predates it): CPU, wall time, peak memory above the process's idle size and what is left two
seconds after.

Uses bench/run's helpers (login through the form, /proc readings) and one gunicorn sync worker.
"""

import argparse
import importlib.machinery
import importlib.util
import os
import signal
import threading
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
loader = importlib.machinery.SourceFileLoader("bench_run", str(HERE / "run"))
spec = importlib.util.spec_from_loader("bench_run", loader)
if spec is None:
    raise SystemExit("cannot load bench/run")
run = importlib.util.module_from_spec(spec)
loader.exec_module(run)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--user", help="login name (default: bench/run's member of the big department)")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--background", action="store_true", help="time the worker's side in this process")
    options = parser.parse_args()
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from requests_app.selectors import visible_items

    user = (
        get_user_model().objects.get(username=options.user) if options.user else run.pick_people()["member"]
    )
    rows = visible_items(user).exclude(status="draft").count()
    if options.background:
        background(user, rows)
        return
    env = {
        **os.environ,
        "COLLAB_DEBUG": "false",
        "COLLAB_SECRET_KEY": "bench-" + "x" * 50,
        "COLLAB_SECURE_COOKIES": "false",
        "COLLAB_LOG_LEVEL": "WARNING",
        "COLLAB_ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    server = run.start_server("collab.wsgi:application", options.port, 1, env)
    try:
        base = f"http://127.0.0.1:{options.port}"
        cookie = run.login(base, user.username)
        worker = run.children(server.pid)
        # A fresh worker's first page loads URL patterns, templates and catalogues (2 s at load
        # 12): one register page first, so the first byte is the export's own.
        warm = urllib.request.Request(  # noqa: S310 - our own http URL
            f"{base}{reverse('requests_app:register')}", headers={"Cookie": cookie}
        )
        urllib.request.urlopen(warm, timeout=120).read()  # noqa: S310 - our own http URL
        idle = run.rss_mb(worker)
        peak = [idle]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], run.rss_mb(worker))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        cpu_before = run.process_cpu(worker)
        load = os.getloadavg()[0]
        began = time.monotonic()
        request = urllib.request.Request(  # noqa: S310 - our own http URL
            f"{base}{reverse('requests_app:register_export')}", headers={"Cookie": cookie}
        )
        size = 0
        with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310 - our own http URL
            headers_at = time.monotonic() - began
            first = response.read(1)
            first_byte = time.monotonic() - began
            size = len(first)
            while chunk := response.read(1 << 16):
                size += len(chunk)
        total = time.monotonic() - began
        cpu = run.process_cpu(worker) - cpu_before
        done.set()
        time.sleep(2)
        after = run.rss_mb(worker)
        print(f"{user.username} sees {rows:,} rows; load {load:.1f}")
        print(
            f"headers {headers_at * 1000:.0f} ms, first byte {first_byte * 1000:.0f} ms, "
            f"total {total:.1f} s, worker CPU {cpu:.1f} s, {size / 1e6:.1f} MB"
        )
        print(
            f"worker RSS idle {idle:.0f} MB, peak {peak[0]:.0f} MB (+{peak[0] - idle:.0f}), "
            f"2 s after {after:.0f} MB"
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait()


def background(user: object, rows: int) -> None:
    """``export_build`` of the register for ``user``, rolled back."""
    from django.db import connection, transaction
    from django.utils import translation

    from collab.exports.builder import export_build
    from collab.exports.models import Export

    class Rollback(Exception):
        pass

    me = [os.getpid()]
    try:
        with transaction.atomic():
            if Export._meta.db_table not in connection.introspection.table_names():
                with connection.schema_editor() as editor:
                    editor.create_model(Export)
            export = Export.objects.create(
                kind="register",
                query="",
                file_name="probe.xlsx",
                requested_by=user,
                language="zh-hans",
                zone="Asia/Shanghai",
            )
            idle = run.rss_mb(me)
            peak = [idle]
            done = threading.Event()

            def sample() -> None:
                while not done.is_set():
                    peak[0] = max(peak[0], run.rss_mb(me))
                    time.sleep(0.05)

            threading.Thread(target=sample, daemon=True).start()
            load = os.getloadavg()[0]
            cpu, began = time.process_time(), time.monotonic()
            with translation.override("zh-hans"):
                built = export_build(export_id=export.pk)
            cpu, wall = time.process_time() - cpu, time.monotonic() - began
            done.set()
            time.sleep(2)
            after = run.rss_mb(me)
            print(
                f"{user} sees {rows:,} rows; load {load:.1f}; "
                f"export {built.status}, {built.rows_total:,} rows"
            )
            print(
                f"worker side: {cpu:.1f} s CPU ({cpu / max(rows, 1) * 1000:.3f} ms per row), "
                f"{wall:.1f} s wall"
            )
            print(
                f"process RSS before {idle:.0f} MB, peak {peak[0]:.0f} MB (+{peak[0] - idle:.0f}), "
                f"2 s after {after:.0f} MB (+{after - idle:.0f})"
            )
            if built.file:
                built.file.storage.delete(built.file.name)
            raise Rollback
    except Rollback:
        pass


if __name__ == "__main__":
    main()
