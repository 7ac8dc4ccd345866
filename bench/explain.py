"""EXPLAIN ANALYZE (PostgreSQL) of each register query shape, for a member of the largest department.

    python bench/explain.py > explains.txt

Each shape is the register's own path (register_items, then register_page): every statement the
page runs for its rows is captured and run again under EXPLAIN ANALYZE; the summary gives each
statement's planning and execution time and the shape's SQL in all, then the plans of the page's
ids query (the one that filters and sorts), of the task lines and of any COUNT. The estimate's
EXPLAIN costs its planning time (EXPLAIN SUMMARY).
Read-only: nothing is written.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collab.settings")

import django

django.setup()

from datetime import date  # noqa: E402

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from collab.org.models import Department  # noqa: E402
from requests_app.register_pages import register_page  # noqa: E402
from requests_app.selectors import register_items, visible_items  # noqa: E402


def label(sql: str) -> str:
    if sql.startswith("EXPLAIN"):
        return "the planner's estimate (EXPLAIN, no rows read)"
    if "COUNT(" in sql[:40]:
        return "exact COUNT (capped)"
    table = sql.split(" FROM ", 1)[1].split()[0].strip('"')
    if table == "requests_app_collaborationitem":
        return "the page's rows: values" if "ANY(" in sql or '."id" IN (' in sql else "the page's ids"
    return f"the page's rows: {table}"


def analyze(sql: str) -> tuple[float, float, list[str]]:
    """(planning ms, execution ms, plan lines) of one captured statement."""
    if sql.startswith("EXPLAIN"):
        # The estimate plans the query without running it: its cost is the planning time.
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (SUMMARY ON) " + sql.split(")", 1)[1])
            lines = [row[0] for row in cursor.fetchall()]
        return next(float(x.split()[2]) for x in lines if x.startswith("Planning Time")), 0.0, []
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        lines = [row[0] for row in cursor.fetchall()]
    planning = next(float(x.split()[2]) for x in lines if x.startswith("Planning Time"))
    execution = next(float(x.split()[2]) for x in lines if x.startswith("Execution Time"))
    return planning, execution, lines


def main() -> None:
    big = Department.objects.annotate(n=Count("members")).order_by("-n").first()
    if big is None:
        raise SystemExit("Load a company first: bench/generate.py")
    user = big.members.select_related("user").order_by("pk")[1].user
    print(
        f"# {connection.vendor}; {user.username} of {big.name} sees {visible_items(user).count():,} items; "
        f"load average {os.getloadavg()[0]:.1f}\n"
    )
    shapes = {
        "unfiltered": ({}, 1),
        "department": ({"department": big}, 1),
        "status": ({"status": "executing"}, 1),
        "period": ({"submitted_from": date(2026, 1, 1), "submitted_to": date(2026, 6, 30)}, 1),
        "text": ({"q": "支付"}, 1),
        # pg_trgm finds words of 3+ characters through its index; 2 are scanned.
        "text, 4 characters": ({"q": "支付系统"}, 1),
        "text, rare words": ({"q": "故障处理1234"}, 1),
        "deadline sort": ({"sort": "deadline"}, 1),
        "unfiltered, page 40": ({}, 40),
    }
    plans = []
    print("| shape | shown count | statement | planning ms | execution ms |")
    print("|---|---|---|---|---|")
    for name, (filters, number) in shapes.items():
        items = register_items(user, filters)
        with CaptureQueriesContext(connection) as queries:
            page = register_page(items, number)
        total = 0.0
        shown = f"{'about ' if page.estimated else 'more than ' if page.at_least else ''}{page.count:,}"
        for query in queries.captured_queries:
            sql = query["sql"]
            planning, execution, lines = analyze(sql)
            total += planning + execution
            print(f"| {name} | {shown} | {label(sql)} | {planning:.1f} | {execution:.1f} |")
            if lines and label(sql) in (
                "the page's ids",
                "exact COUNT (capped)",
                "the page's rows: tasks_app_task",
            ):
                plans.append((f"{name}: {label(sql)}", sql, lines))
        print(f"| **{name}** | | **all SQL (planning + execution)** | | **{total:.1f}** |")
    for title, sql, lines in plans:
        print(f"\n#### {title}\n\n```\n{sql[:300]} …\n\n" + "\n".join(lines) + "\n```")


if __name__ == "__main__":
    main()
