"""Loads a company for the benchmark: people, departments, regions, and items through all stages.

    python bench/generate.py --small            # 500 people, 20 departments, 2,000 items
    python bench/generate.py --items 100000     # the issue's size (5,000 people, 200 departments)

Rows go in through bulk inserts with explicit keys (minutes, not hours). Permissions are granted
by the application's own rules (item_sync_permissions): the bulk rows are computed the same way,
and a sample of items is re-synced at the end to prove the rows match. Everyone's password is
``bench`` (login names: bench-p00001 ...). Run it on an empty database: it refuses otherwise.

Proportions, per item: 2-4 participating departments, 2 milestones, one meeting with 5 invitees
and minutes, tasks for items past consensus (--tasks in all, about 3.5 per item), progress reports
(--reports in all; late open tasks carry three times as many), a deliverable per task once
executing, 5 audit rows. Department 1 (总经办) takes part in about half of all items, so its
people each see about half of the register, as in the issue. 15% of tasks go to 51 busy owners.
On PostgreSQL rows go in with COPY; on SQLite with one prepared INSERT per table and batch
(executemany), without foreign-key checks during the load:

    DATABASE_URL=sqlite:////tmp/bench.sqlite3 python manage.py migrate
    DATABASE_URL=sqlite:////tmp/bench.sqlite3 python bench/generate.py --items 20000 --people 1000 \
        --departments 40 --tasks 60000 --reports 200000
"""

import argparse
import enum
import io
import json
import os
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collab.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.auth.models import Group, Permission  # noqa: E402
from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.core.management.color import no_style  # noqa: E402
from django.db import connection, models, transaction  # noqa: E402
from guardian.models import GroupObjectPermission, UserObjectPermission  # noqa: E402

from collab.audit.models import AuditEntry  # noqa: E402
from collab.org.models import Department, Person, Region  # noqa: E402
from requests_app import department_items  # noqa: E402
from requests_app.health_facts import item_health_refresh  # noqa: E402
from requests_app.models import (  # noqa: E402
    DEPARTMENT_ITEM_COPIES,
    CollaborationItem,
    DepartmentItem,
    Invitation,
    ItemStatus,
    ItemVisibility,
    Meeting,
    MeetingForm,
    Milestone,
    Minutes,
    MinutesStatus,
    Participation,
    ReportCadence,
    Scenario,
)
from requests_app.services import item_sync_permissions  # noqa: E402
from reviews_app.models import Deliverable, DeliverableStatus, DeliverableVersion  # noqa: E402
from tasks_app import open_task_guard  # noqa: E402
from tasks_app.models import ProgressReport, Task, TaskStatus  # noqa: E402

PASSWORD = "bench"  # noqa: S105 - the benchmark company's shared password
BATCH = 5000
FULL = {
    "people": 5000,
    "departments": 200,
    "regions": 3,
    "items": 100_000,
    "tasks": 300_000,
    "reports": 1_000_000,
}
SMALL = {"people": 500, "departments": 20, "regions": 3, "items": 2000, "tasks": 6000, "reports": 20_000}
# Busy owners (the "51 owners with about 800 tasks each"): this share of all tasks goes
# to 51 people, so My work is measured for someone with hundreds of open tasks.
BUSY_OWNERS = 51
BUSY_SHARE = 0.15
# Item statuses in a running company: most items are executing or archived.
STATUSES = [
    (ItemStatus.SUBMITTED, 0.08),
    (ItemStatus.CONSENSUS, 0.07),
    (ItemStatus.PLANNED, 0.05),
    (ItemStatus.EXECUTING, 0.5),
    (ItemStatus.CLOSED, 0.3),
]
FAMILY = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
TOPICS = [
    "产品上线测试",
    "支付系统故障处理",
    "月度工作计划同步",
    "华南区促销活动",
    "新员工培训方案",
    "供应商评估",
]


