"""An index of the items whose number is not of their submission month, on PostgreSQL only (a
no-op elsewhere).

A number is YYYYMM and a sequence of the month the item was submitted in (``item_submit``, the
Excel import), so a period of submission is a range of numbers, which the register's number
index answers directly, where a filter on the submission time alone walks the index from the
newest number down to the period (22,000 items at 100,000). An item entered with a number of its
own (``item_register_existing``) may break that rule: these items are the ones below, so the
register adds the number range only when no such item lies in the period
(``requests_app.selectors.period_numbers``).

"Of their submission month" allows two days either way of the submission time in UTC, so it
holds whatever time zone the number's month was taken in. Everything here is immutable, as an
index needs: the time zone is a constant, no session setting is read.
"""

from django.db import migrations

INDEX = "item_number_off_month"
# Frozen here as migrations are; selectors.NUMBER_OFF_MONTH is the same text (a PostgreSQL test
# checks the register's guard query is answered from this index).
PREDICATE = (
    "submitted_at IS NOT NULL AND (number_key IS NULL OR "
    "number_key / 10000000000 / 100 * 12 + MOD(number_key / 10000000000, 100) NOT BETWEEN "
    "EXTRACT(YEAR FROM (submitted_at AT TIME ZONE 'UTC') - INTERVAL '2 days') * 12 "
    "+ EXTRACT(MONTH FROM (submitted_at AT TIME ZONE 'UTC') - INTERVAL '2 days') AND "
    "EXTRACT(YEAR FROM (submitted_at AT TIME ZONE 'UTC') + INTERVAL '2 days') * 12 "
    "+ EXTRACT(MONTH FROM (submitted_at AT TIME ZONE 'UTC') + INTERVAL '2 days'))"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON requests_app_collaborationitem (submitted_at) WHERE {PREDICATE}"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("requests_app", "0014_item_health_facts"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
