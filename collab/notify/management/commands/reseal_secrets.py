"""Encrypts every stored credential again with the current key (the last step of a key rotation).

1. Set ``COLLAB_ENCRYPTION_KEY`` to the new key and ``COLLAB_ENCRYPTION_KEY_FALLBACKS`` to the
   old one; restart (everything still reads: the old key opens what it sealed).
2. ``python manage.py reseal_secrets``.
3. Remove the fallback and restart.
"""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from collab.lib.secretbox import reseal
from collab.notify.models import RobotChannel
from collab.org.models import DirectorySource


class Command(BaseCommand):
    help = "Encrypts every stored robot and directory credential again with COLLAB_ENCRYPTION_KEY."

    def handle(self, *args: Any, **options: Any) -> None:
        robots = sources = 0
        with transaction.atomic():
            for robot in RobotChannel.objects.select_for_update():
                # Read in clear (with the fallback keys), written sealed with the current key.
                robot.save(update_fields=["webhook_url", "secret"])
                robots += 1
            for source in DirectorySource.objects.select_for_update().exclude(sealed_secret=""):
                source.sealed_secret = reseal(
                    source.sealed_secret,
                    key_material=settings.ENCRYPTION_KEY,
                    fallbacks=settings.ENCRYPTION_KEY_FALLBACKS,
                )
                source.save(update_fields=["sealed_secret"])
                sources += 1
        self.stdout.write(f"Resealed {robots} group robots and {sources} directory sources.")
