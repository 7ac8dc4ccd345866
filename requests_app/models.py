"""Stage 1 of the template: the collaboration item and its requirement form (《协作需求确认表》).

One CollaborationItem is one row of the communication register. It is created as a draft, gets
its register number when submitted, and from then on changes only through a recorded
requirement change.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import models
from django.db.models.functions import Cast, Substr
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from collab.audit.texts import Choice, DateTime, Text, display
from collab.fields import BoundedTextField
from collab.notify.models import Urgency
from collab.org.models import Department
from requests_app.errors import ItemError

# A register number is YYYYMM and a sequence of 2 to 10 digits (20231001, then 202312100 after
# the 99th of a month); its sort key keeps the sequence in the low ten decimal digits.
NUMBER_KEY_SHIFT = 10**10


class Scenario(models.TextChoices):
    CROSS_DEPARTMENT = "cross_department", _("Cross-department project")
    CROSS_REGION = "cross_region", _("Cross-region task")
    EMERGENCY = "emergency", _("Emergency")
    ROUTINE_SYNC = "routine_sync", _("Routine sync")


class ReportCadence(models.TextChoices):
    """How often task owners report progress (进度汇报频率), in working time."""

    HOURS_4 = "4h", _("Every 4 working hours")
    DAILY = "1d", _("Every working day")
    TWICE_WEEKLY = "2d", _("Every 2 working days")
    WEEKLY = "5d", _("Every week (5 working days)")


class MeetingForm(models.TextChoices):
    DEPARTMENT_MEETING = "department_meeting", _("Department meeting")
    ONLINE_WORKSHOP = "online_workshop", _("Online workshop")
    DEDICATED_MEETING = "dedicated_meeting", _("Dedicated meeting")
    CALL = "call", _("Phone or IM call")


@dataclass(frozen=True)
class TemplateMilestone:
    """A milestone the scenario's template pre-fills: its name, due so many working days after
    the day the form is started (in the requester's region calendar)."""

    name: Promise
    working_days: int


@dataclass(frozen=True)
class ScenarioPreset:
    """Everything a scenario presets, in one place; the people concerned can adjust each per item.

    - cadence: how often task owners report progress (emergencies run on hours);
    - urgency: how urgently people are told of the item's hand-offs (emergencies at once on every
      channel, routine syncs in the daily digest; collab.notify.handoffs refines it per hand-off);
    - meeting_form, meeting_lead_hours: the consensus meeting's suggested form and how soon after
      scheduling it should take place (24 hours count as one working day);
    - milestones: the requirement form's template (see ``requests_app.start_selectors``);
      the departments it pre-fills are the ones usual for the scenario, read from earlier items.
    """

    cadence: str
    urgency: str
    meeting_form: str
    meeting_lead_hours: int
    milestones: tuple[TemplateMilestone, ...]


SCENARIO_PRESETS: dict[str, ScenarioPreset] = {
    Scenario.CROSS_DEPARTMENT: ScenarioPreset(
        cadence=ReportCadence.DAILY,
        urgency=Urgency.NORMAL,
        meeting_form=MeetingForm.DEDICATED_MEETING,
        meeting_lead_hours=48,
        milestones=(
            TemplateMilestone(_("Requirement confirmed at the consensus meeting"), 3),
            TemplateMilestone(_("Plan reviewed by every department"), 10),
            TemplateMilestone(_("Deliverables accepted and signed"), 20),
        ),
    ),
    Scenario.CROSS_REGION: ScenarioPreset(
        cadence=ReportCadence.DAILY,
        urgency=Urgency.NORMAL,
        meeting_form=MeetingForm.ONLINE_WORKSHOP,
        meeting_lead_hours=48,
        milestones=(
            TemplateMilestone(_("Requirement confirmed at the consensus meeting"), 3),
            TemplateMilestone(_("Plan reviewed by every region"), 10),
            TemplateMilestone(_("Deliverables accepted and signed"), 25),
        ),
    ),
    Scenario.EMERGENCY: ScenarioPreset(
        cadence=ReportCadence.HOURS_4,
        urgency=Urgency.INSTANT,
        meeting_form=MeetingForm.CALL,
        meeting_lead_hours=2,
        milestones=(
            TemplateMilestone(_("Fix delivered"), 1),
            TemplateMilestone(_("Deliverables accepted and signed"), 2),
        ),
    ),
    Scenario.ROUTINE_SYNC: ScenarioPreset(
        cadence=ReportCadence.WEEKLY,
        urgency=Urgency.DIGEST,
        meeting_form=MeetingForm.ONLINE_WORKSHOP,
        meeting_lead_hours=72,
        milestones=(
            TemplateMilestone(_("Sync meeting held"), 5),
            TemplateMilestone(_("Agreed actions closed"), 10),
        ),
    ),
}


class ItemStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted, awaiting consensus")
    CONSENSUS = "consensus", _("Consensus reached")
    PLANNED = "planned", _("Tasks being assigned")
    EXECUTING = "executing", _("In progress")
    CLOSED = "closed", _("Archived")


# The allowed moves of an item's status (oscar's pipeline style). Later stages add theirs here.
ITEM_TRANSITIONS: dict[str, set[str]] = {
    ItemStatus.DRAFT: {ItemStatus.SUBMITTED},
    # Every participating department confirmed the minutes in writing.
    ItemStatus.SUBMITTED: {ItemStatus.CONSENSUS},
    # The coordinator starts the breakdown; revised minutes reopen the discussion.
    ItemStatus.CONSENSUS: {ItemStatus.PLANNED, ItemStatus.SUBMITTED},
    # "Nothing left out" passed.
    ItemStatus.PLANNED: {ItemStatus.EXECUTING},
    # Every deliverable accepted and signed, the retrospective recorded, the archive built.
    ItemStatus.EXECUTING: {ItemStatus.CLOSED},
    ItemStatus.CLOSED: set(),
}


# The stored health facts the dashboards' rank reads (requests_app.health_facts).
HEALTH_RANK_FACTS = (
    "health_late_from",
    "health_behind_from",
    "health_stale_from",
    "health_review_from",
    "health_escalations",
    "health_problems",
    "health_blocked",
    "health_meeting",
)

READ_ONLY_REFUSAL = _("This item is archived and can no longer be changed.")


class CollaborationItem(models.Model):
    number = models.CharField(
        _("item number"),
        max_length=16,
        unique=True,
        null=True,
        blank=True,
        help_text=_("Year, month and a sequence within the month, e.g. 20231001."),
    )
    # The number as a sortable integer, YYYYMM × 10¹⁰ + the sequence, kept by the database:
    # as text, the 100th item of a month (202612100) would sort before its 99th (20261299).
    number_key = models.GeneratedField(
        expression=Cast(Substr("number", 1, 6), models.BigIntegerField()) * NUMBER_KEY_SHIFT
        + Cast(Substr("number", 7), models.BigIntegerField()),
        output_field=models.BigIntegerField(),
        db_persist=True,
        db_index=True,  # the register's default order
    )
    topic = models.CharField(_("topic"), max_length=200)
    scenario = models.CharField(_("scenario"), max_length=32, choices=Scenario.choices)
    goal = BoundedTextField(_("goal"), blank=True)
    scope = BoundedTextField(_("scope"), blank=True)
    expected_outcome = BoundedTextField(_("expected outcome"), blank=True)
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
    remarks = BoundedTextField(_("remarks"), blank=True)
    # Empty until execution: then the scenario's preset unless the coordinator chose another.
    report_cadence = models.CharField(
        _("progress report cadence"), max_length=4, choices=ReportCadence.choices, blank=True
    )
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
    # The last milestone's date, kept in step with the milestones so the register can sort on an
    # index instead of aggregating every visible item's milestones.
    last_milestone_due = models.DateField(_("last milestone"), null=True, blank=True, editable=False)
    # Set on items imported from an existing Excel register: when, and the row's original cells
    # ({"cells": [...11 texts...], "baseline": [...]}): the register shows an original cell as
    # long as what the app derives for that column is still what it derived at import.
    imported_at = models.DateTimeField(_("imported"), null=True, blank=True, editable=False)
    imported_cells = models.JSONField(default=dict, blank=True, editable=False)
    # The health facts the dashboards rank by, kept by requests_app.health_facts (which says
    # what each means and who keeps it). The database defaults are an item without tasks, so a
    # new row is right without a refresh, whichever code inserts it.
    health_late_from = models.DateField(null=True, editable=False)
    health_behind_from = models.DateField(null=True, editable=False)
    health_stale_from = models.DateTimeField(null=True, editable=False)
    health_review_from = models.DateTimeField(null=True, editable=False)
    health_reviews = models.PositiveIntegerField(db_default=0, editable=False)
    health_escalations = models.PositiveIntegerField(db_default=0, editable=False)
    health_problems = models.PositiveIntegerField(db_default=0, editable=False)
    health_blocked = models.PositiveIntegerField(db_default=0, editable=False)
    health_gap = models.BooleanField(db_default=True, editable=False)
    health_meeting = models.BooleanField(db_default=False, editable=False)

    class Meta:
        verbose_name = _("collaboration item")
        verbose_name_plural = _("collaboration items")
        ordering = ["-number_key", "-pk"]
        # One index per register sort (the number key's index serves the default).
        indexes = [
            models.Index(fields=["last_milestone_due", "number_key"], name="item_sort_deadline"),
            models.Index(fields=["topic", "number_key"], name="item_sort_topic"),
            models.Index(fields=["status", "-number_key"], name="item_sort_status"),
            # The few items with an unanswered escalation: the department board tests the tasks
            # of these only (its open tasks are counted without reading their items).
            models.Index(fields=["id"], condition=models.Q(health_escalations__gt=0), name="item_escalated"),
            # The coordinator board reads a person's open items (stage tops, gaps, the reviews'
            # cut, the items of the attention list) by their rank columns: from this index alone
            # instead of the coordinator index and 1,700 wide rows per query.
            models.Index(
                fields=[
                    "coordinator",
                    "status",
                    "number_key",
                    *HEALTH_RANK_FACTS,
                    "scenario",
                    "health_gap",
                    "id",
                ],
                condition=~models.Q(status__in=[ItemStatus.DRAFT, ItemStatus.CLOSED]),
                name="item_open_by_coordinator",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number or _('draft')} {self.topic}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """A whole-row save of an existing item writes every column but the health facts: those
        are written by ``item_health_refresh``'s UPDATE alone, and an item loaded before a refresh
        in the same request must not put the facts it was loaded with back."""
        if not self._state.adding and kwargs.get("update_fields") is None and not kwargs.get("force_insert"):
            deferred = self.get_deferred_fields()  # as Django's own save: only what was loaded
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key
                and not field.name.startswith("health_")
                and field.attname not in deferred
            ]
        super().save(*args, **kwargs)

    @property
    def is_draft(self) -> bool:
        return self.status == ItemStatus.DRAFT

    @property
    def cadence(self) -> str:
        return self.report_cadence or SCENARIO_PRESETS[self.scenario].cadence

    @property
    def scenario_urgency(self) -> str:
        preset = SCENARIO_PRESETS.get(self.scenario)
        return preset.urgency if preset else Urgency.NORMAL

    def can_move_to(self, status: str) -> bool:
        return status in ITEM_TRANSITIONS.get(self.status, set())

    @property
    def is_read_only(self) -> bool:
        return self.status == ItemStatus.CLOSED

    def require_writable(self) -> None:
        """An archived item is read-only: every write to it or its parts refuses it.

        The audit writer calls this for every audit row about the item (every write leaves one,
        in the transaction that makes it), so a service cannot forget it: the refusal rolls the
        whole write back. ``requests_app.middleware.ArchivedItemMiddleware`` refuses every
        write request to an archived item's pages before its view runs.
        """
        if self.is_read_only:
            raise ItemError(str(READ_ONLY_REFUSAL))

    def audit_guard(self) -> None:
        """Called by ``collab.audit.services.audit_record`` before an audit row about the item."""
        self.require_writable()


class Participation(models.Model):
    """A participating department (or a role within it) and what the item needs from it."""

    item = models.ForeignKey(CollaborationItem, on_delete=models.CASCADE, related_name="participations")
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(_("role"), max_length=100, blank=True)
    core_need = BoundedTextField(_("core need"))

    class Meta:
        verbose_name = _("participating department")
        verbose_name_plural = _("participating departments")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "department", "role"], name="participation_unique_per_item"
            )
        ]
        # A department's items without reading the rows (the department dashboard).
        indexes = [models.Index(fields=["department", "item"], name="participation_by_department")]

    def __str__(self) -> str:
        return f"{self.department} {self.role}".strip()


