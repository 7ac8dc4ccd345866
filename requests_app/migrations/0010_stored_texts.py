from typing import Any

from django.db import migrations, models

from collab.audit.legacy_texts import CHANGE_REASONS, recognise, recogniser


def recognise_system_reasons(apps: Any, schema_editor: Any) -> None:
    """A reason the system gave ("Agreed in the meeting of …") gets its message id, so it is read
    in each reader's language; the rendered reason stays as it was."""
    RequirementChange = apps.get_model("requests_app", "RequirementChange")
    patterns = recogniser(CHANGE_REASONS)
    for change in RequirementChange.objects.only("pk", "reason").iterator():
        stored = recognise(change.reason, patterns)
        if stored is not None:
            RequirementChange.objects.filter(pk=change.pk).update(reason_text=stored)


class Migration(migrations.Migration):
    dependencies = [
        ("requests_app", "0009_form_drafts"),
    ]

    operations = [
        migrations.AddField(
            model_name="requirementchange",
            name="reason_text",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.RunPython(recognise_system_reasons, migrations.RunPython.noop, elidable=True),
    ]
