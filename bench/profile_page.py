"""Profiles one page of bench/run in this process (DEBUG off, the loaded company): the top of
cProfile's cumulative list and the page's SQL time, for RESULTS.md's excerpts.

    python bench/profile_page.py register_department
"""

import cProfile
import importlib.machinery
import importlib.util
import io
import pstats
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
loader = importlib.machinery.SourceFileLoader("bench_run", str(HERE / "run"))
spec = importlib.util.spec_from_loader("bench_run", loader)
if spec is None:
    raise SystemExit("cannot load bench/run")
run = importlib.util.module_from_spec(spec)
loader.exec_module(run)


def main() -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    name = sys.argv[1]
    user, path = run.pages(run.pick_people())[name]
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    client.get(path)  # warm: templates, calendars, translations
    with CaptureQueriesContext(connection) as queries:
        profile = cProfile.Profile()
        began, cpu = time.monotonic(), time.process_time()
        profile.enable()
        response = client.get(path)
        profile.disable()
        wall, cpu = time.monotonic() - began, time.process_time() - cpu
    sql_ms = sum(float(q["time"]) for q in queries.captured_queries) * 1000
    print(
        f"{name}: status {response.status_code}, {wall * 1000:.0f} ms wall, {cpu * 1000:.0f} ms app CPU, "
        f"{len(queries)} queries, {sql_ms:.0f} ms in SQL (profiled, so slower than unprofiled)"
    )
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(18)
    print("\n".join(line[:150] for line in out.getvalue().splitlines()[6:]))


if __name__ == "__main__":
    main()
