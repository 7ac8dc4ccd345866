"""A page of the register and how many rows the filters leave, at a cost that does not grow with
the register: the page reads one row more than it shows (so it knows whether a next page
exists), and an exact COUNT runs only when it reads few rows.

A person who sees 50,000 items would otherwise pay for counting all of them on every page: an
exact count, even one stopped at 2,001 rows, probes each counted item's visibility (22-66 ms at
100,000 items, see bench/RESULTS.md), more than the page of 25 rows itself.
"""

from dataclasses import dataclass
from html import escape
from math import ceil
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from collab.lib.xlsx import as_text
from requests_app.models import CollaborationItem
from requests_app.register import RegisterLabels, RegisterRecord, records_of, register_values
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
class RegisterPage:
    """What the register's template reads (the names of Django's Page, where they mean the same)."""

    object_list: list[RegisterRecord]
    number: int
    counted: Counted
    has_next: bool

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
    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    def previous_page_number(self) -> int:
        return self.number - 1

    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def num_pages(self) -> int:
        # An estimate below the truth must not end the paging before the rows do.
        return max(ceil(self.count / PAGE_SIZE), self.number + 1 if self.has_next else self.number, 1)


def page_number(value: Any) -> int:
    """The page asked for; anything that is not a page number asks for the first."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 1
    return number if 1 <= number <= 1_000_000 else 1


def register_page(items: QuerySet[CollaborationItem], number: int) -> RegisterPage:
    """Page ``number`` of ``items`` (ordered), PAGE_SIZE rows; a page past the end shows the first.

    The page's ids come first (the sort and the filters in one query, no joins), then its rows
    as plain values (``records_of``: five queries, no model instances). Rows are read by OFFSET:
    a deep page costs the rows before it, which people paging through 50,000 items one page at a
    time do not reach; the filters are how they find an item."""
    bottom = (number - 1) * PAGE_SIZE
    ids = list(items.values_list("pk", flat=True)[bottom : bottom + PAGE_SIZE + 1])
    if not ids and number > 1:
        return register_page(items, 1)
    has_next = len(ids) > PAGE_SIZE
    rows = list(records_of(ids[:PAGE_SIZE])) if ids else []
    if not has_next:
        # The last page: the rows before it and on it are all there are, nothing to count.
        return RegisterPage(rows, number, Counted(bottom + len(ids)), has_next=False)
    counted = count_rows(items)
    # An estimate below the rows already seen says at least as many as were seen.
    seen = bottom + PAGE_SIZE + 1
    if counted.count < seen:
        counted = Counted(seen, estimated=counted.estimated, at_least=counted.at_least)
    return RegisterPage(rows, number, counted, has_next=True)


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