class Row:
    """A row to insert, without building a model instance (Model.__init__ costs more than COPY)."""

    __slots__ = ("model", "values")

    def __init__(self, model: type[models.Model], **values: object) -> None:
        self.model = model
        self.values = values

    @property
    def pk(self) -> object:
        return self.values["pk"]

    def instance(self) -> models.Model:
        return self.model(**self.values)


class Loader:
    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)  # noqa: S311 - repeatable data, not secrets
        self.next_pk: dict[type[models.Model], int] = {}
        self.counts: dict[str, int] = {}

    def pk(self, model: type[models.Model]) -> int:
        if model not in self.next_pk:
            self.next_pk[model] = (model.objects.aggregate(m=models.Max("pk"))["m"] or 0) + 1
        value = self.next_pk[model]
        self.next_pk[model] = value + 1
        return value

    def insert(self, rows: list) -> None:
        if rows:
            model = rows[0].model if isinstance(rows[0], Row) else type(rows[0])
            if isinstance(rows[0], Row) and connection.vendor == "postgresql":
                copy_rows(model, rows)
            elif isinstance(rows[0], Row):
                insert_rows(model, rows)
            else:
                instances = [r.instance() if isinstance(r, Row) else r for r in rows]
                model.objects.bulk_create(instances, batch_size=BATCH)
            name = model._meta.label
            self.counts[name] = self.counts.get(name, 0) + len(rows)
            rows.clear()


def _copy_text(value: object) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, models.Model):
        value = value.pk
    if isinstance(value, list | dict):
        value = json.dumps(value, ensure_ascii=False)
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def columns_of(model: type[models.Model], given: dict[str, object]) -> tuple[list, list[tuple[str, object]]]:
    """The fields a batch writes and, per field, the row key it reads with its default.

    A field a row leaves out takes its default (auto_now_add: now), computed once per batch; a
    primary key left out is left to the sequence."""
    now = datetime.now(UTC)
    fields, keys, defaults = [], [], []
    for field in model._meta.concrete_fields:
        if field.generated or (field.primary_key and "pk" not in given and field.attname not in given):
            continue
        if field.has_db_default() and field.name not in given and field.attname not in given:
            continue  # the database's default (the item's stored health facts before their refresh)
        fields.append(field)
        key = "pk" if field.primary_key and "pk" in given else field.attname
        if key not in given and field.name in given:
            key = field.name  # given as an instance: written as its pk
        keys.append(key)
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            defaults.append(now)
        else:
            defaults.append(field.get_default())
    return fields, list(zip(keys, defaults, strict=True))


def copy_rows(model: type[models.Model], rows: list[Row]) -> None:
    """Writes ``rows`` with PostgreSQL's COPY: several times faster than multi-row INSERTs."""
    fields, pairs = columns_of(model, rows[0].values)
    buffer = io.StringIO()
    for row in rows:
        values = row.values
        buffer.write("\t".join([_copy_text(values.get(key, default)) for key, default in pairs]))
        buffer.write("\n")
    buffer.seek(0)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(f"COPY {model._meta.db_table} ({columns}) FROM STDIN", buffer)


def _sqlite_value(value: object) -> object:
    """One value as Django's SQLite backend stores it (datetimes as naive UTC text)."""
    if isinstance(value, datetime):
        return str(value.astimezone(UTC).replace(tzinfo=None)) if value.tzinfo else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def insert_rows(model: type[models.Model], rows: list[Row]) -> None:
    """Writes ``rows`` with one prepared INSERT run for every row of the batch (SQLite's
    executemany), without building model instances or compiling SQL per batch (bulk_create did
    both: 20,000 items took longer than a benchmark session)."""
    fields, pairs = columns_of(model, rows[0].values)
    values = [[_sqlite_value(row.values.get(key, default)) for key, default in pairs] for row in rows]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["?"] * len(fields))
    with connection.cursor() as cursor:
        # The driver's own cursor: the wrapper would rewrite the statement for every batch.
        # Table and column names come from the models, the values are bound parameters.
        sql = f"INSERT INTO {model._meta.db_table} ({columns}) VALUES ({marks})"  # noqa: S608
        cursor.cursor.executemany(sql, values)


