from typing import Any

from django.db import migrations, models

from collab.audit.legacy_texts import NOTIFICATIONS, recognise, recogniser


def recognise_system_texts(apps: Any, schema_editor: Any) -> None:
    """Old titles and bodies that are, word for word, a system message get its id, so they are
    read in each reader's language; the rendered text stays as it was."""
    Notification = apps.get_model("notify", "Notification")
    patterns = recogniser(NOTIFICATIONS)
    for row in Notification.objects.only("pk", "title", "body").iterator():
        title, body = recognise(row.title, patterns), recognise(row.body, patterns)
        if title is not None or body is not None:
            Notification.objects.filter(pk=row.pk).update(title_text=title, body_text=body)


class Migration(migrations.Migration):
    dependencies = [
        ("notify", "0004_encrypt_robot_credentials"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="title_text",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="notification",
            name="body_text",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.RunPython(recognise_system_texts, migrations.RunPython.noop, elidable=True),
    ]
