"""The warning/escalation sweep over every task open at once, inside a transaction rolled back at
the end (the loaded company is left as it was).

    python bench/sweep_probe.py

1. Mark every task open (in progress) and give each a pending warning: two thirds due now (in the
   last 30 days), the rest due over the next 30 days, like a company's planned alerts.
2. EXPLAIN ANALYZE the sweep's due-row query, then run ``sweep_alerts`` batches (500 each, as the
   beat does every 5 minutes) and report the time and CPU per batch and per warning sent.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collab.settings")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from tasks_app.alerts import sweep_alerts  # noqa: E402
from tasks_app.models import Alert, Task  # noqa: E402

BATCHES = 3


class Rollback(Exception):
    pass


def main() -> None:
    print(f"load {os.getloadavg()[0]:.1f}")
    try:
        with transaction.atomic():
            began = time.monotonic()
            with connection.cursor() as cursor:
                cursor.execute("UPDATE tasks_app_task SET status = 'in_progress', percent_done = 30")
                cursor.execute(
                    "INSERT INTO tasks_app_alert (kind, step, deadline, due_at, created_at, task_id) "
                    "SELECT 'overdue', 0, deadline, "
                    "now() + ((id % 3 - 1) * interval '1 day') * (1 + id % 30), now(), id FROM tasks_app_task"
                )
                cursor.execute("ANALYZE tasks_app_alert")
            print(
                f"prepared {Task.objects.count():,} open tasks, {Alert.objects.count():,} pending warnings, "
                f"{Alert.objects.filter(due_at__lte=timezone.now()).count():,} due now, "
                f"in {time.monotonic() - began:.0f} s"
            )
            now = timezone.now()
            query = (
                Alert.objects.filter(sent_at=None, cancelled_at=None, due_at__lte=now)
                .order_by("due_at", "pk")
                .values_list("pk", flat=True)[:500]
            )
            sql, params = query.query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
                print("\n".join(row[0] for row in cursor.fetchall()))
            for _batch in range(BATCHES):
                wall, cpu = time.monotonic(), time.process_time()
                sent = sweep_alerts(now=now)
                wall, cpu = time.monotonic() - wall, time.process_time() - cpu
                print(
                    f"sweep batch: {sent} sent in {wall:.2f} s wall, {cpu:.2f} s app CPU "
                    f"({1000 * cpu / max(sent, 1):.1f} ms CPU per warning); load {os.getloadavg()[0]:.1f}"
                )
            raise Rollback
    except Rollback:
        print("rolled back")


if __name__ == "__main__":
    main()
