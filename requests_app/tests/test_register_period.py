"""The register's period filter: a range of numbers where the numbers follow the submission
month, the submission time alone where an item entered with a number of its own lies in the
period."""

from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from collab.testing import Org, client_for, make_item, requirement
from requests_app import services
from requests_app.models import CollaborationItem
from requests_app.selectors import NUMBER_OFF_MONTH, register_items

pytestmark = pytest.mark.django_db

FIRST_HALF = {"submitted_from": "2026-01-01", "submitted_to": "2026-06-30"}


def made_at(org: Org, moment: datetime) -> CollaborationItem:
    with time_machine.travel(moment, tick=False):
        return make_item(org)


def registered(org: Org, number: str, submitted_at: datetime) -> CollaborationItem:
    return services.item_register_existing(
        actor=org.requester,
        requester=org.requester,
        data=requirement(org),
        number=number,
        submitted_at=submitted_at,
    )


def numbers(org: Org, **params: str) -> list[str]:
    response = client_for(org.requester).get(reverse("requests_app:register"), params)
    return [record.number for record, _row in response.context["rows"]]


def test_the_period_holds_every_item_submitted_in_it_whatever_its_number(org: Org) -> None:
    # 2025-12-31 17:00 UTC is 1 January 01:00 in Shanghai: numbered 202601, submitted in the period.
    new_year = made_at(org, datetime(2025, 12, 31, 17, 0, tzinfo=UTC))
    march = made_at(org, datetime(2026, 3, 10, 2, 0, tzinfo=UTC))
    july = made_at(org, datetime(2026, 6, 30, 16, 30, tzinfo=UTC))  # 1 July in Shanghai: after the period
    december = made_at(org, datetime(2025, 12, 31, 15, 0, tzinfo=UTC))  # 23:00 on 31 December: before it
    # A number of the period, submitted long before it: not in it.
    early = registered(org, "20260420", datetime(2024, 1, 5, 2, 0, tzinfo=UTC))
    assert numbers(org, **FIRST_HALF) == [march.number, new_year.number]

    # Entered with an old register's number, submitted in the period: in it, where its number sorts.
    old_number = registered(org, "20190307", datetime(2026, 4, 1, 2, 0, tzinfo=UTC))
    assert numbers(org, **FIRST_HALF) == [march.number, new_year.number, old_number.number]
    assert numbers(org, sort="number", **FIRST_HALF) == [old_number.number, new_year.number, march.number]
    assert numbers(org, submitted_from="2026-03-01") == [july.number, march.number, old_number.number]
    assert numbers(org, submitted_to="2026-01-31") == [early.number, new_year.number, december.number]


def test_a_page_of_the_period_takes_the_same_queries_with_or_without_odd_numbers(org: Org) -> None:
    made_at(org, datetime(2026, 3, 10, 2, 0, tzinfo=UTC))
    client = client_for(org.requester)
    url = f"{reverse('requests_app:register')}?submitted_from=2026-01-01&submitted_to=2026-06-30"
    client.get(url)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    plain = queries()
    registered(org, "20190307", datetime(2026, 4, 1, 2, 0, tzinfo=UTC))
    assert queries() == plain


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the range and its guard are PostgreSQL's")
def test_the_period_is_a_number_range_guarded_by_the_index_of_odd_numbers(org: Org) -> None:
    made_at(org, datetime(2026, 3, 10, 2, 0, tzinfo=UTC))
    period: dict[str, Any] = {"submitted_from": date(2026, 1, 1), "submitted_to": date(2026, 6, 30)}
    sql = str(register_items(org.requester, period).query)
    assert '"number_key" >= 2025120000000000' in sql and '"number_key" < 2026080000000000' in sql, sql
    registered(org, "20190307", datetime(2026, 4, 1, 2, 0, tzinfo=UTC))
    assert '"number_key" >=' not in str(register_items(org.requester, period).query)

    with connection.cursor() as cursor:
        # A handful of rows: a plain scan would win; leave the planner only the indexes.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            f"EXPLAIN SELECT 1 FROM requests_app_collaborationitem WHERE {NUMBER_OFF_MONTH}"  # noqa: S608
            " AND submitted_at >= %s AND submitted_at < %s",
            [datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "item_number_off_month" in plan, plan
