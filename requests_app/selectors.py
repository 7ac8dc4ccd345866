"""Reads of stage 1 that span relations: the items a person may see, the register's rows."""

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from collab.org.calendar import calendar_for
from collab.org.models import Department
from requests_app.models import (
    NUMBER_KEY_SHIFT,
    SCENARIO_PRESETS,
    CollaborationItem,
    FormDraft,
    ItemStatus,
    ItemVisibility,
    Meeting,
    Milestone,
    Participation,
)
from requests_app.register import task_columns

VIEW = "requests_app.view_collaborationitem"


def visible_items(user: Any) -> QuerySet[CollaborationItem]:
    """Items the user's departments take part in, plus their own drafts and coordinations.

    The one entry point for "which items may this person see": EXISTS on ItemVisibility (kept
    by ``item_sync_permissions``), probed per item through its (item, department) and (item,
    user) unique indexes. PostgreSQL plans it as a semi-join of its choice; SQLite walks the
    page's sort index and probes, where ``pk IN (subquery)`` made it collect and sort every
    visible item before keeping 25 (128 ms at 20,000 items, 0.3 ms as EXISTS).
    """
    items = CollaborationItem.objects.all()
    if not getattr(user, "is_active", False):
        return items.none()
    if user.is_superuser:
        return items
    # The person's departments first (a tiny query): a list lets the database combine two index
    # scans, where a subquery inside the OR made it read every visibility row.
    departments = list(Department.objects.filter(group__user=user).values_list("pk", flat=True))
    seen = ItemVisibility.objects.filter(item=OuterRef("pk")).filter(
        Q(user=user) | Q(department_id__in=departments)
    )
    return items.filter(Exists(seen))


