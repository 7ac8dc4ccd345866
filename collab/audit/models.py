from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from collab.audit.texts import display


class AuditEntry(models.Model):
    """One state change: who did what to which object, and the values that changed.

    Written only by collab.audit.services.audit_record, in the same transaction as the change.
    """

    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=64)
    target_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    target_id = models.CharField(max_length=64)
    # {"field": [old, new], ...} for edits; free-form details for other actions.
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    # A note the system wrote is stored untranslated (collab.audit.texts) in ``note_text`` and
    # rendered for each reader; ``note`` holds person-written notes, and for system notes the
    # text in the company's language (what rows older than note_text have only).
    note = models.TextField(_("note"), blank=True)
    note_text = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["target_type", "target_id", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action}"

    @property
    def note_display(self) -> str:
        """The note in the active language (a system note), or as written."""
        return display(self.note_text, self.note)
