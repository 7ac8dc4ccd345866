"""Streams the register export from the production server and measures what a person and the
server feel: time to the first byte, total time, the worker's peak memory above idle while
streaming, and its memory two seconds after (given back or kept).

    python bench/export_probe.py                   # as the member of the big department
    python bench/export_probe.py --user bench-p00000

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
    options = parser.parse_args()
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from requests_app.selectors import visible_items

    user = (
        get_user_model().objects.get(username=options.user) if options.user else run.pick_people()["member"]
    )
    rows = visible_items(user).exclude(status="draft").count()
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
            f"first byte {first_byte * 1000:.0f} ms, total {total:.1f} s, worker CPU {cpu:.1f} s, "
            f"{size / 1e6:.1f} MB"
        )
        print(
            f"worker RSS idle {idle:.0f} MB, peak {peak[0]:.0f} MB (+{peak[0] - idle:.0f}), "
            f"2 s after {after:.0f} MB"
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait()


if __name__ == "__main__":
    main()