def suggested_meeting_start(item: CollaborationItem, organiser: Any, now: datetime | None = None) -> datetime:
    """When to propose the item's meeting: as soon as its scenario asks (two or three working days,
    two working hours for an emergency), inside the organiser's region's working hours on a
    working day, in that region's time zone."""
    region = getattr(getattr(organiser, "person", None), "region", None)
    hours = SCENARIO_PRESETS[item.scenario].meeting_lead_hours
    calendar = calendar_for(region)
    if hours >= 24:
        return calendar.suggest(now or timezone.now(), working_days=hours // 24)
    return calendar.suggest(now or timezone.now(), working_hours=hours)


def with_register_data(items: QuerySet[CollaborationItem]) -> QuerySet[CollaborationItem]:
    """Everything the register shows, in a fixed number of queries whatever the row count."""
    tasks = task_columns().prefetch()
    return items.select_related("requesting_department", "requester", "coordinator").prefetch_related(
        Prefetch("participations", queryset=Participation.objects.select_related("department")),
        Prefetch("milestones", queryset=Milestone.objects.order_by("due_date", "pk")),
        Prefetch("meetings", queryset=Meeting.objects.order_by("starts_at", "pk")),
        *([tasks] if tasks else []),
    )


# Each ends with the primary key: a total order, which the register's keyset paging needs to visit
# every row exactly once (register_keyset.py).
SORTS = {
    "-number": ["-number_key", "-pk"],
    "number": ["number_key", "pk"],
    "deadline": ["last_milestone_due", "number_key", "pk"],
    "topic": ["topic", "number_key", "pk"],
    "status": ["status", "-number_key", "-pk"],
}


def register_items(user: Any, filters: dict[str, Any]) -> QuerySet[CollaborationItem]:
    """The register's rows for ``user`` after the filter form's cleaned values."""
    items = visible_items(user).exclude(status=ItemStatus.DRAFT)
    if q := (filters.get("q") or "").strip():
        items = items.filter(text_search(q))
    if status := filters.get("status"):
        items = items.filter(status=status)
    if scenario := filters.get("scenario"):
        items = items.filter(scenario=scenario)
    if department := filters.get("department"):
        # The requesting and participating departments of a submitted item are its department
        # visibility rows: a semi-join on their index, no join repeating the item per
        # participation (and no DISTINCT over every column).
        items = items.filter(
            Exists(ItemVisibility.objects.filter(item=OuterRef("pk"), department=department))
        )
    after = _start_of(start) if (start := filters.get("submitted_from")) else None
    before = _start_of(end + timedelta(days=1)) if (end := filters.get("submitted_to")) else None
    if after:
        items = items.filter(submitted_at__gte=after)
    if before:
        items = items.filter(submitted_at__lt=before)
    if (numbers := period_numbers(after, before)) is not None:
        items = items.filter(numbers)
    return with_register_data(items).order_by(*SORTS.get(filters.get("sort") or "", SORTS["-number"]))


# The items whose number is not of their submission month (two days either way, in UTC): the
# predicate of migration 0015's partial index, the same text (the planner uses the index only for
# a query that repeats it).
NUMBER_OFF_MONTH = (
    "submitted_at IS NOT NULL AND (number_key IS NULL OR "
    "number_key / 10000000000 / 100 * 12 + MOD(number_key / 10000000000, 100) NOT BETWEEN "
    "EXTRACT(YEAR FROM (submitted_at AT TIME ZONE 'UTC') - INTERVAL '2 days') * 12 "
    "+ EXTRACT(MONTH FROM (submitted_at AT TIME ZONE 'UTC') - INTERVAL '2 days') AND "
    "EXTRACT(YEAR FROM (submitted_at AT TIME ZONE 'UTC') + INTERVAL '2 days') * 12 "
    "+ EXTRACT(MONTH FROM (submitted_at AT TIME ZONE 'UTC') + INTERVAL '2 days'))"
)
NUMBER_SLACK = timedelta(days=2)


def period_numbers(after: datetime | None, before: datetime | None) -> Q | None:
    """The numbers the items submitted in [after, before) have, as a range of the number key
    (PostgreSQL), or None when the range might leave one out or there is no period.

    An item's number is YYYYMM and a sequence of its submission month, so the period's numbers
    run from the month of ``after`` to the month of ``before`` (two days wider either way, for
    the time zone the month was taken in). The range is redundant with the period's own condition,
    but it is what the number index answers: the period's first page walked the index down from
    the newest number, dropping every item submitted since (22,000 at 100,000 items, 10-20 ms).
    Items entered with a number of their own may break the rule: when one of them lies in the
    period (an index of only those, migration 0015), no range is added.
    """
    if connection.vendor != "postgresql" or (after is None and before is None):
        return None
    conditions, params = [NUMBER_OFF_MONTH], []
    if after is not None:
        conditions.append("submitted_at >= %s")
        params.append(after)
    if before is not None:
        conditions.append("submitted_at < %s")
        params.append(before)
    table = CollaborationItem._meta.db_table
    with connection.cursor() as cursor:
        # Constant SQL; the moments are bound parameters.
        cursor.execute(f'SELECT EXISTS (SELECT 1 FROM "{table}" WHERE {" AND ".join(conditions)})', params)  # noqa: S608
        if cursor.fetchone()[0]:
            return None
    numbers = Q()
    if after is not None:
        numbers &= Q(number_key__gte=_month_key(after - NUMBER_SLACK))
    if before is not None:
        numbers &= Q(number_key__lt=_month_key(before + NUMBER_SLACK, months_later=1))
    return numbers


def _month_key(moment: datetime, months_later: int = 0) -> int:
    """The smallest number key of the month (in UTC) of ``moment``, or of a later month."""
    moment = moment.astimezone(UTC)
    month = moment.year * 12 + moment.month - 1 + months_later
    return (month // 12 * 100 + month % 12 + 1) * NUMBER_KEY_SHIFT


def text_search_sql(table: str = "") -> str:
    """The searched text of an item on PostgreSQL, upper-cased: the expression of the trigram
    index made by migration 0011 (the planner uses the index only for this same expression)."""
    prefix = f'"{table}".' if table else ""
    number, *texts = (f"{prefix}{name}" for name in ("number", "topic", "goal", "scope", "remarks"))
    return "UPPER(" + " || ' ' || ".join([f"COALESCE({number}, '')", *texts]) + ")"


def text_search(q: str) -> Q:
    """Items whose number, topic, goal, scope or remarks contain ``q``, ignoring case.

    On PostgreSQL one LIKE over the indexed expression (a pg_trgm GIN index: words of three
    characters or more are found through it); elsewhere the five columns one by one."""
    if connection.vendor == "postgresql":
        escaped = q.upper().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        sql = text_search_sql(CollaborationItem._meta.db_table)
        # Only constant column names are interpolated; the words are a bound parameter.
        return Q(RawSQL(f"{sql} LIKE %s", [f"%{escaped}%"], output_field=BooleanField()))  # noqa: S611
    return (
        Q(number__icontains=q)
        | Q(topic__icontains=q)
        | Q(goal__icontains=q)
        | Q(scope__icontains=q)
        | Q(remarks__icontains=q)
    )


def estimated_count(items: QuerySet[Any]) -> int | None:
    """The planner's estimate of how many rows ``items`` holds (PostgreSQL: EXPLAIN, no rows
    read), or None on a database that gives none."""
    if connection.vendor != "postgresql":
        return None
    sql, params = items.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def _start_of(day: date) -> datetime:
    """Midnight of ``day`` in the active time zone: a range on the indexed column, where
    ``__date`` would compute every row's local date."""
    return timezone.make_aware(datetime.combine(day, time.min))


def drafts_of(user: Any) -> QuerySet[CollaborationItem]:
    return (
        CollaborationItem.objects.filter(status=ItemStatus.DRAFT)
        .filter(Q(requester=user) | Q(coordinator=user))
        .order_by("-updated_at")
    )


def participating_departments(item: CollaborationItem) -> list[Department]:
    """The distinct departments taking part (a department may appear with several roles)."""
    seen: dict[int, Department] = {}
    for participation in item.participations.select_related("department__head"):
        seen.setdefault(participation.department_id, participation.department)
    return list(seen.values())


def item_parties(item: CollaborationItem) -> list[Any]:
    """Everyone to tell when the item itself changes: requester, coordinator, the heads and
    delegates of its departments, meeting invitees, and the people on its tasks."""
    from django.contrib.auth import get_user_model

    department_ids = {item.requesting_department_id} | {d.pk for d in participating_departments(item)}
    return list(
        get_user_model()
        .objects.filter(
            Q(pk__in=[item.requester_id, item.coordinator_id])
            | Q(headed_departments__in=department_ids)
            | Q(delegated_departments__in=department_ids)
            | Q(invitations__meeting__item=item)
            | Q(owned_tasks__item=item)
            | Q(collaborating_tasks__item=item)
            | Q(receiving_tasks__item=item),
            is_active=True,
        )
        .select_related("person")
        .distinct()
    )


def kept_draft(user: Any, form: str) -> FormDraft | None:
    """What ``user`` typed in ``form`` and has not sent yet, if anything (theirs alone)."""
    return FormDraft.objects.filter(owner=user, form=form).first()
