"""A trigram index for the register's text filter, on PostgreSQL only (a no-op elsewhere).

The filter looks for the words in the item's number, topic, goal, scope and remarks together:
``requests_app.selectors.text_search_sql`` writes this index's expression, so the planner can use
the index for ``LIKE '%…%'`` (pg_trgm answers words of three characters or more from it).
"""

from django.db import migrations

INDEX = "item_text_search_trgm"
# Frozen here as migrations are; a PostgreSQL test checks the register's query uses the index.
EXPRESSION = "UPPER(COALESCE(number, '') || ' ' || topic || ' ' || goal || ' ' || scope || ' ' || remarks)"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON requests_app_collaborationitem "
        f"USING gin (({EXPRESSION}) gin_trgm_ops)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("requests_app", "0010_stored_texts"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
