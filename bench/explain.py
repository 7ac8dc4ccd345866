"""EXPLAIN ANALYZE (PostgreSQL) of each register query shape, for a member of the largest department.

    python bench/explain.py > explains.txt

Each shape is the register's own queryset (register_items) for one filter: the COUNT the pager
runs and the page of 25 rows it shows.
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
from requests_app.selectors import estimated_count, register_items, visible_items  # noqa: E402
from requests_app.views import COUNT_CAP  # noqa: E402

PAGE = 25


def main() -> None:
    big = Department.objects.annotate(n=Count("members")).order_by("-n").first()
    if big is None:
        raise SystemExit("Load a company first: bench/generate.py")
    user = big.members.select_related("user").order_by("pk")[1].user
    print(
        f"# {connection.vendor}; {user.username} of {big.name} sees {visible_items(user).count():,} items\n"
    )
    shapes = {
        "unfiltered": {},
        "department": {"department": big},
        "status": {"status": "executing"},
        "period": {"submitted_from": date(2026, 1, 1), "submitted_to": date(2026, 6, 30)},
        "text": {"q": "支付"},
        # pg_trgm finds words of 3+ characters through its index; 2 are scanned.
        "text, 4 characters": {"q": "支付系统"},
        "text, rare words": {"q": "故障处理1234"},
        "deadline sort": {"sort": "deadline"},
    }
    for name, filters in shapes.items():
        items = register_items(user, filters)
        with CaptureQueriesContext(connection) as queries:
            exact = items.order_by()[: COUNT_CAP + 1].count()  # the register's capped count
        if exact > COUNT_CAP:
            print(f"## {name}: past the cap, the planner estimates {estimated_count(items):,} rows\n")
        with CaptureQueriesContext(connection) as page:
            list(items[:PAGE])
        for label, sql in (
            (f"{name}: COUNT (capped at {COUNT_CAP + 1} rows)", queries[-1]["sql"]),
            (f"{name}: page of {PAGE}", page[0]["sql"]),
        ):
            print(f"## {label}\n\n```\n{sql}\n\n")
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                print("\n".join(row[0] for row in cursor.fetchall()))
            print("```\n")


if __name__ == "__main__":
    main()
