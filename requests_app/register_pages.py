"""A page of the register and how many rows the filters leave, at a cost that does not grow with
the register: the page reads one row more than it shows (so it knows whether a next page
exists), an exact COUNT runs only when it reads few rows, and a page past the first starts
after (or before) a row's sort values (keyset paging, register_keyset.py) instead of reading and
dropping the rows before it.

A person who sees 50,000 items would otherwise pay for counting all of them on every page: an
exact count, even one stopped at 2,001 rows, probes each counted item's visibility (22-66 ms at
100,000 items, see bench/RESULTS.md), more than the page of 25 rows itself.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from html import escape
from math import ceil
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from collab.lib.xlsx import as_text
from collab.org.models import Department, name_of
from requests_app.models import CollaborationItem, Meeting, Milestone, Participation
from requests_app.register import RegisterLabels, RegisterRecord, records_of, register_values, task_columns
from requests_app.register_keyset import (
    BadCursor,
    SortKey,
    beyond,
    cursor_of,
    cursor_values,
    reversed_order,
    sort_keys,
)
from requests_app.selectors import estimated_count

PAGE_SIZE = 25
# The planner's estimate is shown (labelled as one) above this many rows; at or below it the rows
# are counted exactly, the count stopping after COUNT_CAP rows whatever the estimate said.
ESTIMATE_ABOVE = 1000
COUNT_CAP = 2000


@dataclass(frozen=True)
class Counted:
    count: int
    estimated: bool = False  # the planner's estimate (PostgreSQL)
    at_least: bool = False  # "more than count" (a database without estimates, past COUNT_CAP)


def count_rows(items: QuerySet[CollaborationItem]) -> Counted:
    """How many rows ``items`` holds: exact when few, else the planner's estimate (PostgreSQL,
    read from EXPLAIN without reading rows) or "more than COUNT_CAP" (SQLite)."""
    estimate = estimated_count(items)
    if estimate is not None and estimate > ESTIMATE_ABOVE:
        return Counted(estimate, estimated=True)
    # Without the page's ORDER BY: a count needs no sort, so the planner may pick a cheaper plan.
    exact = items.order_by()[: COUNT_CAP + 1].count()
    if exact <= COUNT_CAP:
        return Counted(exact)
    if estimate is None:
        return Counted(COUNT_CAP, at_least=True)
    return Counted(max(estimate, exact), estimated=True)


@dataclass(frozen=True)
class Place:
    """Where the asked-for page starts, as its URL says: after or before a row (a cursor from the
    page's own links), or a page number (OFFSET, only for the first JUMP_PAGES pages)."""

    number: int = 1
    after: str = ""
    before: str = ""
    at: int = 0  # rows before the page, as the link that led here counted them (only shown)


def place_of(query: QueryDict) -> Place:
    return Place(
        number=page_number(query.get("page")),
        after=query.get("after", ""),
        before=query.get("before", ""),
        at=_whole(query.get("at")),
    )


# Query parameters that say where a page starts; the filters and the export link drop them.
PLACE_PARAMETERS = ("page", "after", "before", "at")


@dataclass(frozen=True)
class RegisterPage:
    """What the register's template reads (the names of Django's Page, where they mean the same)."""

    object_list: list[RegisterRecord]
    start: int  # rows before this page
    counted: Counted
    has_next: bool
    has_previous: bool
    next_cursor: str = ""  # the last row's sort values
    previous_cursor: str = ""  # the first row's
    notice: str = ""  # why the page shown is not the one asked for

    @property
    def count(self) -> int:
        return self.counted.count

    @property
    def estimated(self) -> bool:
        return self.counted.estimated

    @property
    def at_least(self) -> bool:
        return self.counted.at_least

    @property
    def number(self) -> int:
        return self.start // PAGE_SIZE + 1

    @property
    def first_row(self) -> int:
        return self.start + 1

    @property
    def last_row(self) -> int:
        return self.start + len(self.object_list)

    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    @property
    def num_pages(self) -> int:
        # An estimate below the truth must not end the paging before the rows do.
        return max(ceil(self.count / PAGE_SIZE), self.number + 1 if self.has_next else self.number, 1)


def page_number(value: Any) -> int:
    """The page asked for; anything that is not a page number asks for the first."""
    number = _whole(value)
    return number if 1 <= number <= 1_000_000 else 1


def _whole(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 0
    return number if 0 <= number <= 100_000_000 else 0


# ?page=N is read by OFFSET, which costs the rows before the page: only the first few pages.
JUMP_PAGES = 10


def register_page(items: QuerySet[CollaborationItem], place: Place) -> RegisterPage:
    """The page of ``items`` (ordered by one of the register's sorts) that ``place`` asks for,
    PAGE_SIZE rows; a page past the end, a cursor that is not valid or a page number past
    JUMP_PAGES shows the first page (the last two with a notice saying why).

    The page's ids and sort values come first (the sort and the filters in one query, no
    joins), then its rows as plain values (``records_of``: five queries, no model instances).
    """
    keys = sort_keys(items)
    try:
        if place.after:
            return _page_after(items, keys, cursor_values(place.after, keys), place.at)
        if place.before:
            return _page_before(items, keys, cursor_values(place.before, keys), place.at)
    except BadCursor:
        return _first_page(
            items,
            keys,
            _("This page link is not valid (it may have been cut short): here is the first page."),
        )
    if place.number > JUMP_PAGES:
        notice = _(
            "Pages past %(pages)s are reached with Next, or narrow the filters: here is the first page."
        ) % {"pages": JUMP_PAGES}
        return _first_page(items, keys, notice)
    return _numbered_page(items, keys, place.number)


def _first_page(items: QuerySet[CollaborationItem], keys: list[SortKey], notice: str = "") -> RegisterPage:
    return _numbered_page(items, keys, 1, notice)


def _numbered_page(
    items: QuerySet[CollaborationItem], keys: list[SortKey], number: int, notice: str = ""
) -> RegisterPage:
    bottom = (number - 1) * PAGE_SIZE
    rows = _key_rows(items, keys, bottom)
    if not rows and number > 1:
        return _first_page(items, keys, notice)
    has_next = len(rows) > PAGE_SIZE
    if not has_next:
        # The last page: the rows before it and on it are all there are, nothing to count.
        return _page(
            rows,
            bottom,
            Counted(bottom + len(rows)),
            has_next=False,
            has_previous=number > 1,
            notice=notice,
        )
    return _page(
        rows[:PAGE_SIZE],
        bottom,
        _counted(items, bottom + PAGE_SIZE + 1),
        has_next=True,
        has_previous=number > 1,
        notice=notice,
    )


def _page_after(
    items: QuerySet[CollaborationItem], keys: list[SortKey], boundary: list[Any], at: int
) -> RegisterPage:
    rows = _rows_beyond(items, keys, beyond(keys, boundary))
    if not rows:
        return _first_page(items, keys)  # the rows after the link's row are gone
    has_next = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return _page(rows, at, _counted(items, at + len(rows) + has_next), has_next=has_next, has_previous=True)


def _page_before(
    items: QuerySet[CollaborationItem], keys: list[SortKey], boundary: list[Any], at: int
) -> RegisterPage:
    upwards = items.order_by(*reversed_order(keys))
    rows = _rows_beyond(upwards, keys, beyond(keys, boundary, backwards=True))
    if len(rows) <= PAGE_SIZE:
        return _first_page(items, keys)  # no row before these: they are the first page's
    rows = rows[:PAGE_SIZE][::-1]
    start = max(at, 1)  # there are rows before these
    return _page(rows, start, _counted(items, start + PAGE_SIZE + 1), has_next=True, has_previous=True)


def _rows_beyond(
    items: QuerySet[CollaborationItem], keys: list[SortKey], parts: list[Q]
) -> list[tuple[Any, ...]]:
    """The sort values of up to PAGE_SIZE + 1 rows beyond a cursor, read part after part (one
    query, two where a page crosses from one status to the next or into the rows without a
    deadline)."""
    rows: list[tuple[Any, ...]] = []
    for part in parts:
        rows += list(items.filter(part).values_list(*(key.name for key in keys))[: PAGE_SIZE + 1 - len(rows)])
        if len(rows) > PAGE_SIZE:
            break
    return rows


def _key_rows(
    items: QuerySet[CollaborationItem], keys: list[SortKey], bottom: int = 0
) -> list[tuple[Any, ...]]:
    """The sort values of a page's rows and of the one after it, the primary key last (every
    register sort ends with it)."""
    return list(items.values_list(*(key.name for key in keys))[bottom : bottom + PAGE_SIZE + 1])


def _page(
    rows: list[tuple[Any, ...]],
    start: int,
    counted: Counted,
    *,
    has_next: bool,
    has_previous: bool,
    notice: str = "",
) -> RegisterPage:
    ids = [row[-1] for row in rows]
    return RegisterPage(
        page_records(ids),
        start,
        counted,
        has_next=has_next,
        has_previous=has_previous,
        next_cursor=cursor_of(rows[-1]) if has_next else "",
        previous_cursor=cursor_of(rows[0]) if has_previous and rows else "",
        notice=notice,
    )


def page_records(ids: Sequence[int]) -> list[RegisterRecord]:
    """The records of a page's items, in the order of ``ids``: what ``records_of`` reads, in two
    statements on PostgreSQL (the items with their names, participants, milestones and meetings
    as arrays, then the task lines), five elsewhere. Building and compiling ``records_of``'s four
    ORM querysets cost more CPU than the page's SQL; this statement is written once."""
    if not ids:
        return []
    if connection.vendor != "postgresql":
        return list(records_of(ids))
    with connection.cursor() as cursor:
        cursor.execute(_page_rows_sql(), [list(ids)])
        rows = {row[0]: row for row in cursor.fetchall()}
    tasks = task_columns().lines_for(ids)
    records = []
    for pk in ids:
        if (row := rows.get(pk)) is None:
            continue  # deleted since the ids were read
        (
            _pk,
            number,
            topic,
            goal,
            scope,
            remarks,
            status,
            last_due,
            cells,
            department,
            first,
            last,
            login,
            participants,
            milestones,
            meetings,
        ) = row
        records.append(
            RegisterRecord(
                pk=pk,
                number=number or "",
                topic=topic,
                goal=goal,
                scope=scope,
                remarks=remarks,
                status=status,
                last_milestone_due=last_due,
                imported_cells=json.loads(cells) if isinstance(cells, str) else cells,
                requesting_department=department,
                requester=name_of(first, last, login),
                participants=[(name, role) for name, role in participants],
                milestone_dates=milestones,
                meeting_forms=meetings,
                tasks=tasks.get(pk, []),
            )
        )
    return records


@cache
def _page_rows_sql() -> str:
    """The page's rows as one statement (PostgreSQL): the order of each array is records_of's."""
    item, participation = CollaborationItem._meta.db_table, Participation._meta.db_table
    milestone, meeting = Milestone._meta.db_table, Meeting._meta.db_table
    department, user = Department._meta.db_table, get_user_model()._meta.db_table
    # Only our own table and column names are interpolated; the ids are one bound parameter.

    def name(column: str) -> str:
        # A department's name by its primary key, one index probe (a join hashed all 200
        # departments once per item).
        return f"(SELECT name FROM {department} WHERE id = {column})"  # noqa: S608

    return (
        "SELECT i.id, i.number, i.topic, i.goal, i.scope, i.remarks, i.status, i.last_milestone_due, "  # noqa: S608
        f"i.imported_cells, {name('i.requesting_department_id')}, u.first_name, u.last_name, u.username, "
        f"ARRAY(SELECT ARRAY[{name('p.department_id')}, p.role] FROM {participation} p "
        "WHERE p.item_id = i.id ORDER BY p.id), "
        f"ARRAY(SELECT m.due_date FROM {milestone} m WHERE m.item_id = i.id ORDER BY m.due_date, m.id), "
        f"ARRAY(SELECT mt.form FROM {meeting} mt WHERE mt.item_id = i.id ORDER BY mt.starts_at, mt.id) "
        f"FROM {item} i JOIN {user} u ON u.id = i.requester_id WHERE i.id = ANY(%s)"
    )


def _counted(items: QuerySet[CollaborationItem], seen: int) -> Counted:
    """The count shown on a page with more rows after it; an estimate below the rows already
    seen says at least as many as were seen."""
    counted = count_rows(items)
    if counted.count < seen:
        counted = Counted(seen, estimated=counted.estimated, at_least=counted.at_least)
    return counted


@dataclass(frozen=True)
class PagerLinks:
    first: str
    previous: str
    next: str


def pager_links(page: RegisterPage, query: str) -> PagerLinks:
    """The pager's links (the filters and sort of ``query`` kept): previous and next carry the
    boundary row's sort values and the position the next page starts at."""
    base = f"?{query}&" if query else "?"

    def link(**place: Any) -> str:
        return base + urlencode(place)

    return PagerLinks(
        first=f"?{query}",
        previous=link(before=page.previous_cursor, at=max(page.start - PAGE_SIZE, 0))
        if page.has_previous
        else "",
        next=link(after=page.next_cursor, at=page.last_row) if page.has_next else "",
    )


def page_row(record: RegisterRecord, labels: RegisterLabels, link: str) -> SafeString:
    """One row of the page: the register's texts (``register_values``) as escaped cells."""
    return row_html(record.pk, [as_text(v) for v in register_values(record, labels)], link)


def row_html(pk: int, cells: list[str], link: str) -> SafeString:
    """One row's cells as the page shows them: the number links to the item (``link`` holds
    ITEM_PK where its id goes: one reverse() per page), line breaks kept as <br>, every text
    escaped. Written here rather than by a template loop over 25 x 11 cells and Django's
    linebreaksbr filter, which cost more CPU than the page's SQL."""
    number, *rest = cells
    html = [f'<td class="col-1"><a href="{link.replace(ITEM_PK, str(pk))}">{escape(number)}</a></td>']
    html.extend(
        f'<td class="col-{column}">{_with_breaks(text)}</td>' for column, text in enumerate(rest, start=2)
    )
    return mark_safe("".join(html))  # noqa: S308 - every text above is escaped


# Stands for the item's id in the link given to row_html: digits, so the URL pattern accepts it.
ITEM_PK = "9876543210"


def item_link() -> str:
    return escape(reverse("requests_app:item_detail", args=[ITEM_PK]))


def _with_breaks(text: str) -> str:
    """Django's linebreaksbr: escaped, each line break (\n, \r\n or \r) a <br>."""
    text = escape(text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\n", "<br>")
