"""Stage 3 of the template: the task breakdown (《任务分解与分配表》).

Every task has exactly one owner (责任人), enforced by a NOT NULL foreign key, not only by a
form; collaborators (协作人) are separate. Stage 4 adds progress tracking to these rows.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from collab.org.models import Department
from requests_app.models import CollaborationItem, Todo


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
    delivery_standard = models.TextField(_("delivery standard"))
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

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["deadline", "pk"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(name=""), name="task_has_name"),
            models.CheckConstraint(
                condition=~models.Q(delivery_standard=""), name="task_has_delivery_standard"
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
    reason = models.TextField(_("reason"))
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
