"""Stage 3 of the template: the task breakdown (《任务分解与分配表》).

Every task has exactly one owner (责任人), enforced by a NOT NULL foreign key, not only by a
form; collaborators (协作人) are separate. Stage 4 adds progress tracking to these rows.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from collab.fields import BoundedTextField
from collab.org.models import Department
from requests_app.models import CollaborationItem, Todo


class TaskStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    IN_PROGRESS = "in_progress", _("In progress")
    BLOCKED = "blocked", _("Blocked")
    DELIVERED = "delivered", _("Delivered, under review")
    DONE = "done", _("Done")


# What a progress report may say: the last two statuses come from stage 5, not from a report.
REPORTED_STATUSES = (TaskStatus.NOT_STARTED, TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED)

# The allowed moves of a task's status. Reports move it among the reported statuses; submitting
# a deliverable makes it "delivered, under review"; a request for changes sends it back to work;
# the second signature on its acceptance form makes it done, and nothing reopens a done task.
TASK_TRANSITIONS: dict[str, set[str]] = {
    TaskStatus.NOT_STARTED: {TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED, TaskStatus.DELIVERED},
    TaskStatus.IN_PROGRESS: {TaskStatus.NOT_STARTED, TaskStatus.BLOCKED, TaskStatus.DELIVERED},
    TaskStatus.BLOCKED: {TaskStatus.NOT_STARTED, TaskStatus.IN_PROGRESS, TaskStatus.DELIVERED},
    TaskStatus.DELIVERED: {TaskStatus.IN_PROGRESS, TaskStatus.DONE},
    TaskStatus.DONE: set(),
}


class Task(models.Model):
    item = models.ForeignKey(CollaborationItem, on_delete=models.CASCADE, related_name="tasks")
    name = models.CharField(_("task"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="owned_tasks",
    )
    collaborators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("collaborators"),
        blank=True,
        related_name="collaborating_tasks",
    )
    delivery_standard = BoundedTextField(_("delivery standard"))
    deadline = models.DateField(_("deadline"), db_index=True)
    receiver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("receiver"),
        on_delete=models.PROTECT,
        related_name="receiving_tasks",
    )
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="tasks"
    )
    source_todo = models.OneToOneField(
        Todo,
        verbose_name=_("from to-do"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="task",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    version = models.PositiveIntegerField(default=1)
    # Stage 4: the latest reported state, kept on the row for lists and dashboards.
    status = models.CharField(
        _("current status"), max_length=16, choices=TaskStatus.choices, default=TaskStatus.NOT_STARTED
    )
    percent_done = models.PositiveSmallIntegerField(_("percent done"), default=0)
    last_reported_at = models.DateTimeField(_("last report"), null=True, blank=True)
    # When both sides signed the acceptance form that made the task done (the delivery figures).
    done_at = models.DateTimeField(_("done"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["deadline", "pk"]
        indexes = [
            # The department board's workload: each member's open and late tasks counted from
            # the index alone (the owner index read every task a person ever had, 52 rows for 8).
            models.Index(
                fields=["owner", "deadline", "item"],
                name="task_open_by_owner",
                condition=~models.Q(status="done"),
            ),
            # The department board's task counts (open, late, escalated) from the index alone,
            # and its late tasks read in deadline order (the department index read every task
            # the department ever had: 25,691 rows for 3,903 open).
            models.Index(
                fields=["department", "deadline", "item", "id"],
                name="task_open_by_department",
                condition=~models.Q(status="done"),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(name=""), name="task_has_name"),
            models.CheckConstraint(
                condition=~models.Q(delivery_standard=""), name="task_has_delivery_standard"
            ),
            models.CheckConstraint(
                condition=models.Q(percent_done__lte=100), name="task_percent_at_most_100"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class DepartmentExemption(models.Model):
    """A participating department that gets no task, and why (保证无遗漏: said, not forgotten)."""

    item = models.ForeignKey(
        CollaborationItem, on_delete=models.CASCADE, related_name="department_exemptions"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="+"
    )
    reason = BoundedTextField(_("reason"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("department without a task")
        verbose_name_plural = _("departments without a task")
        constraints = [
            models.UniqueConstraint(fields=["item", "department"], name="one_exemption_per_department"),
            models.CheckConstraint(condition=~models.Q(reason=""), name="exemption_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.department}: {self.reason[:30]}"


class ProgressReport(models.Model):
    """One progress report (进度汇报): status, percent done, risks/problems and measures taken."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("reported by"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("current status"), max_length=16, choices=TaskStatus.choices)
    percent_done = models.PositiveSmallIntegerField(_("percent done"))
    summary = BoundedTextField(_("progress"))
    risks = BoundedTextField(_("risks or problems"), blank=True)
    measures = BoundedTextField(_("measures taken"), blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("progress report")
        verbose_name_plural = _("progress reports")
        ordering = ["-created_at", "-pk"]
        # Dashboards: "the report that set the task done", per task and status, by time.
        indexes = [models.Index(fields=["task", "status", "created_at"], name="report_task_status_time")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(percent_done__lte=100), name="report_percent_at_most_100"
            )
        ]

    def __str__(self) -> str:
        return f"{self.task} {self.percent_done}%"


class ProblemStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")


# A problem (a risk or a blocker) is resolved once, with how; the coordinator may also close one
# this way before archiving, saying why.
PROBLEM_TRANSITIONS: dict[str, set[str]] = {
    ProblemStatus.OPEN: {ProblemStatus.RESOLVED},
    ProblemStatus.RESOLVED: set(),
}


class Problem(models.Model):
    """A row of the issue-tracking list (问题跟踪表): raised with a report, resolved by its owner."""

    item = models.ForeignKey(CollaborationItem, on_delete=models.CASCADE, related_name="problems")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="problems")
    report = models.OneToOneField(
        ProgressReport, null=True, blank=True, on_delete=models.SET_NULL, related_name="problem"
    )
    description = BoundedTextField(_("problem"))
    blocking = models.BooleanField(_("blocks the task"), default=False)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("raised by"), on_delete=models.PROTECT, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by (owner)"),
        on_delete=models.PROTECT,
        related_name="owned_problems",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ProblemStatus.choices, default=ProblemStatus.OPEN, db_index=True
    )
    resolution = BoundedTextField(_("resolution"), blank=True)
    raised_at = models.DateTimeField(_("raised"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        verbose_name = _("problem")
        verbose_name_plural = _("problems")
        ordering = ["status", "-raised_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="open") | ~models.Q(resolution=""),
                name="resolved_problem_has_resolution",
            )
        ]

    def __str__(self) -> str:
        return self.description[:50]


class AlertKind(models.TextChoices):
    DUE_SOON = "due_soon", _("Deadline tomorrow")
    DUE_TODAY = "due_today", _("Deadline today")
    OVERDUE = "overdue", _("Overdue")
    REPORT_MISSING = "report_missing", _("Progress report missing")


class Alert(models.Model):
    """A warning due at ``due_at`` for one task, polled by the beat sweep (healthchecks style).

    ``step`` is the rung of the escalation ladder: 0 the owner, 1 the coordinator, 2 the owner's
    department head. The sweep claims a row by setting ``sent_at`` with a conditional UPDATE, so
    two sweeps never send it twice; a changed deadline or a new report cancels the unsent rows
    and plans new ones.
    """

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=16, choices=AlertKind.choices)
    step = models.PositiveSmallIntegerField(default=0)
    # The deadline a deadline warning is about: a moved deadline starts a new ladder.
    deadline = models.DateField(null=True, blank=True)
    due_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("warning")
        verbose_name_plural = _("warnings")
        ordering = ["due_at", "pk"]
        indexes = [
            # The sweep's query: unsent, uncancelled rows that are due.
            models.Index(
                fields=["due_at"],
                name="alert_due_unsent",
                condition=models.Q(sent_at__isnull=True, cancelled_at__isnull=True),
            ),
            # Dashboards: escalations sent in a period.
            models.Index(
                fields=["sent_at"],
                name="alert_escalation_sent",
                condition=models.Q(step__gte=1, sent_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task} {self.kind}/{self.step} {self.due_at:%Y-%m-%d %H:%M}"