def generate(sizes: dict[str, int], seed: int = 1) -> dict[str, int]:
    if CollaborationItem.objects.exists():
        raise SystemExit("The database already holds items: generate into an empty database.")
    load = Loader(seed)
    rnd = load.random
    User = get_user_model()
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.date()
    password = make_password(PASSWORD)

    regions = []
    for index, (code, name, zone) in enumerate(
        [
            ("cn-east", "华东区", "Asia/Shanghai"),
            ("cn-south", "华南区", "Asia/Shanghai"),
            ("cn-north", "华北区", "Asia/Shanghai"),
        ]
    ):
        if index < sizes["regions"]:
            regions.append(Region.objects.create(code=f"{code}-bench", name=f"{name}", timezone=zone))

    # Departments own an auth group each, like Department.save() makes them.
    groups = [Group(pk=load.pk(Group), name=f"department:bench-{n:03d}") for n in range(sizes["departments"])]
    load.insert(list(groups))
    departments = [
        Department(
            pk=load.pk(Department),
            name="总经办" if n == 0 else f"部门{n:03d}",
            region=regions[n % len(regions)],
            group_id=groups[n].pk,
        )
        for n in range(sizes["departments"])
    ]
    load.insert(list(departments))

    users = []
    people_of: dict[int, list[int]] = {d.pk: [] for d in departments}
    persons, memberships = [], []
    Membership = User.groups.through
    for n in range(sizes["people"]):
        # Department 1 is large (the PMO and leadership); the rest share the remaining people.
        department = departments[0] if n % 10 == 0 else departments[1 + n % (len(departments) - 1)]
        user = User(
            pk=load.pk(User),
            username=f"bench-p{n:05d}",
            password=password,
            last_name=FAMILY[n % len(FAMILY)],
            first_name=GIVEN[(n // len(FAMILY)) % len(GIVEN)],
            email=f"p{n:05d}@bench.example",
            is_staff=n == 0,
            is_active=True,
        )
        users.append(user)
        people_of[department.pk].append(user.pk)
        persons.append(Person(user_id=user.pk, department=department, region=department.region))
        memberships.append(Membership(user_id=user.pk, group_id=department.group_id))
    load.insert(users)
    load.insert(persons)
    for department in departments:
        department.head_id = people_of[department.pk][0] if people_of[department.pk] else None
    Department.objects.bulk_update(departments, ["head"], batch_size=BATCH)
    load.insert(memberships)
    coordinators = people_of[departments[0].pk][: max(5, sizes["people"] // 100)]

    content_type = ContentType.objects.get_for_model(CollaborationItem)
    view = Permission.objects.get(content_type=content_type, codename="view_collaborationitem")
    change = Permission.objects.get(content_type=content_type, codename="change_collaborationitem")
    item_type = ContentType.objects.get_for_model(CollaborationItem)

    pending: dict[str, list[Row]] = {}

    def add(row: Row) -> None:
        bucket = pending.setdefault(row.model.__name__, [])
        bucket.append(row)
        if len(bucket) >= BATCH:
            load.insert(bucket)

    heads = {d.head_id for d in departments}
    busy = rnd.sample([p for d in departments for p in people_of[d.pk] if p not in heads], BUSY_OWNERS)
    department_of = {user: d for d in departments for user in people_of[d.pk]}
    with_tasks = sum(
        w for s, w in STATUSES if s in (ItemStatus.PLANNED, ItemStatus.EXECUTING, ItemStatus.CLOSED)
    )
    tasks_per_item = sizes["tasks"] / (sizes["items"] * with_tasks)
    # Late open tasks carry three times the reports of the others (reminders, chasing).
    reports_per_task = sizes["reports"] / sizes["tasks"] / 1.1
    statuses = [s for s, _w in STATUSES]
    weights = [w for _s, w in STATUSES]
    start = now - timedelta(days=730)
    per_month: dict[str, int] = {}
    began = time.monotonic()
    for n in range(sizes["items"]):
        if n and n % 10_000 == 0:
            print(f"  {n:,} items in {time.monotonic() - began:.0f} s", flush=True)
        status = rnd.choices(statuses, weights)[0]
        submitted = start + timedelta(minutes=int(730 * 24 * 60 * n / sizes["items"]))
        month = f"{submitted:%Y%m}"
        per_month[month] = per_month.get(month, 0) + 1
        requesting = departments[1 + rnd.randrange(len(departments) - 1)]
        others = rnd.sample(departments[1:], k=min(len(departments) - 1, rnd.randint(1, 3)))
        if rnd.random() < 0.5:
            others.append(departments[0])
        participating = [d for d in dict.fromkeys(others) if d.pk != requesting.pk]
        requester = people_of[requesting.pk][0]
        coordinator = rnd.choice(coordinators)
        first_due = (submitted + timedelta(days=rnd.randint(7, 30))).date()
        last_due = first_due + timedelta(days=rnd.randint(7, 60))
        item = Row(
            CollaborationItem,
            pk=load.pk(CollaborationItem),
            number=f"{month}{per_month[month]:04d}",
            topic=f"{rnd.choice(TOPICS)}{n}",
            scenario=rnd.choice(Scenario.values),
            goal="确保新功能稳定上线，覆盖90%用户需求",
            scope="核心功能模块测试",
            expected_outcome="10月15日前完成上线测试，功能覆盖90%的用户需求",
            requesting_department=requesting,
            requester_id=requester,
            coordinator_id=coordinator,
            status=status,
            submitted_at=submitted,
            last_milestone_due=last_due,
            report_cadence=ReportCadence.DAILY if status in (ItemStatus.EXECUTING, ItemStatus.CLOSED) else "",
        )
        add(item)
        add(Row(Milestone, pk=load.pk(Milestone), item_id=item.pk, name="需求确认", due_date=first_due))
        add(Row(Milestone, pk=load.pk(Milestone), item_id=item.pk, name="验收完成", due_date=last_due))
        for department in participating:
            add(
                Row(
                    Participation,
                    pk=load.pk(Participation),
                    item_id=item.pk,
                    department=department,
                    core_need="提供支持",
                )
            )
        viewers = {requester, coordinator}
        meeting = Row(
            Meeting,
            pk=load.pk(Meeting),
            item_id=item.pk,
            form=rnd.choice(MeetingForm.values),
            starts_at=submitted + timedelta(days=2),
            location="3楼会议室",
            organiser_id=coordinator,
        )
        add(meeting)
        invitees = {people_of[d.pk][0] for d in [requesting, *participating] if people_of[d.pk]}
        for person in invitees:
            add(Row(Invitation, pk=load.pk(Invitation), meeting_id=meeting.pk, person_id=person))
        viewers |= invitees
        if status != ItemStatus.SUBMITTED:
            add(
                Row(
                    Minutes,
                    pk=load.pk(Minutes),
                    meeting_id=meeting.pk,
                    conclusions="按计划推进",
                    recorded_by_id=coordinator,
                    final_milestones=[[f"{last_due:%Y-%m-%d}", "验收完成"]],
                    status=MinutesStatus.CONFIRMED,  # the item went past consensus
                )
            )
        if status in (ItemStatus.PLANNED, ItemStatus.EXECUTING, ItemStatus.CLOSED):
            for t in range(int(tasks_per_item) + (rnd.random() < tasks_per_item % 1)):
                department = ([requesting, *participating])[t % (1 + len(participating))]
                owner = rnd.choice(people_of[department.pk] or [requester])
                if rnd.random() < BUSY_SHARE:
                    owner = rnd.choice(busy)
                    department = department_of[owner]
                deadline = first_due + timedelta(days=t * 5)
                done = status == ItemStatus.CLOSED or (deadline < today and rnd.random() < 0.8)
                # The requester receives the work, unless it is their own: then the coordinator
                # (the application refuses an owner who receives their own deliverable).
                receiver = requester if owner != requester else coordinator
                task = Row(
                    Task,
                    pk=load.pk(Task),
                    item_id=item.pk,
                    name=f"任务{t + 1}",
                    owner_id=owner,
                    delivery_standard="测试用例覆盖率≥95%",
                    deadline=deadline,
                    receiver_id=receiver,
                    department=department,
                    created_by_id=coordinator,
                    status=TaskStatus.DONE
                    if done
                    else rnd.choice([TaskStatus.IN_PROGRESS, TaskStatus.NOT_STARTED]),
                    percent_done=100 if done else rnd.randrange(0, 90, 10),
                    last_reported_at=submitted + timedelta(days=5),
                )
                add(task)
                viewers |= {owner, receiver}
                late = deadline < today and not done
                per_task = reports_per_task * (3 if late else 1)
                for r in range(int(per_task) + (rnd.random() < per_task % 1)):
                    add(
                        Row(
                            ProgressReport,
                            pk=load.pk(ProgressReport),
                            task_id=task.pk,
                            reporter_id=owner,
                            status=TaskStatus.IN_PROGRESS,
                            percent_done=min(100, 30 * (r + 1)),
                            summary="按计划推进",
                            created_at=submitted + timedelta(days=3 + r),
                        )
                    )
                if status in (ItemStatus.EXECUTING, ItemStatus.CLOSED):
                    deliverable = Row(
                        Deliverable,
                        pk=load.pk(Deliverable),
                        task_id=task.pk,
                        name=f"成果{t + 1}",
                        deliverer_id=owner,
                        receiver_id=receiver,
                        acceptance_criteria="通过验收",
                        status=DeliverableStatus.SIGNED if done else DeliverableStatus.IN_REVIEW,
                    )
                    add(deliverable)
                    add(
                        Row(
                            DeliverableVersion,
                            pk=load.pk(DeliverableVersion),
                            deliverable_id=deliverable.pk,
                            number=1,
                            submitted_by_id=owner,
                            submitted_at=submitted + timedelta(days=10),
                            review_due_at=submitted + timedelta(days=11),
                        )
                    )
        # The grants of item_sync_permissions, computed by its rules.
        for user in viewers:
            add(
                Row(
                    UserObjectPermission,
                    permission=view,
                    content_type=content_type,
                    object_pk=str(item.pk),
                    user_id=user,
                )
            )
            add(Row(ItemVisibility, item_id=item.pk, user_id=user))
        for user in {requester, coordinator}:
            add(
                Row(
                    UserObjectPermission,
                    permission=change,
                    content_type=content_type,
                    object_pk=str(item.pk),
                    user_id=user,
                )
            )
        for department in {requesting, *participating}:
            add(
                Row(
                    GroupObjectPermission,
                    permission=view,
                    content_type=content_type,
                    object_pk=str(item.pk),
                    group_id=department.group_id,
                )
            )
            add(Row(ItemVisibility, item_id=item.pk, department_id=department.pk))
        for action in (
            "item.created",
            "item.submitted",
            "meeting.scheduled",
            "minutes.recorded",
            "task.created",
        ):
            add(
                Row(
                    AuditEntry,
                    actor_id=coordinator,
                    action=action,
                    target_type=item_type,
                    target_id=str(item.pk),
                    changes={},
                )
            )
    order = [
        "CollaborationItem",
        "Milestone",
        "Participation",
        "Meeting",
        "Invitation",
        "Minutes",
        "Task",
        "ProgressReport",
        "Deliverable",
        "DeliverableVersion",
    ]
    for name in order + [n for n in pending if n not in order]:
        load.insert(pending.get(name, []))
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(
            no_style(),
            [
                Group,
                Department,
                User,
                CollaborationItem,
                Milestone,
                Participation,
                Meeting,
                Invitation,
                Minutes,
                Task,
                ProgressReport,
                Deliverable,
                DeliverableVersion,
            ],
        ):
            cursor.execute(statement)
    # The rows above skip the services, which keep each item's stored health facts. The planner
    # must know the tables first: with the statistics of empty tables it runs each item's
    # subqueries as scans of whole tables (hours at 100,000 items instead of a minute).
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    item_health_refresh(CollaborationItem.objects.all())
    # The departments' rows of their items (DepartmentItem) are the database's triggers' work,
    # which the load goes around (PostgreSQL: session_replication_role = replica, in main, turns
    # them off with the foreign keys' checks; SQLite: a participation may go in before its item):
    # written again here in one statement, as the migration that made them did.
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {department_items.ROWS}")  # noqa: S608 (a constant)
        cursor.execute(department_items.fill_sql(DEPARTMENT_ITEM_COPIES))
    load.counts["requests_app.DepartmentItem"] = DepartmentItem.objects.count()
    return load.counts


def check_grants(sample: int = 20) -> None:
    """Re-syncs a sample of items with the application's own function: nothing may change."""
    ids = list(CollaborationItem.objects.order_by("?").values_list("pk", flat=True)[:sample])

    def snapshot() -> tuple[int, int, int]:
        pks = [str(pk) for pk in ids]
        return (
            UserObjectPermission.objects.filter(object_pk__in=pks).count(),
            GroupObjectPermission.objects.filter(object_pk__in=pks).count(),
            ItemVisibility.objects.filter(item_id__in=ids).count(),
        )

    before = snapshot()
    with transaction.atomic():
        for item in CollaborationItem.objects.filter(pk__in=ids):
            item_sync_permissions(item=item)
    after = snapshot()
    if before != after:
        raise SystemExit(f"Generated grants differ from item_sync_permissions: {before} != {after}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", action="store_true", help="a laptop-sized company")
    for name, value in FULL.items():
        parser.add_argument(f"--{name}", type=int, help=f"default {value} ({SMALL[name]} with --small)")
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args(argv)
    sizes = {name: getattr(options, name) or (SMALL if options.small else FULL)[name] for name in FULL}
    began = time.monotonic()
    if connection.vendor == "sqlite":
        # As on PostgreSQL below: the rows are consistent by construction, so no per-row
        # foreign-key checks (the pragma only takes effect outside a transaction), and a load
        # that fails is simply run again on a new file, so no waiting for the disk either.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA foreign_keys = OFF")
            cursor.execute("PRAGMA synchronous = OFF")
            cursor.execute("PRAGMA cache_size = -500000")
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # The rows are consistent by construction: skip the per-row deferred foreign-key
            # triggers, which otherwise queue millions of checks that run at commit.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
            counts = generate(sizes, seed=options.seed)
        else:
            # SQLite has no such switch: the open-task guard, which would refuse a task written
            # before its item, is dropped for the load and created again after it (in the same
            # transaction: a failed load keeps it). Every open task is on a live item by
            # construction.
            with connection.cursor() as cursor:
                for statement in open_task_guard.drop_sql("sqlite"):
                    cursor.execute(statement)
                counts = generate(sizes, seed=options.seed)
                for statement in open_task_guard.create_sql("sqlite"):
                    cursor.execute(statement)
    check_grants()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"Loaded in {time.monotonic() - began:.0f} s on {connection.vendor}: {sizes}")
    for name, count in sorted(counts.items()):
        print(f"  {name}: {count:,}")


if __name__ == "__main__":
    main()
