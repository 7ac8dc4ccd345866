"""Model fields shared by the apps.

``BoundedTextField``: free text that people type (a goal, a risk, feedback) has a maximum that
the forms enforce (``max_length`` becomes the form field's limit) and the database checks too, so
a 3 MB goal posted around the forms is refused instead of being stored, copied into the audit
log and rendered into a 6 MB page. ``LONG_TEXT`` fits several paragraphs; one-line reasons use
``SHORT_TEXT``.
"""

from typing import Any

from django.db import models

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
