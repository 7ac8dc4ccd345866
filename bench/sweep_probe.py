"""The warning/escalation sweep over every task open at once, inside a transaction rolled back at
the end (the loaded company is left as it was).

    python bench/sweep_probe.py                       # the morning wave, the whole sweep
    python bench/sweep_probe.py --wave all            # 200,000 warnings due at once
    python bench/sweep_probe.py --batches 10          # only the first 10 batches
    python bench/sweep_probe.py --profile             # one batch under cProfile
    python bench/sweep_probe.py --commit [--wave all] # on a copy: prepare once, committed, then
    python bench/sweep_probe.py --prepared [...]      #   run on it again and again (faster, and
                                                      #   no table rewritten in the transaction)
    python bench/sweep_probe.py --prepared --parts 2  # two sweeps at once, as the beat task
                                                      #   starts them on PostgreSQL
    python bench/sweep_probe.py --prepared --scratch [--parts 2]  # committed, on a throwaway
                                                      #   copy of the copy (as production)

1. Every task is made open (in progress, 30 % done) in an item in execution, 10 % of the people
   read English, and 40 departments (every fifth) have a DingTalk group robot: the sweep sends
   in two languages and posts to groups, as a company does.
2. Every task gets its pending warnings, planned as ``tasks_app.alerts`` plans them:

   - ``--wave morning`` (default), a working morning at 09:00 (Shanghai) of a company with
     300,000 open tasks. Deadlines spread over about 60 working days (three months): 1 task in
     60 is due today; 10 % of open tasks are late and get their daily reminder; the ladder
     takes 1 in 60 each to the coordinator (late since yesterday) and to the department head
     (since the day before); reports are owed by 1 in 20 (a daily report made after hours is
     due at the next working morning) and 1 in 100 goes up to the coordinator. About 63,000
     warnings are due at 09:00 (21 % of open tasks); every other task has a warning later
     (due tomorrow: at 10:00 today; else the morning after its deadline).
   - ``--wave all``, the worst case of runs 3 and 4: one overdue warning per task, two thirds
     due now (over the last 30 days), the rest over the next 30 days. About 200,000 are due at
     once; the overdue warnings of tasks whose deadline is not passed are cancelled, not sent.

3. EXPLAIN ANALYZE the sweep's claim query, then run the sweep: ``sweep_alerts`` itself (batch
   after batch until nothing is due, as the beat runs it), or with ``--batches`` only the
   first batches, one by one; with ``--parts N`` (prepared copies only) N sweeps at once, each
   over its share of the items (``sweep_alerts(part=…)``) in a process and a transaction of its
   own, rolled back, as the beat task runs them in N worker processes. Reported: the sweep's
   wall time, this process's CPU (Django, Python, the driver's client side) and PostgreSQL's
   (the connection's backend process, read from /proc), per batch and per warning sent, and
   the queries per batch.

The machine is shared: compare the calibration loop's CPU between runs before their figures.
"""

import argparse
import cProfile
import multiprocessing
import os
import pstats
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collab.settings")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from collab.org.calendar import calendar_for  # noqa: E402
from tasks_app import alerts  # noqa: E402
from tasks_app.models import Alert, Task  # noqa: E402

# Warnings due at the morning's 09:00, by task id: (id % modulus == remainder) -> the warning.
# Deadlines are set to match: today, or some days ago for a late task.
MORNING_WAVE = [
    # (modulus, remainder, kind, step, deadline in days from today)
    (60, 0, "due_today", 0, "0"),
    (10, 1, "overdue", 0, "-(1 + mod(id, 20))"),  # 10 % late: the daily reminder
    (60, 2, "overdue", 1, "-1"),  # late since yesterday: to the coordinator
    (60, 3, "overdue", 2, "-2"),  # since the day before: to the department head
    (20, 4, "report_missing", 0, "5 + mod(id, 40)"),  # a report owed since after hours
    (100, 5, "report_missing", 1, "5 + mod(id, 40)"),  # still owed a working day later
]


