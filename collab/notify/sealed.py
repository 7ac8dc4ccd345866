"""A text column kept encrypted at rest (``collab.lib.secretbox``), read and written in clear.

The robots' webhook URLs (which carry the token) and signing secrets use it: code and the admin
read ``robot.secret`` as before, while the database, its dumps and backups hold only ciphertext.
The key is ``COLLAB_ENCRYPTION_KEY`` (default: the secret key) with
``COLLAB_ENCRYPTION_KEY_FALLBACKS`` for rotation. A value written before encryption (no prefix)
is read as it is, so the migration can encrypt rows one by one.
"""

from typing import Any

from django.conf import settings
from django.db import models

from collab.lib.secretbox import PREFIX, seal, unseal


def open_value(value: str) -> str:
    if not value or not value.startswith(PREFIX):
        return value
    return unseal(value, key_material=settings.ENCRYPTION_KEY, fallbacks=settings.ENCRYPTION_KEY_FALLBACKS)


class SealedTextField(models.TextField):
    """Encrypted in the database; each write makes a new ciphertext (so it cannot be looked up)."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return value if value is None else open_value(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if not value or str(value).startswith(PREFIX):
            return value
        return seal(str(value), key_material=settings.ENCRYPTION_KEY)
