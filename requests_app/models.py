"""Stage 1 of the template: the collaboration item and its requirement form (《协作需求确认表》).

One CollaborationItem is one row of the communication register. It is created as a draft, gets
its register number when submitted, and from then on changes only through a recorded
requirement change.
"""

import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from collab.org.models import Department


class Scenario(models.TextChoices):
    CROSS_DEPARTMENT = "cross_department", _("Cross-department project")
    CROSS_REGION = "cross_region", _("Cross-region task")
    EMERGENCY = "emergency", _("Emergency")
    ROUTINE_SYNC = "routine_sync", _("Routine sync")


class ItemStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted, awaiting consensus")


# The allowed moves of an item's status. Later stages add their statuses and moves here.
ITEM_TRANSITIONS: dict[str, set[str]] = {
    ItemStatus.DRAFT: {ItemStatus.SUBMITTED},
    ItemStatus.SUBMITTED: set(),
}


class CollaborationItem(models.Model):
    number = models.CharField(
        _("item number"),
        max_length=16,
        unique=True,
        null=True,
        blank=True,
        help_text=_("Year, month and a sequence within the month, e.g. 20231001."),
    )
    topic = models.CharField(_("topic"), max_length=200)
    scenario = models.CharField(_("scenario"), max_length=32, choices=Scenario.choices)
    goal = models.TextField(_("goal"), blank=True)
    scope = models.TextField(_("scope"), blank=True)
    expected_outcome = models.TextField(_("expected outcome"), blank=True)
    requesting_department = models.ForeignKey(
        Department,
        verbose_name=_("requesting department"),
        on_delete=models.PROTECT,
        related_name="requested_items",
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requester"),
        on_delete=models.PROTECT,
        related_name="requested_items",
    )
    coordinator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("coordinator"),
        on_delete=models.PROTECT,
        related_name="coordinated_items",
    )
    remarks = models.TextField(_("remarks"), blank=True)
    status = models.CharField(
        _("status"),
        max_length=32,
        choices=ItemStatus.choices,
        default=ItemStatus.DRAFT,
        db_index=True,
    )
    # Optimistic lock: every write bumps it; a write based on an older version is refused.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("collaboration item")
        verbose_name_plural = _("collaboration items")
        ordering = ["-number", "-pk"]

    def __str__(self) -> str:
        return f"{self.number or _('draft')} {self.topic}"

    @property
    def is_draft(self) -> bool:
        return self.status == ItemStatus.DRAFT

    def can_move_to(self, status: str) -> bool:
        return status in ITEM_TRANSITIONS.get(self.status, set())


class Participation(models.Model):
    """A participating department (or a role within it) and what the item needs from it."""

    item = models.ForeignKey(CollaborationItem, on_delete=models.CASCADE, related_name="participations")
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(_("role"), max_length=100, blank=True)
    core_need = models.TextField(_("core need"))

    class Meta:
        verbose_name = _("participating department")
        verbose_name_plural = _("participating departments")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "department", "role"], name="participation_unique_per_item"
            )
        ]

    def __str__(self) -> str:
        return f"{self.department} {self.role}".strip()


class Milestone(models.Model):
    item = models.ForeignKey(CollaborationItem, on_delete=models.CASCADE, related_name="milestones")
    name = models.CharField(_("milestone"), max_length=200)
    due_date = models.DateField(_("date"))

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["due_date", "pk"]

    def __str__(self) -> str:
        return f"{self.name} {self.due_date:%Y-%m-%d}"


def attachment_path(instance: "Attachment", filename: str) -> str:
    # The stored name is neutral (no user text in paths); the original name is kept in a column.
    suffix = PurePath(filename).suffix.lower()[:16]
    return f"items/{instance.item_id}/{instance.uuid}{suffix}"


class Attachment(models.Model):
    """A background file sent to every party with the requirement form."""

    item = models.ForeignKey(CollaborationItem, on_delete=models.CASCADE, related_name="attachments")
    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    file = models.FileField(upload_to=attachment_path)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.original_name


class RequirementChange(models.Model):
    """A recorded change to a submitted requirement form: why, by whom, and what changed."""

    item = models.ForeignKey(CollaborationItem, on_delete=models.CASCADE, related_name="requirement_changes")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason for the change"))
    # {"field label key": [old text, new text]}
    changes = models.JSONField(default=dict)
    version = models.PositiveIntegerField(help_text="The item's version after the change.")
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("requirement change")
        verbose_name_plural = _("requirement changes")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.item} {self.created_at:%Y-%m-%d %H:%M}"


class ItemNumberSequence(models.Model):
    """The last sequence number handed out in one month (period = "YYYYMM").

    Numbering takes a row lock on the month's row, so concurrent submissions queue for a
    moment instead of colliding; numbers skipped by a rolled-back transaction are acceptable
    (the register is gap-tolerant), duplicates are not.
    """

    period = models.CharField(max_length=6, primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.period}: {self.last}"