# What a department's row copies from its item: what the department board ranks and sorts by.
DEPARTMENT_ITEM_COPIES = ("status", "number_key", "scenario", *HEALTH_RANK_FACTS)


class DepartmentItem(models.Model):
    """An item as one department it involves sees it on its board: one row per department the
    item involves (the requesting department and each participating one) with a copy of the
    item's status, number, scenario and health facts (``DEPARTMENT_ITEM_COPIES``).

    The department board ranks the open items of a department by these rows alone, read from
    their index: the largest department takes part in 35,000 open items, and ranking them from
    the items meant reading the company's items and hashing its participations on each view.

    The database keeps the rows (``requests_app/department_items.py``: triggers on the items
    and the participations, made by migration 0017), whatever code writes an item: the
    services, the importer, the admin, the benchmark's generator. The application never writes
    them; a test drives every kind of write and holds the rows equal to their definition.
    """

    pk = models.CompositePrimaryKey("department", "item")
    # (The primary key's index leads with the department; the item's index is the triggers'.)
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="+", db_index=False)
    item = models.ForeignKey(CollaborationItem, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=32, choices=ItemStatus.choices)
    number_key = models.BigIntegerField(null=True)
    scenario = models.CharField(max_length=32, choices=Scenario.choices)
    health_late_from = models.DateField(null=True)
    health_behind_from = models.DateField(null=True)
    health_stale_from = models.DateTimeField(null=True)
    health_review_from = models.DateTimeField(null=True)
    health_escalations = models.PositiveIntegerField()
    health_problems = models.PositiveIntegerField()
    health_blocked = models.PositiveIntegerField()
    health_meeting = models.BooleanField()

    class Meta:
        indexes = [
            # The board's ranking and count of a department's open items, from this index alone
            # (key columns: SQLite has no INCLUDE).
            models.Index(
                fields=["department", "status", "number_key", "item", "scenario", *HEALTH_RANK_FACTS],
                condition=~models.Q(status__in=[ItemStatus.DRAFT, ItemStatus.CLOSED]),
                name="department_item_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.department_id} {self.item_id}"


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


class ItemVisibility(models.Model):
    """Who sees an item: a department (its group's members and head) or one person.

    A copy of the item's view permissions in a shape the database can join, kept by
    ``item_sync_permissions``; ``visible_items`` reads it.
    """

    item = models.ForeignKey(CollaborationItem, on_delete=models.CASCADE, related_name="visibility")
    department = models.ForeignKey(Department, null=True, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(department__isnull=True, user__isnull=False)
                | models.Q(department__isnull=False, user__isnull=True),
                name="visibility_department_or_user",
            ),
            models.UniqueConstraint(fields=["item", "department"], name="visibility_unique_department"),
            models.UniqueConstraint(fields=["item", "user"], name="visibility_unique_user"),
        ]
        indexes = [
            models.Index(fields=["department", "item"], name="visibility_by_department"),
            models.Index(fields=["user", "item"], name="visibility_by_user"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.department or self.user}"


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
    reason = BoundedTextField(_("reason for the change"))
    # A reason the system gave (the minutes moved the milestones), stored untranslated
    # (collab.audit.texts); ``reason`` then holds it in the company's language.
    reason_text = models.JSONField(null=True, blank=True)
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

    @property
    def reason_display(self) -> str:
        """The reason in the active language when the system gave it, else as written."""
        return display(self.reason_text, self.reason)


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


# ---------------------------------------------------------------------------------------------
# Stage 2: communication and consensus (《会议纪要》)


class Meeting(models.Model):
    item = models.ForeignKey(CollaborationItem, on_delete=models.CASCADE, related_name="meetings")
    form = models.CharField(_("meeting form"), max_length=32, choices=MeetingForm.choices)
    starts_at = models.DateTimeField(_("time"))
    # The organiser's time zone when scheduling: the time is shown to them as they typed it.
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    location = models.CharField(_("place or link"), max_length=300)
    organiser = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("organiser"), on_delete=models.PROTECT, related_name="+"
    )
    invited_departments = models.ManyToManyField(
        Department, verbose_name=_("invited departments"), blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["starts_at", "pk"]
        # My work's pre-reads: the meetings still to come (few) among every one ever held.
        indexes = [models.Index(fields=["starts_at"], name="meeting_starts_at")]

    def __str__(self) -> str:
        return f"{self.get_form_display()} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def label(self) -> Text:
        """The meeting as history names it, its form and local time in each reader's language."""
        return Text(
            gettext_noop("%(form)s, %(time)s"),
            form=Choice(MeetingForm, self.form),
            time=DateTime(self.local_starts_at),
        )

    @property
    def local_starts_at(self) -> datetime:
        """The time as the organiser typed it, in their time zone (the company's if unknown)."""
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo(settings.TIME_ZONE)
        return timezone.localtime(self.starts_at, zone)


class Invitation(models.Model):
    """One invitee of a meeting; opening the pre-read (会前资料) is recorded here."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="invitations")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("invitee"),
        on_delete=models.CASCADE,
        related_name="invitations",
    )
    pre_read_opened_at = models.DateTimeField(_("pre-read opened"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "person"], name="invitation_once_per_person")
        ]

    def __str__(self) -> str:
        return f"{self.meeting} {self.person}"


class AgendaPoint(models.TextChoices):
    """The template's points a consensus meeting goes through, item by item."""

    FEASIBILITY = "feasibility", _("Feasibility")
    RESOURCES = "resources", _("Resource fit")
    RISKS = "risks", _("Risks")
    ADJUSTMENTS = "adjustments", _("Adjustments")


class MinutesStatus(models.TextChoices):
    ISSUED = "issued", _("Issued, awaiting confirmation")
    OBJECTED = "objected", _("Objected to")
    CONFIRMED = "confirmed", _("Confirmed by every department")


# The allowed moves of the minutes of a meeting (a meeting's only state beyond "scheduled").
# Recorded minutes are issued at once for written confirmation. A department's objection passes
# the turn to the coordinator (also after consensus: the item goes on, the minutes await their
# revision); the last confirmation makes them confirmed (the item's consensus); a revision issues
# them again, from any status, and asks every department once more. An objecting department that
# confirms after all withdraws its objection: issued again while others have still to confirm,
# confirmed if none has.
MINUTES_TRANSITIONS: dict[str, set[str]] = {
    MinutesStatus.ISSUED: {MinutesStatus.OBJECTED, MinutesStatus.CONFIRMED, MinutesStatus.ISSUED},
    MinutesStatus.OBJECTED: {MinutesStatus.ISSUED, MinutesStatus.CONFIRMED},
    MinutesStatus.CONFIRMED: {MinutesStatus.OBJECTED, MinutesStatus.ISSUED},
}


class Minutes(models.Model):
    """The minutes of one meeting. ``version`` grows with every revision; confirmations name it.

    ``status`` follows ``MINUTES_TRANSITIONS`` and moves only through
    ``requests_app.transitions.transition``: it is the departments' word on the current version.
    """

    meeting = models.OneToOneField(Meeting, on_delete=models.CASCADE, related_name="minutes")
    version = models.PositiveIntegerField(_("version"), default=1)
    attendees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("attendees"), related_name="+"
    )
    # {AgendaPoint value: what the meeting said about it}
    agenda = models.JSONField(_("agenda"), default=dict)
    conclusions = BoundedTextField(_("conclusions"))
    # The item's milestones as the meeting fixed them ([[date, name], ...]), for the printed minutes.
    final_milestones = models.JSONField(_("final milestones"), default=list)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    status = models.CharField(
        _("status"), max_length=16, choices=MinutesStatus.choices, default=MinutesStatus.ISSUED
    )

    # ``version`` numbers the revisions (confirmations name it), not writes: a move of the status
    # leaves it alone.
    version_is_lock = False

    class Meta:
        verbose_name = _("minutes")
        verbose_name_plural = _("minutes")

    def __str__(self) -> str:
        return f"{self.meeting} v{self.version}"


class Responsibility(models.Model):
    """What one party took on in the meeting."""

    minutes = models.ForeignKey(Minutes, on_delete=models.CASCADE, related_name="responsibilities")
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="+"
    )
    text = BoundedTextField(_("responsibility"))

    class Meta:
        verbose_name = _("responsibility")
        verbose_name_plural = _("responsibilities")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.department}: {self.text[:30]}"


