"""Stages 5-6 of the template: deliverables and their acceptance (《成果验收表》), the
retrospective with its improvement measures (《协作流程优化记录》), and the item's archive."""

import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from collab.fields import BoundedTextField
from collab.org.models import Department
from requests_app.models import CollaborationItem
from tasks_app.models import Task

# ---------------------------------------------------------------------------------------------
# Stage 5: 成果交付与反馈 → 《成果验收表》


class DeliverableStatus(models.TextChoices):
    IN_REVIEW = "in_review", _("Waiting for review")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    ACCEPTED = "accepted", _("Accepted, awaiting signatures")
    SIGNED = "signed", _("Signed by both sides")


# The allowed moves of a deliverable's status: the review loop, then the two signatures.
DELIVERABLE_TRANSITIONS: dict[str, set[str]] = {
    DeliverableStatus.IN_REVIEW: {DeliverableStatus.CHANGES_REQUESTED, DeliverableStatus.ACCEPTED},
    DeliverableStatus.CHANGES_REQUESTED: {DeliverableStatus.IN_REVIEW},
    DeliverableStatus.ACCEPTED: {DeliverableStatus.SIGNED},
    DeliverableStatus.SIGNED: set(),
}


class Deliverable(models.Model):
    """What a task's owner delivers to its receiver, through versions, until both sign."""

    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="deliverables")
    name = models.CharField(_("deliverable"), max_length=200)
    deliverer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("deliverer"), on_delete=models.PROTECT, related_name="+"
    )
    receiver = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("receiver"), on_delete=models.PROTECT, related_name="+"
    )
    # Copied from the task's delivery standard when submitted: what the receiver checks against.
    acceptance_criteria = BoundedTextField(_("acceptance criteria"))
    status = models.CharField(
        _("status"), max_length=20, choices=DeliverableStatus.choices, default=DeliverableStatus.IN_REVIEW
    )
    created_at = models.DateTimeField(_("submitted"), auto_now_add=True)
    # Set when the second signature lands; nothing of the form changes after it.
    locked_at = models.DateTimeField(_("locked"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)  # optimistic lock of the row

    class Meta:
        verbose_name = _("deliverable")
        verbose_name_plural = _("deliverables")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.name


class ReviewDecision(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")


class DeliverableVersion(models.Model):
    """One submission of a deliverable (the first or a revision) and its review."""

    deliverable = models.ForeignKey(Deliverable, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    note = BoundedTextField(_("note"), blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(_("submitted"), auto_now_add=True)
    # Within 1 working day of submission, on the receiver's region calendar.
    review_due_at = models.DateTimeField(_("review due"), db_index=True)
    decision = models.CharField(_("decision"), max_length=20, choices=ReviewDecision.choices, blank=True)
    comments = BoundedTextField(_("feedback"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    # The acceptance form as the receiver accepted this version (canonical JSON): what both
    # signatures' content digest covers. A later requirement change does not alter it.
    # Nullable: SQLite adds a nullable column in place, while a NOT NULL one rebuilds the table,
    # which the signature guard's triggers (migration 0002) forbid.
    accepted_content = models.TextField(_("content as accepted"), null=True, blank=True)
    # Review reminders, claimed by the sweep like tasks_app.Alert (sent once).
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    overdue_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("deliverable version")
        verbose_name_plural = _("deliverable versions")
        ordering = ["deliverable", "number"]
        # Dashboards: reviews decided in a period; pending reviews by deadline.
        indexes = [
            models.Index(fields=["reviewed_at"], name="version_reviewed_at"),
            models.Index(
                fields=["review_due_at"], name="version_review_pending", condition=models.Q(decision="")
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["deliverable", "number"], name="one_version_number_per_deliverable"
            ),
            models.CheckConstraint(
                condition=~models.Q(decision="changes_requested") | ~models.Q(comments=""),
                name="changes_requested_have_comments",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.deliverable} v{self.number}"


def deliverable_file_path(instance: "DeliverableFile", filename: str) -> str:
    # A neutral stored name; the original (often Chinese) name is kept in a column.
    suffix = PurePath(filename).suffix.lower()[:16]
    return f"deliverables/{instance.version.deliverable_id}/{instance.uuid}{suffix}"


class DeliverableFile(models.Model):
    version = models.ForeignKey(DeliverableVersion, on_delete=models.CASCADE, related_name="files")
    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    file = models.FileField(upload_to=deliverable_file_path)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("deliverable file")
        verbose_name_plural = _("deliverable files")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.original_name


class SignerRole(models.TextChoices):
    DELIVERER = "deliverer", _("Deliverer")
    RECEIVER = "receiver", _("Receiver")


class Signature(models.Model):
    """A signature of the acceptance form (双方签字确认): who, when, from where, on what content."""

    deliverable = models.ForeignKey(Deliverable, on_delete=models.PROTECT, related_name="signatures")
    version = models.ForeignKey(DeliverableVersion, on_delete=models.PROTECT, related_name="signatures")
    role = models.CharField(_("signed as"), max_length=16, choices=SignerRole.choices)
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("signer"), on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(_("signed"), auto_now_add=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    # SHA-256 of the form's canonical content (JSON) and of each file, at the moment of signing.
    content_digest = models.CharField(_("content digest"), max_length=64)
    files_digest = models.CharField(_("files digest"), max_length=64)
    # An optional handwritten signature drawn in the browser, as a PNG data URL.
    drawing = models.TextField(_("handwritten signature"), blank=True)

    class Meta:
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        ordering = ["signed_at", "pk"]
        constraints = [
            # Nobody signs twice, and each side signs once.
            models.UniqueConstraint(fields=["deliverable", "role"], name="one_signature_per_side"),
            models.UniqueConstraint(fields=["deliverable", "signer"], name="one_signature_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.deliverable} {self.role}"


# ---------------------------------------------------------------------------------------------
# Stage 6: 归档与复盘 → 《协作流程优化记录》


class Retrospective(models.Model):
    """The retrospective meeting (复盘会) of an item."""

    item = models.OneToOneField(CollaborationItem, on_delete=models.PROTECT, related_name="retrospective")
    held_on = models.DateField(_("retrospective date"))
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("participants"), related_name="+"
    )
    # The retrospective's forms allow five of its measures' length (retro_services).
    highlights = BoundedTextField(_("highlights"), max_length=10000)
    shortcomings = BoundedTextField(_("shortcomings"), max_length=10000)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("retrospective")
        verbose_name_plural = _("retrospectives")

    def __str__(self) -> str:
        return f"{self.item} {self.held_on}"


class MeasureStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")


# The allowed moves of a measure: it is done once, with a note saying how.
MEASURE_TRANSITIONS: dict[str, set[str]] = {
    MeasureStatus.OPEN: {MeasureStatus.DONE},
    MeasureStatus.DONE: set(),
}


class ImprovementMeasure(models.Model):
    """An improvement measure (改进措施): a row of the company-wide process-improvement log."""

    retrospective = models.ForeignKey(Retrospective, on_delete=models.CASCADE, related_name="measures")
    text = BoundedTextField(_("improvement measure"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="improvement_measures",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="improvement_measures",
    )
    due_date = models.DateField(_("due date"))
    status = models.CharField(
        _("status"), max_length=8, choices=MeasureStatus.choices, default=MeasureStatus.OPEN, db_index=True
    )
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_note = BoundedTextField(_("how it was done"), blank=True)
    # When the owner was told the measure is overdue: the sweep's claim (told once).
    overdue_told_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("improvement measure")
        verbose_name_plural = _("process-improvement log")
        ordering = ["status", "due_date", "pk"]
        indexes = [
            # The overdue sweep's scan: open measures not yet told, by due date.
            models.Index(
                fields=["due_date"],
                condition=models.Q(status="open", overdue_told_at=None),
                name="measure_overdue_untold",
            )
        ]

    def __str__(self) -> str:
        return self.text[:50]


class ArchiveStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    BUILDING = "building", _("Building")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


# The allowed moves of an archive: claimed by one worker, then ready or failed; a build whose
# worker was lost is queued again by the sweep (or failed after a few tries, or by the next
# request).
ARCHIVE_TRANSITIONS: dict[str, set[str]] = {
    ArchiveStatus.QUEUED: {ArchiveStatus.BUILDING, ArchiveStatus.FAILED},
    ArchiveStatus.BUILDING: {ArchiveStatus.READY, ArchiveStatus.FAILED, ArchiveStatus.QUEUED},
    ArchiveStatus.READY: set(),
    ArchiveStatus.FAILED: set(),
}


class Archive(models.Model):
    """The item's archive (归档): one ZIP with every form as PDF and Excel, every file, a manifest.

    Built in the background; ``progress`` (0-100) and ``step`` show how far it got.
    """

    item = models.ForeignKey(CollaborationItem, on_delete=models.PROTECT, related_name="archives")
    status = models.CharField(
        _("status"), max_length=10, choices=ArchiveStatus.choices, default=ArchiveStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(default=0)
    step = models.CharField(max_length=200, blank=True)
    file = models.FileField(upload_to="archives/", blank=True)
    file_name = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The building worker's lease: renewed at every file; a lapsed one means the worker is gone
    # (reviews_app.archive_sweep). ``build_attempts`` counts claims, so a build that kills its
    # worker each time ends failed instead of looping.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    build_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("archive")
        verbose_name_plural = _("archives")
        ordering = ["-requested_at", "-pk"]

    def __str__(self) -> str:
        return self.file_name or f"{self.item} {self.status}"
