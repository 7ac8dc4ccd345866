#!/usr/bin/env python
"""Times a directory sync of a 5,000-person, 300-department company from a local vendor server.

    DATABASE_URL=postgres://... python bench/directory_sync.py --vendor dingtalk
    python bench/directory_sync.py --people 500 --departments 30     # a quick look on SQLite

The directory is served by the same local DingTalk / Feishu / WeCom servers the tests use
(collab/movein/tests/vendors.py), paging at each vendor's real largest page (DingTalk 100 users,
Feishu 50, WeCom's member list 10,000). The script then times, on the database DATABASE_URL
names (run it on a freshly migrated one: it refuses a database that has departments already):

1. fetch      reading the whole directory over HTTP into a snapshot (HTTP calls counted);
2. dry run    the preview of the first sync: every department and person added, rolled back;
3. apply      the first sync, for real;
4. again      a second apply with nothing changed (what the nightly run costs on most nights);
5. changes    a dry run and an apply after 1 % of people left, 1 % moved and 3 departments closed.

Each step prints its wall-clock time, the CPU time of this process (Python, the server threads
included) and the number of SQL queries.
"""

import argparse
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collab.settings")
os.environ["no_proxy"] = os.environ["NO_PROXY"] = "127.0.0.1,localhost"

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from collab.movein import services  # noqa: E402
from collab.movein.tests.vendors import APP_ID, APP_SECRET, Dept, FakeDirectory, User, serve  # noqa: E402
from collab.org.models import Department, DirectorySource, Person  # noqa: E402
from collab.org.sync.connectors import fetch_snapshot  # noqa: E402

SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂"
BRANCHES = ["北京分公司", "上海分公司", "广州分公司", "深圳分公司", "成都分公司", "武汉分公司"]
OFFICES = ["综合部", "财务部", "人事部", "研发部", "测试部", "市场部", "销售部", "客服部", "法务部", "采购部"]


def company(people: int, departments: int) -> FakeDirectory:
    """A tree: branches under the root, offices under each branch (名字 repeat: 综合部 ×6), then
    teams under offices until ``departments``; people spread over them, a manager for most."""
    rng = random.Random(11)  # noqa: S311 - repeatable data, not secrets
    fake = FakeDirectory(max_page=100)
    next_id = 2
    parents = ["1"]
    level = 0
    while len(fake.depts) < departments:
        children = []
        for parent in parents:
            names = BRANCHES if level == 0 else OFFICES if level == 1 else [f"{n}组" for n in "一二三四五六"]
            for name in names:
                if len(fake.depts) >= departments:
                    break
                fake.depts.append(Dept(str(next_id), name, parent))
                children.append(str(next_id))
                next_id += 1
        parents, level = children, level + 1
    dept_ids = [d.id for d in fake.depts]
    for n in range(people):
        home = dept_ids[n % len(dept_ids)] if n < len(dept_ids) else rng.choice(dept_ids)
        name = SURNAMES[n % len(SURNAMES)] + GIVEN[(n // len(SURNAMES)) % len(GIVEN)] + GIVEN[n % len(GIVEN)]
        fake.users.append(
            User(f"u{n:05d}", name, [home], email=f"u{n:05d}@example.com", mobile=f"138{n:08d}")
        )
    for dept in fake.depts:
        members = [u.id for u in fake.users if dept.id in u.depts]
        if members and rng.random() < 0.9:
            dept.managers = [members[0]]
    return fake


def timed(label: str, step: Callable[[], Any], results: list[tuple[str, float, float, int]]) -> Any:
    queries = [0]

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        queries[0] += 1
        return execute(sql, params, many, context)

    wall, cpu = time.perf_counter(), time.process_time()
    with connection.execute_wrapper(count):
        value = step()
    row = (label, time.perf_counter() - wall, time.process_time() - cpu, queries[0])
    results.append(row)
    print(f"{label:<28} {row[1]:8.1f} s wall {row[2]:8.1f} s CPU {row[3]:8d} queries", flush=True)
    return value


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--vendor", choices=["dingtalk", "feishu", "wecom"], default="dingtalk")
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--departments", type=int, default=300)
    options = parser.parse_args()
    if Department.objects.exists():
        sys.exit("The database has departments already: run this on a freshly migrated database.")
    fake = company(options.people, options.departments)
    if options.vendor == "feishu":
        fake.max_page = 50
    stop = serve(fake)
    settings.DIRECTORY_RATE_LIMIT_WAIT = 0.01
    results: list[tuple[str, float, float, int]] = []
    try:
        source = DirectorySource.objects.create(
            kind=options.vendor,
            name=f"bench {options.vendor}",
            base_url=fake.bases[options.vendor],
            app_id=APP_ID,
        )
        services.directory_source_set_secret(actor=None, source=source, secret=APP_SECRET)
        print(
            f"{connection.vendor}, {options.vendor}: {len(fake.users)} people, {len(fake.depts)} departments",
            flush=True,
        )
        calls = len(fake.calls)
        snapshot = timed("fetch", lambda: fetch_snapshot(source), results)
        print(f"  {len(fake.calls) - calls} HTTP calls, {fake.token_calls} token request(s)")
        preview = timed("dry run (first sync)", lambda: services.directory_preview(source=source), results)
        print(
            f"  {len(preview.diff['changes'])} changes listed, nothing written: {not Person.objects.exists()}"
        )
        run = timed("apply (first sync)", lambda: services.directory_apply(source=source), results)
        print(f"  {len(run.diff['changes'])} changes, {Person.objects.count()} people now")
        again = timed("apply again (no change)", lambda: services.directory_apply(source=source), results)
        print(f"  {len(again.diff['changes'])} changes")
        rng = random.Random(12)  # noqa: S311 - repeatable data, not secrets
        leaving = set(rng.sample([u.id for u in fake.users], len(fake.users) // 100))
        fake.users = [u for u in fake.users if u.id not in leaving]
        for user in rng.sample(fake.users, len(fake.users) // 100):
            user.depts = [rng.choice(fake.depts).id]
        closed = {d.id for d in fake.depts[-3:]}
        fake.depts = [d for d in fake.depts if d.id not in closed]
        for user in fake.users:
            user.depts = [fake.depts[0].id if d in closed else d for d in user.depts]
        preview = timed("dry run (1% left/moved)", lambda: services.directory_preview(source=source), results)
        run = timed("apply (1% left/moved)", lambda: services.directory_apply(source=source), results)
        print(f"  {len(run.diff['changes'])} changes, {len(run.diff.get('handover') or [])} hand-overs")
        del snapshot
    finally:
        stop()


if __name__ == "__main__":
    main()
