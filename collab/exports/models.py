"""An Excel export written in the background: asked for on a page, built by a worker, kept for
the person who asked for it for a while, then removed."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    BUILDING = "building", _("Being written")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Removed")


# The allowed moves: claimed by one worker, then ready or failed; a build whose worker was lost is
# queued again by the sweep (or failed after a few tries); a ready file is removed after its time.
EXPORT_TRANSITIONS: dict[str, set[str]] = {
    ExportStatus.QUEUED: {ExportStatus.BUILDING, ExportStatus.FAILED},
    ExportStatus.BUILDING: {ExportStatus.READY, ExportStatus.FAILED, ExportStatus.QUEUED},
    ExportStatus.READY: {ExportStatus.EXPIRED},
    ExportStatus.FAILED: set(),
    ExportStatus.EXPIRED: set(),
}

ACTIVE_STATUSES = (ExportStatus.QUEUED, ExportStatus.BUILDING)


class Export(models.Model):
    """One requested export. ``kind`` names the registered writer (``collab.exports.kinds``),
    ``query`` the page's filters as its query string; the file is written in the language and
    time zone of the request."""

    kind = models.CharField(max_length=40)
    query = models.CharField(max_length=2000, blank=True)
    language = models.CharField(max_length=16)
    zone = models.CharField(max_length=64)
    file_name = models.CharField(max_length=255)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        _("status"), max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to="exports/", blank=True)
    error = models.TextField(blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # The writing worker's lease, renewed as rows are written; a lapsed one means the worker is
    # gone (the sweep queues the export again, or fails it after a few claims).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    build_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("Excel export")
        verbose_name_plural = _("Excel exports")
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="export_sweep")]

    def __str__(self) -> str:
        return self.file_name

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.READY:
            return 100
        return min(99, self.rows_done * 100 // self.rows_total) if self.rows_total else 0
