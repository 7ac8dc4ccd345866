"""Model fields shared by the apps.

``BoundedTextField``: free text that people type (a goal, a risk, feedback) has a maximum that
the forms enforce (``max_length`` becomes the form field's limit) and the database checks too, so
a 3 MB goal posted around the forms is refused instead of being stored, copied into the audit
log and rendered into a 6 MB page. ``LONG_TEXT`` fits several paragraphs; one-line reasons use
``SHORT_TEXT``.
"""

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import migrations, models
from django.db.models.functions import Length, Substr
from django.utils import timezone

LONG_TEXT = 4000
SHORT_TEXT = 1000


class BoundedTextField(models.TextField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", LONG_TEXT)
        super().__init__(*args, **kwargs)

    def db_check(self, connection: Any) -> str:
        # PostgreSQL's length() of text counts characters too; char_length is the standard name.
        length = "char_length" if connection.vendor == "postgresql" else "length"
        return f"{length}({connection.ops.quote_name(self.column)}) <= {int(self.max_length or LONG_TEXT)}"


def add_length_checks(app_label: str, fields: dict[str, list[str]]) -> migrations.RunPython:
    """A migration step that adds the length checks to existing PostgreSQL tables.

    A new table gets each column's check from ``db_check``, and SQLite rebuilds the table on
    AlterField (with the check); PostgreSQL's AlterField only manages the checks of Django's own
    field types, so the constraint is added here, under the name Django would give it.
    """

    def each(apps: Any, schema_editor: Any) -> Any:
        for model_name, names in fields.items():
            model = apps.get_model(app_label, model_name)
            for name in names:
                field = model._meta.get_field(name)
                constraint = schema_editor._create_index_name(
                    model._meta.db_table, [field.column], suffix="_check"
                )
                yield model, field, constraint

    def forward(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for model, field, constraint in each(apps, schema_editor):
            check = field.db_check(schema_editor.connection)
            schema_editor.execute(schema_editor._create_check_sql(model, constraint, check))

    def backward(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for model, _field, constraint in each(apps, schema_editor):
            table, name = (schema_editor.quote_name(n) for n in (model._meta.db_table, constraint))
            schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")

    return migrations.RunPython(forward, backward)


def trim_over_long(app_label: str, altered: list[migrations.AlterField]) -> migrations.RunPython:
    """A migration step, before ``altered`` bound free-text columns: a text longer than its new
    maximum is cut to it, since the database would refuse the check (PostgreSQL) or the copy into
    the rebuilt table (SQLite) and the migration would stop half-way.

    Nothing is lost: the full texts are written first to
    ``VAR_DIR/trimmed-texts/<app>-<time>.json`` (model, id, field, text), and the migration
    prints how many it cut and where they are.
    """

    def forward(apps: Any, schema_editor: Any) -> None:
        cut: list[dict[str, Any]] = []
        for operation in altered:
            limit = operation.field.max_length
            model = apps.get_model(app_label, operation.model_name)
            name = operation.name
            rows = model._default_manager.using(schema_editor.connection.alias).annotate(_length=Length(name))
            for pk, text in rows.filter(_length__gt=limit).values_list("pk", name):
                cut.append(
                    {"model": f"{app_label}.{operation.model_name}", "id": pk, "field": name, "text": text}
                )
            rows.filter(_length__gt=limit).update(**{name: Substr(name, 1, limit)})
        if not cut:
            return
        folder = Path(settings.VAR_DIR) / "trimmed-texts"
        folder.mkdir(parents=True, exist_ok=True)
        record = folder / f"{app_label}-{timezone.now():%Y%m%d-%H%M%S}.json"
        record.write_text(json.dumps(cut, ensure_ascii=False, indent=1), encoding="utf-8")
        print(
            f"\n  Cut {len(cut)} texts of {app_label} to their maximum length; the full texts are in {record}"
        )

    return migrations.RunPython(forward, migrations.RunPython.noop)
