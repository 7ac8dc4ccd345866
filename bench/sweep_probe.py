"""The warning/escalation sweep over every task open at once, inside a transaction rolled back at
the end (the loaded company is left as it was).

    python bench/sweep_probe.py                # the first 10 batches of 500
    python bench/sweep_probe.py --batches 40
    python bench/sweep_probe.py --all          # the whole sweep, as the beat runs it

1. Mark every task open (in progress) and give each a pending warning: two thirds due now (in the
   last 30 days), the rest due over the next 30 days, like a company's planned alerts.
2. EXPLAIN ANALYZE the sweep's claim query, then run the sweep's batches (500 each) and report the
   time and CPU per batch and per warning sent; with ``--all``, ``sweep_alerts`` itself, which
   goes on batch after batch until nothing is due.
"""

import argparse
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

from tasks_app import alerts  # noqa: E402
from tasks_app.models import Alert, Task  # noqa: E402

BATCH = 500


class Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--all", action="store_true", help="run the whole sweep")
    options = parser.parse_args()
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
                Alert.objects.select_for_update(skip_locked=True)
                .filter(sent_at=None, cancelled_at=None, due_at__lte=now)
                .order_by("due_at", "pk")
                .values_list("pk", flat=True)[:BATCH]
            )
            sql, params = query.query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
                print("\n".join(row[0] for row in cursor.fetchall()))
            if options.all:
                wall, cpu = time.monotonic(), time.process_time()
                sent = alerts.sweep_alerts(now=now, batch_size=BATCH)
                wall, cpu = time.monotonic() - wall, time.process_time() - cpu
                print(
                    f"whole sweep: {sent:,} sent in {wall:.1f} s wall, {cpu:.1f} s app CPU "
                    f"({1000 * cpu / max(sent, 1):.2f} ms CPU per warning); load {os.getloadavg()[0]:.1f}"
                )
            total_sent, total_wall, total_cpu = 0, 0.0, 0.0
            for _batch in range(0 if options.all else options.batches):
                wall, cpu = time.monotonic(), time.process_time()
                # One batch of sweep_alerts (its own transaction, here a savepoint).
                claimed, sent = alerts._sweep_batch(now, BATCH)
                wall, cpu = time.monotonic() - wall, time.process_time() - cpu
                total_sent, total_wall, total_cpu = total_sent + sent, total_wall + wall, total_cpu + cpu
                print(
                    f"batch: {claimed} claimed, {sent} sent in {wall:.2f} s wall, {cpu:.2f} s app CPU "
                    f"({1000 * cpu / max(sent, 1):.2f} ms CPU per warning); load {os.getloadavg()[0]:.1f}"
                )
            if total_sent:
                print(
                    f"{total_sent:,} sent in {total_wall:.1f} s wall, {total_cpu:.1f} s app CPU: "
                    f"{1000 * total_wall / total_sent:.2f} ms wall, "
                    f"{1000 * total_cpu / total_sent:.2f} ms CPU per warning"
                )
            raise Rollback
    except Rollback:
        print("rolled back")


if __name__ == "__main__":
    main()