class Rollback(Exception):
    pass


def calibration() -> float:
    """CPU ms of a fixed pure-Python loop (as bench/write_probe.py): compare it between runs."""
    began = time.process_time()
    total = 0
    for number in range(2_000_000):
        total += number % 7
    return 1000 * (time.process_time() - began)


def database_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL backend so far (same host: /proc)."""
    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def morning() -> datetime:
    """09:00 of the next working day in Shanghai (the company's default calendar)."""
    calendar = calendar_for(None)
    day = calendar.next_working_day(timezone.localtime(timezone.now(), calendar.tz).date())
    return calendar.at(day, alerts.MORNING)


def prepare(wave: str) -> datetime:
    """The company's open tasks and their pending warnings; returns the sweep's moment."""
    with connection.cursor() as cursor:
        # The items first: an open task belongs to a planned or executing item (the database's
        # open-task guard refuses the tasks' update otherwise).
        cursor.execute(
            "UPDATE requests_app_collaborationitem SET status = 'executing' "
            "WHERE id IN (SELECT item_id FROM tasks_app_task)"
        )
        cursor.execute("UPDATE tasks_app_task SET status = 'in_progress', percent_done = 30")
        cursor.execute("UPDATE org_person SET language = 'en' WHERE mod(id, 10) = 0")
        cursor.execute(
            "INSERT INTO notify_robotchannel (kind, name, webhook_url, secret, keyword, department_id, "
            "active, created_at) SELECT 'dingtalk', name || '群', "
            "'https://oapi.dingtalk.com/robot/send?access_token=' || md5(id::text), '', '', id, true, now() "
            "FROM org_department WHERE mod(id, 5) = 0"
        )
        if wave == "all":
            now = timezone.now()
            cursor.execute(
                "INSERT INTO tasks_app_alert (kind, step, deadline, due_at, created_at, task_id) "
                "SELECT 'overdue', 0, deadline, "
                "%s + ((mod(id, 3) - 1) * interval '1 day') * (1 + mod(id, 30)), now(), id "
                "FROM tasks_app_task",
                [now],
            )
        else:
            now = morning()
            today = timezone.localtime(now).date()
            claimed = " OR ".join(f"mod(id, {m}) = {r}" for m, r, *_rest in MORNING_WAVE)
            for modulus, remainder, kind, step, days in MORNING_WAVE:
                cursor.execute(
                    f"UPDATE tasks_app_task SET deadline = %s + ({days}) * interval '1 day' "  # noqa: S608
                    f"WHERE mod(id, {modulus}) = {remainder}",
                    [today],
                )
                cursor.execute(
                    "INSERT INTO tasks_app_alert (kind, step, deadline, due_at, created_at, task_id) "  # noqa: S608
                    f"SELECT %s, %s, CASE WHEN %s = 'report_missing' THEN NULL ELSE deadline END, %s, "
                    f"now(), id FROM tasks_app_task WHERE mod(id, {modulus}) = {remainder}",
                    [kind, step, kind, now],
                )
            # The rest: due tomorrow (warned at 10:00 today, 1 in 60) or later, warned when late.
            cursor.execute(
                "UPDATE tasks_app_task SET deadline = %s + "  # noqa: S608
                "CASE WHEN mod(id, 60) = 7 THEN 1 ELSE 2 + mod(id, 60) END * interval '1 day' "
                f"WHERE NOT ({claimed})",
                [today],
            )
            cursor.execute(
                "INSERT INTO tasks_app_alert (kind, step, deadline, due_at, created_at, task_id) "  # noqa: S608
                "SELECT CASE WHEN mod(id, 60) = 7 THEN 'due_soon' ELSE 'overdue' END, 0, deadline, "
                "CASE WHEN mod(id, 60) = 7 THEN %s + interval '1 hour' "
                "ELSE deadline + interval '1 day 1 hour' END, "
                f"now(), id FROM tasks_app_task WHERE NOT ({claimed})",
                [now],
            )
        cursor.execute("ANALYZE tasks_app_alert")
        cursor.execute("ANALYZE tasks_app_task")
    return now


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--wave", choices=["morning", "all"], default="morning")
    parser.add_argument(
        "--batches", type=int, default=0, help="only the first N batches (0: the whole sweep)"
    )
    parser.add_argument("--batch-size", type=int, default=alerts.BATCH)
    parser.add_argument("--profile", action="store_true", help="one batch under cProfile")
    parser.add_argument("--queries", action="store_true", help="with --batches: each query's time")
    parser.add_argument(
        "--commit", action="store_true", help="prepare and commit, on a copy; then run --prepared"
    )
    parser.add_argument("--prepared", action="store_true", help="run on a copy prepared with --commit")
    parser.add_argument(
        "--parts", type=int, default=1, help="with --prepared: N sweeps at once (processes), as the beat"
    )
    parser.add_argument(
        "--scratch",
        action="store_true",
        help="with --prepared: on a throwaway copy of the copy, each batch committed (dropped after)",
    )
    options = parser.parse_args()
    print(f"load {os.getloadavg()[0]:.1f}; calibration loop {calibration():.0f} ms CPU")
    if options.parts > 1 or options.scratch:
        if not options.prepared or options.wave != "morning" or options.batches or options.profile:
            raise SystemExit("--parts, --scratch: the whole morning wave of a prepared copy only")
        if options.scratch:
            scratch(options.batch_size, options.parts)
            return
        parallel(options.batch_size, options.parts)
        print(f"rolled back; load {os.getloadavg()[0]:.1f}; calibration loop {calibration():.0f} ms CPU")
        return
    if options.commit:
        if connection.settings_dict["NAME"] == "collab_bench":
            raise SystemExit("--commit changes the company: use a copy (createdb -T collab_bench …)")
        began = time.monotonic()
        with transaction.atomic():
            prepare(options.wave)
        with connection.cursor() as cursor:
            for table in (
                "tasks_app_task",
                "requests_app_collaborationitem",
                "tasks_app_alert",
                "org_person",
            ):
                cursor.execute(f"VACUUM ANALYZE {table}")
        print(f"prepared ({options.wave}) and committed in {time.monotonic() - began:.0f} s")
        return
    if connection.vendor == "postgresql":
        # The index entries of earlier runs' rolled-back warnings would be walked by the claim.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM tasks_app_alert")
    try:
        with transaction.atomic():
            began = time.monotonic()
            if not options.prepared:
                now = prepare(options.wave)
            elif options.wave == "morning":
                now = Alert.objects.filter(kind="due_today", sent_at=None).earliest("due_at").due_at
            else:
                now = timezone.now()
            due = Alert.objects.filter(due_at__lte=now, sent_at=None, cancelled_at=None).count()
            print(
                f"{'prepared' if options.prepared else 'prepared now'} ({options.wave}): "
                f"{Task.objects.count():,} open tasks, {Alert.objects.count():,} pending warnings, "
                f"{due:,} due at {timezone.localtime(now):%Y-%m-%d %H:%M}, "
                f"in {time.monotonic() - began:.0f} s"
            )
            if connection.vendor == "postgresql":
                # The foreign keys are checked at each statement, as they would be at each
                # batch's commit (the rollback at the end would skip them).
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            sql, params = alerts.claim(now, options.batch_size).query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
                print("\n".join(row[0] for row in cursor.fetchall()))
            if options.profile:
                profile(now, options.batch_size)
            elif options.batches:
                batches(now, options.batch_size, options.batches, verbose=options.queries)
            else:
                whole(now, options.batch_size, due)
            raise Rollback
    except Rollback:
        print(f"rolled back; load {os.getloadavg()[0]:.1f}; calibration loop {calibration():.0f} ms CPU")


def whole(now: datetime, size: int, due: int) -> None:
    wall, cpu, database = time.monotonic(), time.process_time(), database_cpu()
    with CaptureQueriesContext(connection) as queries:
        sent = alerts.sweep_alerts(now=now, batch_size=size)
    wall, cpu, database = time.monotonic() - wall, time.process_time() - cpu, database_cpu() - database
    print(
        f"whole sweep: {due:,} due, {sent:,} sent in {wall:.1f} s wall; {cpu:.1f} s app CPU, "
        f"{database:.1f} s PostgreSQL CPU; {len(queries)} queries in {-(-due // size)} batches; "
        f"per warning sent: {1e6 * cpu / max(sent, 1):.0f} µs app CPU, "
        f"{1e6 * database / max(sent, 1):.0f} µs PostgreSQL CPU, {1e6 * wall / max(sent, 1):.0f} µs wall; "
        f"load {os.getloadavg()[0]:.1f}"
    )


def scratch(size: int, parts: int) -> None:
    """The sweep as the beat runs it, each batch committed, on a copy of the prepared copy made
    for the run (``CREATE DATABASE … TEMPLATE``, about 20 s for the 100,000-item company) and
    dropped after it: a rolled-back run keeps every sent warning's old row in the index that
    each claim walks, and two rolled-back sweeps walk each other's too; committed, they are dead
    rows the index learns to skip, as in production."""
    from collab.celery import app

    # Each batch's commit hands its deliveries to the broker, as in production: here an
    # in-memory one, so that nothing is left for a worker to send.
    app.conf.broker_url = "memory://"
    source = connection.settings_dict["NAME"]
    copy = f"{source}_scratch"
    quote = connection.ops.quote_name
    connection.close()
    with connection._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {quote(copy)}")
        cursor.execute(f"CREATE DATABASE {quote(copy)} TEMPLATE {quote(source)}")
    connection.settings_dict["NAME"] = copy
    try:
        parallel(size, parts, commit=True)
    finally:
        connection.close()
        connection.settings_dict["NAME"] = source
        with connection._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quote(copy)}")
    print(f"dropped {copy}; load {os.getloadavg()[0]:.1f}; calibration loop {calibration():.0f} ms CPU")


