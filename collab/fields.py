"""Model fields shared by the apps.

``BoundedTextField``: free text that people type (a goal, a risk, feedback) has a maximum that
the forms enforce (``max_length`` becomes the form field's limit) and the database checks too, so
a 3 MB goal posted around the forms is refused instead of being stored, copied into the audit
log and rendered into a 6 MB page. ``LONG_TEXT`` fits several paragraphs; one-line reasons use
``SHORT_TEXT``.
"""

from typing import Any

from django.db import migrations, models

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

    def forward(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for model_name, names in fields.items():
            model = apps.get_model(app_label, model_name)
            for name in names:
                field = model._meta.get_field(name)
                constraint = schema_editor._create_index_name(
                    model._meta.db_table, [field.column], suffix="_check"
                )
                check = field.db_check(schema_editor.connection)
                schema_editor.execute(schema_editor._create_check_sql(model, constraint, check))

    return migrations.RunPython(forward, migrations.RunPython.noop)
