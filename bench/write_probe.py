"""App CPU and queries of the four writes the issue bounds (≤ 15 ms CPU each): a progress report,
a new task, a deliverable and a signature, against the loaded company, rolled back at the end.

    DATABASE_URL=postgres://…/collab_bench python bench/write_probe.py [--rounds 6]

Each round takes another open task of an item in execution and inside
a savepoint rolled back afterwards posts as the real people through Django's test client (the
middleware, the form, the service, the audit rows, the redirect):

1. report: the owner's progress report;
2. task: the coordinator's new task on the same item;
3. deliverable: the owner submits a deliverable (one small file, stored in a temporary folder);
4. review: the receiver accepts it (not bounded by the issue; shown for completeness);
5. sign: the owner signs the acceptance form as deliverer.

App CPU is this process's CPU time during the request (Django, the templates it renders, the
database driver's client side), not PostgreSQL's; SQL is the sum of the queries' times. The
first round warms the caches and is not counted; the median of the others is printed. Signing
asks for the password again: its check (PBKDF2, deliberately slow) is timed inside the request
and the signature is also given without it.

``--profile task`` (or report, deliverable, review, sign) prints where that write's CPU goes
(cProfile over the counted rounds, top functions by cumulative time); ``--queries task`` prints
the SQL of that write in the last round; ``--profile-out FILE`` also saves the profile for
``python -m pstats FILE`` (e.g. ``callees _sign`` to see one function's parts).
"""

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collab.settings")
# Uploaded files go to a folder thrown away at the end, as the rows are.
os.environ["COLLAB_MEDIA_ROOT"] = tempfile.mkdtemp(prefix="collab-write-probe-")

import django

django.setup()

from django.contrib.auth.hashers import identify_hasher  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import F  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from collab.org.calendar import calendar_of  # noqa: E402
from requests_app.models import CollaborationItem, ItemStatus, ReportCadence  # noqa: E402
from reviews_app.models import Deliverable  # noqa: E402
from tasks_app.models import Task, TaskStatus  # noqa: E402
from tasks_app.selectors import item_departments  # noqa: E402

PASSWORD = "bench"  # noqa: S105 - the benchmark company's shared password (bench/generate.py)
# CPU ms of each password check (the hasher's verify), to give the signature without it.
hashing: list[float] = []
WRITES = ("report", "task", "deliverable", "review", "sign", "sign, without the password check")
# Set from the command line: the write to profile, the write whose SQL to print.
PROFILED: dict[str, Any] = {
    "write": None,
    "profile": cProfile.Profile(time.process_time),
    "queries": None,
    "sql": [],
}


class Rollback(Exception):
    pass


def subjects(rounds: int) -> list[Task]:
    """Open tasks of items in execution, spread over the company; not those whose owner is also
    their receiver, whose deliverable is refused (the receiver accepts another person's work):
    companies generated before generate.py gave those to the coordinator have some."""
    candidates = (
        Task.objects.filter(
            status__in=[TaskStatus.NOT_STARTED, TaskStatus.IN_PROGRESS], item__status=ItemStatus.EXECUTING
        )
        .exclude(owner=F("receiver"))
        .select_related("item__coordinator", "owner", "receiver", "department")
        .order_by("pk")
    )
    total = candidates.count()
    if total < rounds:
        raise SystemExit(f"only {total} open tasks in items in execution")
    step = total // rounds
    return [candidates[number * step] for number in range(rounds)]