def parallel(size: int, parts: int, *, commit: bool = False) -> None:
    """``parts`` sweeps of the prepared morning at once, each in a forked process with its own
    connection and transaction (rolled back at the end; with ``commit``, batch after batch
    committed as in production), as the beat's worker processes run them; the wall time is
    until the last one ends."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM tasks_app_alert")
    now = Alert.objects.filter(kind="due_today", sent_at=None).earliest("due_at").due_at
    due = Alert.objects.filter(due_at__lte=now, sent_at=None, cancelled_at=None).count()
    print(f"prepared (morning): {due:,} due at {timezone.localtime(now):%Y-%m-%d %H:%M}; {parts} sweeps")
    # A worker that swept before (the beat sweeps every 5 minutes) has the URL configuration
    # loaded; without this each forked part would import it in its first batch (0.4-0.8 s).
    reverse("tasks_app:progress", args=[1])
    connection.close()  # each process opens its own
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    began = time.monotonic()
    processes = [
        context.Process(target=part, args=(now, size, (k, parts), results, commit)) for k in range(parts)
    ]
    for process in processes:
        process.start()
    done = [results.get() for _process in processes]
    wall = time.monotonic() - began
    for process in processes:
        process.join()
    sent = sum(row[1] for row in done)
    cpu, database = sum(row[3] for row in done), sum(row[4] for row in done)
    for k, part_sent, part_wall, part_cpu, part_database, queries in sorted(done):
        print(
            f"  part {k}: {part_sent:,} sent in {part_wall:.1f} s wall; {part_cpu:.1f} s app CPU, "
            f"{part_database:.1f} s PostgreSQL CPU; {queries} queries"
        )
    print(
        f"{parts} sweep(s) at once{', committed' if commit else ''}: "
        f"{due:,} due, {sent:,} sent in {wall:.1f} s wall; {cpu:.1f} s app CPU, "
        f"{database:.1f} s PostgreSQL CPU; per warning sent: {1e6 * cpu / max(sent, 1):.0f} µs app CPU, "
        f"{1e6 * database / max(sent, 1):.0f} µs PostgreSQL CPU, {1e6 * wall / max(sent, 1):.0f} µs wall; "
        f"load {os.getloadavg()[0]:.1f}"
    )


def part(now: datetime, size: int, share: tuple[int, int], results: Any, commit: bool) -> None:
    """One of ``parallel``'s sweeps (a forked process): puts (part, sent, wall, app CPU,
    PostgreSQL CPU, queries) on ``results``."""
    if commit:
        wall, cpu, database = time.monotonic(), time.process_time(), database_cpu()
        with CaptureQueriesContext(connection) as queries:
            # One part: the sweep without parts, as on SQLite or before parts.
            sent = alerts.sweep_alerts(now=now, batch_size=size, part=share if share[1] > 1 else None)
        wall, cpu = time.monotonic() - wall, time.process_time() - cpu
        results.put((share[0], sent, wall, cpu, database_cpu() - database, len(queries)))
        connection.close()
        return
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # as at each batch's commit
            wall, cpu, database = time.monotonic(), time.process_time(), database_cpu()
            with CaptureQueriesContext(connection) as queries:
                sent = alerts.sweep_alerts(now=now, batch_size=size, part=share)
            wall, cpu = time.monotonic() - wall, time.process_time() - cpu
            results.put((share[0], sent, wall, cpu, database_cpu() - database, len(queries)))
            raise Rollback
    except Rollback:
        pass
    finally:
        connection.close()


def batches(now: datetime, size: int, count: int, *, verbose: bool = False) -> None:
    total_sent, total_wall, total_cpu, total_database = 0, 0.0, 0.0, 0.0
    for _batch in range(count):
        wall, cpu, database = time.monotonic(), time.process_time(), database_cpu()
        # One batch of sweep_alerts (its own transaction, here a savepoint).
        with CaptureQueriesContext(connection) as queries:
            claimed, sent = alerts._sweep_batch(now, size)
        wall, cpu, database = time.monotonic() - wall, time.process_time() - cpu, database_cpu() - database
        total_sent, total_wall = total_sent + sent, total_wall + wall
        total_cpu, total_database = total_cpu + cpu, total_database + database
        print(
            f"batch: {claimed} claimed, {sent} sent, {len(queries)} queries in {wall:.2f} s wall; "
            f"{cpu:.2f} s app CPU, {database:.2f} s PostgreSQL CPU; load {os.getloadavg()[0]:.1f}"
        )
        if verbose:
            for query in queries.captured_queries:
                print(f"    {1000 * float(query['time']):7.1f} ms  {query['sql'][:100]}")
        if not claimed:
            break
    if total_sent:
        print(
            f"{total_sent:,} sent in {total_wall:.1f} s wall, {total_cpu:.1f} s app CPU, "
            f"{total_database:.1f} s PostgreSQL CPU: per warning {1e6 * total_wall / total_sent:.0f} µs "
            f"wall, {1e6 * total_cpu / total_sent:.0f} µs app CPU, "
            f"{1e6 * total_database / total_sent:.0f} µs PostgreSQL CPU"
        )


def profile(now: datetime, size: int) -> None:
    alerts._sweep_batch(now, size)  # warm: the calendars' holiday data, the translations
    profiler = cProfile.Profile()
    profiler.enable()
    claimed, sent = alerts._sweep_batch(now, size)
    profiler.disable()
    print(f"profiled batch: {claimed} claimed, {sent} sent")
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(40)
    stats.sort_stats("cumulative").print_stats(40)
    stats.print_callers("isinstance|hasattr")


if __name__ == "__main__":
    main()
