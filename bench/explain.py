"""EXPLAIN ANALYZE (PostgreSQL) of each register query shape, for a member of the largest department.

    python bench/explain.py > explains.txt

Each shape is the register's own path (register_items, then register_page; deep pages are
reached as the pager's Next and Previous links reach them, by the boundary row's sort values):
every statement the page runs for its rows is captured and run again under EXPLAIN ANALYZE; the
summary gives each statement's planning and execution time and the shape's SQL in all, then the
plans of the page's ids query (the one that filters and sorts), of the task lines and of any
COUNT. The estimate's EXPLAIN costs its planning time (EXPLAIN SUMMARY).
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
from typing import Any  # noqa: E402

from django.db import connection  # noqa: E402
from django.db.models import Count, QuerySet  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from collab.org.models import Department  # noqa: E402
from requests_app.models import CollaborationItem  # noqa: E402
from requests_app.register_keyset import cursor_of, sort_keys  # noqa: E402
from requests_app.register_pages import PAGE_SIZE, Place, register_page  # noqa: E402
from requests_app.selectors import register_items, visible_items  # noqa: E402


def label(sql: str) -> str:
    if sql.startswith("EXPLAIN"):
        return "the planner's estimate (EXPLAIN, no rows read)"
    if "COUNT(" in sql[:40]:
        return "exact COUNT (capped)"
    if sql.startswith("SELECT EXISTS (SELECT 1 FROM"):
        return "the period's guard (items numbered off their month)"
    if sql.startswith("SELECT i.id, i.number"):
        return "the page's rows: one statement"
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


def cursor_place(items: QuerySet[CollaborationItem], number: int) -> Place:
    """Where the link to page ``abs(number)`` points: Next from the page before it (after that
    page's last row) or, for a negative number, Previous from the page after it (before that
    page's first row). Found by OFFSET here, outside the measured statements."""
    keys = sort_keys(items)
    names = [key.name for key in keys]
    if number > 0:
        start = (number - 1) * PAGE_SIZE
        return Place(after=cursor_of(items.values_list(*names)[start - 1]), at=start)
    start = (-number - 1) * PAGE_SIZE
    return Place(before=cursor_of(items.values_list(*names)[start + PAGE_SIZE]), at=start)


def main() -> None:
    big = Department.objects.annotate(n=Count("members")).order_by("-n").first()
    if big is None:
        raise SystemExit("Load a company first: bench/generate.py")
    user = big.members.select_related("user").order_by("pk")[1].user
    print(
        f"# {connection.vendor}; {user.username} of {big.name} sees {visible_items(user).count():,} items; "
        f"load average {os.getloadavg()[0]:.1f}\n"
    )
    shapes: dict[str, tuple[dict[str, Any], Place | int]] = {
        "unfiltered": ({}, Place()),
        "department": ({"department": big}, Place()),
        "status": ({"status": "executing"}, Place()),
        "period": ({"submitted_from": date(2026, 1, 1), "submitted_to": date(2026, 6, 30)}, Place()),
        "text": ({"q": "支付"}, Place()),
        # pg_trgm finds words of 3+ characters through its index; 2 are scanned.
        "text, 4 characters": ({"q": "支付系统"}, Place()),
        "text, rare words": ({"q": "故障处理1234"}, Place()),
        "deadline sort": ({"sort": "deadline"}, Place()),
        "unfiltered, page 10 by number (OFFSET)": ({}, Place(number=10)),
        # Keyset: the Next link of page 999 (its last row's sort values), and Previous from there.
        "unfiltered, page 1,000 by Next": ({}, 1000),
        "unfiltered, page 999 by Previous": ({}, -1000),
        "period, page 200 by Next": (
            {"submitted_from": date(2026, 1, 1), "submitted_to": date(2026, 6, 30)},
            200,
        ),
        "status, page 500 by Next": ({"status": "executing"}, 500),
        "deadline sort, page 1,000 by Next": ({"sort": "deadline"}, 1000),
        "status sort, page 1,000 by Next": ({"sort": "status"}, 1000),
    }
    plans = []
    print("| shape | shown count | statement | planning ms | execution ms |")
    print("|---|---|---|---|---|")
    for name, (filters, where) in shapes.items():
        items = register_items(user, filters)
        place = where if isinstance(where, Place) else cursor_place(items, where)
        with CaptureQueriesContext(connection) as queries:
            page = register_page(items, place)
        total = 0.0
        shown = f"{'about ' if page.estimated else 'more than ' if page.at_least else ''}{page.count:,}"
        for query in queries.captured_queries:
            sql = query["sql"]
            planning, execution, lines = analyze(sql)
            total += planning + execution
            print(f"| {name} | {shown} | {label(sql)} | {planning:.1f} | {execution:.1f} |")
            if lines and label(sql) in (
                "the page's ids",
                "the page's rows: one statement",
                "the period's guard (items numbered off their month)",
                "exact COUNT (capped)",
                "the page's rows: tasks_app_task",
            ):
                plans.append((f"{name}: {label(sql)}", sql, lines))
        print(f"| **{name}** | | **all SQL (planning + execution)** | | **{total:.1f}** |")
    for title, sql, lines in plans:
        print(f"\n#### {title}\n\n```\n{sql[:300]} …\n\n" + "\n".join(lines) + "\n```")


if __name__ == "__main__":
    main()
