"""App CPU, queries and SQL time of My work, the dashboards and the timeline, in this process,
against the loaded company (DEBUG off), and EXPLAIN ANALYZE of each page's slowest queries.

    python bench/dashboard_probe.py                  # every page, 5 runs each
    python bench/dashboard_probe.py --explain 2      # and the plans of each page's 2 slowest queries
    python bench/dashboard_probe.py --pages my_work,timeline
    python bench/dashboard_probe.py --pages my_work --open-tasks 800 --queries   # the issue's person
    python bench/dashboard_probe.py --pages timeline --timeline-tasks 500
    python bench/dashboard_probe.py --pages coordinator_tasks,department_tasks   # full lists

The people are bench/run's (the task owner with most tasks, the busiest coordinator, the head of
the largest department). Everything runs inside one transaction that is rolled back, the login
session and --missing-indexes included: the benchmark database is shared and read-only.
"""

import argparse
import importlib.machinery
import importlib.util
import statistics
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
loader = importlib.machinery.SourceFileLoader("bench_run", str(HERE / "run"))
spec = importlib.util.spec_from_loader("bench_run", loader)
if spec is None:
    raise SystemExit("cannot load bench/run")
run = importlib.util.module_from_spec(spec)
loader.exec_module(run)

PAGES = ("my_work", "coordinator_dashboard", "department_dashboard", "timeline")
# The boards' full, paged lists (page 1), measured when named in --pages.
LIST_PAGES = (
    "coordinator_tasks",
    "coordinator_problems",
    "coordinator_reviews",
    "coordinator_gaps",
    "department_tasks",
    "department_people",
    "department_measures",
    "department_items",
)


def list_pages(people: dict[str, Any]) -> dict[str, tuple[Any, str]]:
    """The boards' full lists: the coordinator's for bench/run's coordinator, the department's
    for the head of the largest department."""
    from django.urls import reverse

    department = f"?department={people['department'].pk}"
    pages = {
        f"coordinator_{name}": (people["coordinator"], reverse("dashboards:coordinator_list", args=[name]))
        for name in ("tasks", "problems", "reviews", "gaps")
    }
    for name in ("tasks", "people", "measures"):
        pages[f"department_{name}"] = (
            people["head"],
            reverse("dashboards:department_list", args=[name]) + department,
        )
    pages["department_items"] = (people["head"], reverse("dashboards:department_items") + department)
    return pages


class Rollback(Exception):
    pass


def probe(name: str, user: Any, path: str, runs: int, explain: int, profile: int, show: bool = False) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    response = client.get(path)  # warm: templates, calendars, translations
    if response.status_code != 200:
        raise SystemExit(f"{name}: status {response.status_code}")
    cpus, walls, sqls = [], [], []
    slowest: list[dict[str, str]] = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            began, cpu = time.monotonic(), time.process_time()
            response = client.get(path)
            walls.append((time.monotonic() - began) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
        sqls.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
        slowest = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:explain]
    if show:
        for query in queries.captured_queries:
            print(f"  {float(query['time']) * 1000:7.1f} ms  {query['sql'][:150]}")
    print(
        f"| {name} | {user.username} | {len(queries)} | {statistics.median(cpus):.1f} | "
        f"{statistics.median(sqls):.1f} | {statistics.median(walls):.1f} | {len(response.content) // 1024} |"
    )
    if profile:
        import cProfile
        import io
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        client.get(path)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(profile)
        print("\n```\n" + "\n".join(line[:160] for line in out.getvalue().splitlines()[6:]) + "\n```\n")
    for query in slowest:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query['sql']}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        took = float(query["time"]) * 1000
        print(f"\n#### {name}: {took:.1f} ms\n\n```\n{query['sql'][:600]} …\n\n{plan}\n```\n")


def add_missing_indexes() -> None:
    """The indexes the models declare and the database lacks (migrations not applied to the
    shared benchmark database), created inside the probe's transaction and rolled back with it."""
    from django.apps import apps
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes")
        present = {row[0] for row in cursor.fetchall()}
    with connection.schema_editor(atomic=False) as editor:
        for model in apps.get_models():
            for index in model._meta.indexes:
                if index.name not in present:
                    began = time.monotonic()
                    editor.add_index(model, index)
                    print(
                        f"(created {index.name} in {time.monotonic() - began:.1f} s, rolled back afterwards)"
                    )