def post(client: Client, url: str, data: dict[str, object], write: str = "") -> tuple[float, int, float, int]:
    """(app CPU ms, queries, SQL ms, status) of one POST. Queries are counted and timed by a
    wrapper that costs next to nothing (Django's debug cursor formats every statement)."""
    count, sql = 0, 0.0
    printing = write == PROFILED["queries"]
    if printing:
        PROFILED["sql"] = []

    def timed(execute: Any, query: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal count, sql
        began = time.perf_counter()
        try:
            return execute(query, params, many, context)
        finally:
            count, sql = count + 1, sql + time.perf_counter() - began
            if printing:
                PROFILED["sql"].append(f"{1000 * (time.perf_counter() - began):7.2f} ms  {query[:300]}")

    profile = PROFILED["profile"] if write == PROFILED["write"] else None
    with connection.execute_wrapper(timed):
        cpu = time.process_time()
        if profile is not None:
            profile.enable()
        response = client.post(url, data)
        if profile is not None:
            profile.disable()
        cpu = time.process_time() - cpu
    return 1000 * cpu, count, 1000 * sql, response.status_code


def one_round(task: Task) -> dict[str, tuple[float, int, float, int]]:
    item, owner, receiver = task.item, task.owner, task.receiver
    # Companies loaded before bench/generate.py wrote a valid cadence carry "d" (rolled back too).
    CollaborationItem.objects.filter(pk=item.pk, report_cadence="d").update(
        report_cadence=ReportCadence.DAILY
    )
    as_owner, as_coordinator, as_receiver = Client(), Client(), Client()
    as_owner.force_login(owner)
    as_coordinator.force_login(item.coordinator)
    as_receiver.force_login(receiver)
    calendar = calendar_of(owner)
    deadline = timezone.localdate() + timedelta(days=14)
    while not calendar.is_working_day(deadline):
        deadline += timedelta(days=1)
    before = Deliverable.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    measured = {}
    measured["report"] = post(
        as_owner,
        reverse("tasks_app:task_report", args=[item.pk, task.pk]),
        {
            "status": TaskStatus.IN_PROGRESS,
            "percent_done": 40,
            "summary": "用例评审完成，覆盖率82%",
            "risks": "",
        },
        "report",
    )
    measured["task"] = post(
        as_coordinator,
        reverse("tasks_app:task_create", args=[item.pk]),
        {
            "name": "补充回归测试",
            "department": item_departments(item)[0].pk,
            "owner": owner.pk,
            "delivery_standard": "回归用例通过率≥98%",
            "deadline": deadline.isoformat(),
            "receiver": receiver.pk,
        },
        "task",
    )
    measured["deliverable"] = post(
        as_owner,
        reverse("reviews_app:deliverable_create", args=[item.pk, task.pk]),
        {
            "name": "测试报告 v1.0",
            "note": "覆盖全部P0用例",
            "uploads": SimpleUploadedFile(
                "测试报告.pdf", b"%PDF-1.4 bench report", "application/octet-stream"
            ),
        },
        "deliverable",
    )
    deliverable = Deliverable.objects.filter(task=task, pk__gt=before).first()
    if deliverable is None:
        raise SystemExit(f"the deliverable of task {task.pk} was not submitted: {measured['deliverable']}")
    measured["review"] = post(
        as_receiver,
        reverse("reviews_app:deliverable_review", args=[item.pk, deliverable.pk]),
        {"version_number": 1, "decision": "accepted", "comments": ""},
        "review",
    )
    hashing.clear()
    measured["sign"] = post(
        as_owner,
        reverse("reviews_app:deliverable_sign", args=[item.pk, deliverable.pk]),
        {"role": "deliverer", "password": PASSWORD},
        "sign",
    )
    cpu, queries, sql, status = measured["sign"]
    measured["sign, without the password check"] = (cpu - sum(hashing), queries, sql, status)
    if not deliverable.signatures.exists():
        raise SystemExit(f"deliverable {deliverable.pk} was not signed: {measured['sign']}")
    return measured


def calibration() -> float:
    """CPU ms of a fixed pure-Python loop: on a busy machine every CPU time grows (shared caches,
    hyper-threads); compare this figure between runs before comparing the writes'."""
    began = time.process_time()
    total = 0
    for number in range(2_000_000):
        total += number % 7
    return 1000 * (time.process_time() - began)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--profile", choices=WRITES[:5], help="print where this write's CPU goes")
    parser.add_argument("--queries", choices=WRITES[:5], help="print this write's SQL (last round)")
    parser.add_argument("--profile-out", metavar="FILE", help="save the profile of --profile to FILE")
    options = parser.parse_args()
    PROFILED["write"], PROFILED["queries"] = options.profile, options.queries
    setup_test_environment()  # the test client's host name; e-mail kept in memory
    print(f"load {os.getloadavg()[0]:.1f}; calibration loop {calibration():.0f} ms CPU")
    hasher = type(identify_hasher(subjects(1)[0].owner.password))
    verify = hasher.verify

    def timed_verify(self: Any, password: str, encoded: str) -> bool:
        began = time.process_time()
        try:
            return verify(self, password, encoded)
        finally:
            hashing.append(1000 * (time.process_time() - began))

    hasher.verify = timed_verify  # type: ignore[method-assign]
    results: dict[str, list[tuple[float, int, float, int]]] = {write: [] for write in WRITES}
    for number, task in enumerate(subjects(options.rounds + 1)):
        try:
            with transaction.atomic():
                measured = one_round(task)
                raise Rollback
        except Rollback:
            pass
        if number == 0:
            PROFILED["profile"] = cProfile.Profile(time.process_time)  # the warm-up is not profiled either
            continue
        for write in WRITES:
            results[write].append(measured[write])
    print(f"{'write':<34} {'app CPU ms':>10} {'queries':>8} {'SQL ms':>8}  statuses")
    for write in WRITES:
        rows = results[write]
        cpu = statistics.median(r[0] for r in rows)
        print(
            f"{write:<34} {cpu:>10.1f} {statistics.median(r[1] for r in rows):>8.0f} "
            f"{statistics.median(r[2] for r in rows):>8.1f}  {sorted({r[3] for r in rows})}"
        )
    if options.profile:
        print(f"\nwhere the CPU of {options.profile} goes ({options.rounds} rounds):")
        stats = pstats.Stats(PROFILED["profile"])
        if options.profile_out:
            stats.dump_stats(options.profile_out)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(25)
        print("the project's own functions, by cumulative time:")
        ours = r"^(?!.*site-packages).*/(collab|requests_app|tasks_app|reviews_app)/"
        stats.sort_stats("cumulative").print_stats(ours, 40)
    if options.queries:
        print(f"\nthe SQL of {options.queries} (last round):")
        print("\n".join(PROFILED["sql"]))
    print(f"rolled back; load {os.getloadavg()[0]:.1f}; calibration loop {calibration():.0f} ms CPU")


if __name__ == "__main__":
    main()
