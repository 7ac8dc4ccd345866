"""Two of the notification table's seven indexes go, and one of the delivery table's nine: every
notification and delivery written paid for them.

- ``recipient_id``'s own index: the (recipient, read_at, created_at) index starts with it.
- The ``varchar_pattern_ops`` index PostgreSQL's backend adds for a unique ``CharField``
  (LIKE on the key): nothing searches the keys by pattern. The uniqueness stays, now as a
  constraint in the model's state; its index is the one the column's UNIQUE made
  (``notify_notification_dedupe_key_key``), kept as it is, so nothing is rebuilt.
- A delivery's ``robot_id`` index: the (robot, last_attempt_at) index starts with it.
"""

from typing import Any

from django.conf import settings
from django.db import migrations, models

LIKE_INDEX = "notify_notification_dedupe_key_009421cd_like"


def drop_like_index(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":  # the only backend that adds it
        schema_editor.execute(f"DROP INDEX IF EXISTS {LIKE_INDEX}")


def create_like_index(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {LIKE_INDEX} ON notify_notification (dedupe_key varchar_pattern_ops)"
        )


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("notify", "0005_stored_texts"),
    ]

    operations = [
        migrations.AlterField(
            model_name="notification",
            name="recipient",
            field=models.ForeignKey(
                db_index=False,
                on_delete=models.deletion.CASCADE,
                related_name="notifications",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="robot",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=models.deletion.CASCADE,
                related_name="deliveries",
                to="notify.robotchannel",
                verbose_name="group robot",
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="notification",
                    name="dedupe_key",
                    field=models.CharField(blank=True, max_length=200, null=True),
                ),
                migrations.AddConstraint(
                    model_name="notification",
                    constraint=models.UniqueConstraint(
                        fields=("dedupe_key",), name="notify_notification_dedupe_key_key"
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop_like_index, create_like_index)],
        ),
    ]