def add_tasks(item: Any, wanted: int) -> None:
    """Copies of the item's first task until it has ``wanted``, over half a year of deadlines
    (inside the probe's transaction, rolled back with it)."""
    from datetime import timedelta

    from tasks_app.models import Task

    tasks = list(Task.objects.filter(item=item).order_by("pk"))
    model = tasks[0]
    copies = []
    for n in range(wanted - len(tasks)):
        copy = Task(
            **{f.attname: getattr(model, f.attname) for f in Task._meta.concrete_fields if not f.primary_key}
        )
        copy.name = f"{model.name} {n}"
        copy.source_todo_id = None
        copy.deadline = model.deadline + timedelta(days=n % 180 - 90)
        copies.append(copy)
    Task.objects.bulk_create(copies)
    print(f"(the timeline's item {item.number} now has {wanted} tasks, rolled back afterwards)")


def add_open_tasks(owner: Any, wanted: int) -> None:
    """Copies of one of the owner's open tasks on a live item, until the owner has ``wanted`` open
    tasks on live items, deadlines over a year around today (inside the probe's transaction,
    rolled back with it): the issue's "person with 800 open tasks"."""
    from datetime import timedelta

    from django.utils import timezone

    from tasks_app.models import Task, TaskStatus

    # Not done: on a live item (the database's open-task guard).
    live = Task.objects.filter(owner=owner).exclude(status=TaskStatus.DONE)
    have = live.count()
    model = live.order_by("pk").first()
    if model is None:
        raise SystemExit(f"{owner.username} has no open task on a live item to copy")
    today = timezone.localdate()
    copies = []
    for n in range(wanted - have):
        copy = Task(
            **{f.attname: getattr(model, f.attname) for f in Task._meta.concrete_fields if not f.primary_key}
        )
        copy.name = f"{model.name} {n}"
        copy.source_todo_id = None
        copy.deadline = today + timedelta(days=n % 365 - 120)
        copies.append(copy)
    Task.objects.bulk_create(copies)
    print(f"({owner.username} now has {max(have, wanted)} open tasks, {have} before; rolled back afterwards)")


def main() -> None:
    from django.db import connection, transaction

    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", default=",".join(PAGES))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--explain", type=int, default=0)
    parser.add_argument("--profile", type=int, default=0, help="print this many lines of a cProfile")
    parser.add_argument("--set", action="append", default=[], help="SET LOCAL name=value, e.g. jit=on")
    parser.add_argument(
        "--timeline-tasks", type=int, default=0, help="give the timeline's item this many tasks"
    )
    parser.add_argument(
        "--open-tasks", type=int, default=0, help="give My work's person this many open tasks on live items"
    )
    parser.add_argument("--queries", action="store_true", help="print each query of the last run")
    parser.add_argument("--missing-indexes", action="store_true", help="create them, rolled back")
    args = parser.parse_args()
    print("| page | person | queries | app CPU ms (median) | SQL ms (median) | wall ms (median) | KB |")
    print("|---|---|---|---|---|---|---|")
    try:
        with transaction.atomic():
            for setting in args.set:
                name, value = setting.split("=", 1)
                with connection.cursor() as cursor:
                    cursor.execute(f"SET LOCAL {name} = %s", [value])
            if args.missing_indexes:
                add_missing_indexes()
            people = run.pick_people()
            if args.open_tasks:
                add_open_tasks(people["owner"], args.open_tasks)
            if args.timeline_tasks:
                add_tasks(people["item"], args.timeline_tasks)
            pages = {**run.pages(people), **list_pages(people)}
            for name in args.pages.split(","):
                user, path = pages[name]
                probe(name, user, path, args.runs, args.explain, args.profile, args.queries)
            raise Rollback
    except Rollback:
        pass


if __name__ == "__main__":
    main()