class Todo(models.Model):
    """A to-do of the minutes: exactly one owner and a due date. It becomes a task or is dropped."""

    minutes = models.ForeignKey(Minutes, on_delete=models.CASCADE, related_name="todos")
    text = models.CharField(_("to-do"), max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    due_date = models.DateField(_("due date"))
    dropped_reason = BoundedTextField(_("reason for dropping"), blank=True)
    dropped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    dropped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("to-do")
        verbose_name_plural = _("to-dos")
        ordering = ["due_date", "pk"]

    def __str__(self) -> str:
        return self.text


class ConfirmationDecision(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    OBJECTED = "objected", _("Objected")


class Confirmation(models.Model):
    """A department's written confirmation of (or objection to) one version of the minutes.

    Rows are never changed: a later decision is a new row, the latest one per department for
    the current version counts, and the whole exchange stays on record.
    """

    minutes = models.ForeignKey(Minutes, on_delete=models.CASCADE, related_name="confirmations")
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(_("version"))
    decision = models.CharField(_("decision"), max_length=16, choices=ConfirmationDecision.choices)
    reason = BoundedTextField(_("reason"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("written confirmation")
        verbose_name_plural = _("written confirmations")
        ordering = ["decided_at", "pk"]
        indexes = [models.Index(fields=["minutes", "department", "version"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(decision="objected") | ~models.Q(reason=""),
                name="objection_has_reason",
            )
        ]

    def __str__(self) -> str:
        return f"{self.department} {self.get_decision_display()} v{self.version}"


# ---------------------------------------------------------------------------------------------
# Unsent input


class FormDraft(models.Model):
    """What a person typed in a requirement form and has not sent: kept while they type, and
    when their post arrives after the session expired. Only its owner ever reads it back; it is
    scratch, not part of the item, so saving it leaves no audit row (the item's own drafts,
    saves and submissions do)."""

    NEW_ITEM = "new"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # Which form: NEW_ITEM, or "item-<pk>" for the edit form of an item.
    form = models.CharField(max_length=32)
    # The posted fields as lists of values ({"topic": ["…"], "milestones-0-name": ["…"], …}).
    data = models.JSONField(default=dict)
    saved_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "form"], name="form_draft_once_per_form")]

    def __str__(self) -> str:
        return f"{self.owner_id} {self.form}"

    @staticmethod
    def key_for(item_id: int | None) -> str:
        return FormDraft.NEW_ITEM if item_id is None else f"item-{item_id}"
