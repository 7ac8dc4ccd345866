"""Profiles one page of bench/run in this process (DEBUG off, the loaded company): the top of
cProfile's cumulative list and the page's SQL time, for RESULTS.md's excerpts.

    python bench/profile_page.py register_department

With --repeat N, no profiler: each page named (comma-separated) is requested N times in turn and
the app CPU (``time.process_time``, the client's share of the database driver included), the
wall time, the queries and their time are printed, min and median per page:

    python bench/profile_page.py register,register_period --repeat 15
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
    if "--repeat" in sys.argv:
        repeat(name.split(","), int(sys.argv[sys.argv.index("--repeat") + 1]))
        return
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


def repeat(names: list[str], times: int) -> None:
    import os
    import statistics

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    pages = run.pages(run.pick_people())
    clients = {}
    for name in names:
        user, path = pages[name]
        clients[name] = client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        client.get(path)  # warm
    cpu_wall: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    sql: dict[str, list[tuple[int, float]]] = {name: [] for name in names}
    for turn in range(times + max(times // 3, 1)):
        for name in names:  # in turn, so every page meets the same moments of the machine
            path = pages[name][1]
            if turn < times:  # CPU and wall time without recording the SQL (which costs CPU)
                began, cpu = time.monotonic(), time.process_time()
                response = clients[name].get(path)
                cpu_wall[name].append(((time.process_time() - cpu) * 1000, (time.monotonic() - began) * 1000))
            else:
                with CaptureQueriesContext(connection) as queries:
                    response = clients[name].get(path)
                sql[name].append(
                    (len(queries), sum(float(q["time"]) for q in queries.captured_queries) * 1000)
                )
            if response.status_code != 200:
                raise SystemExit(f"{name}: status {response.status_code}")
    print(f"load average {os.getloadavg()[0]:.1f}; {times} requests per page, in turn")
    print("| page | app CPU ms min | median | wall ms min | median | queries | SQL ms median (client side) |")
    print("|---|---|---|---|---|---|---|")
    for name in names:
        cpus, walls = zip(*cpu_wall[name], strict=True)
        counts, sqls = zip(*sql[name], strict=True)
        print(
            f"| {name} | {min(cpus):.1f} | {statistics.median(cpus):.1f} | {min(walls):.1f} | "
            f"{statistics.median(walls):.1f} | {max(counts)} | {statistics.median(sqls):.1f} |"
        )


if __name__ == "__main__":
    main()
