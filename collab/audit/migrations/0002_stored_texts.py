from typing import Any

from django.db import migrations, models

from collab.audit.legacy_texts import AUDIT_NOTES, CHANGE_REASONS, recognise, recogniser


def recognise_system_notes(apps: Any, schema_editor: Any) -> None:
    """Old notes the system wrote (rendered in the writer's language) get their message id, so
    they are read in each reader's language; the rendered note stays as it was."""
    AuditEntry = apps.get_model("audit", "AuditEntry")
    patterns = recogniser(AUDIT_NOTES + CHANGE_REASONS)
    for entry in AuditEntry.objects.exclude(note="").filter(note_text__isnull=True).only("pk", "note").iterator():
        stored = recognise(entry.note, patterns)
        if stored is not None:
            AuditEntry.objects.filter(pk=entry.pk).update(note_text=stored)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="note_text",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.RunPython(recognise_system_notes, migrations.RunPython.noop, elidable=True),
    ]
