"""The health facts stored on the item (requests_app.health_facts), filled for every item.

The fill is written here with the models as they are at this migration, the same facts as
tasks_app.health_facts and reviews_app.health_facts compute today, in batches of items.
"""

from django.db import migrations, models
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateField,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

BATCH = 5000


def _aggregate(rows, group, value, output):
    return Subquery(rows.order_by().values(group).annotate(v=value).values("v")[:1], output_field=output)


def _count(rows, group="item"):
    return Coalesce(_aggregate(rows, group, Count("pk"), IntegerField()), 0)


def fill(apps, schema_editor):
    Item = apps.get_model("requests_app", "CollaborationItem")
    Todo = apps.get_model("requests_app", "Todo")
    Participation = apps.get_model("requests_app", "Participation")
    Meeting = apps.get_model("requests_app", "Meeting")
    Task = apps.get_model("tasks_app", "Task")
    Alert = apps.get_model("tasks_app", "Alert")
    Problem = apps.get_model("tasks_app", "Problem")
    Exemption = apps.get_model("tasks_app", "DepartmentExemption")
    Version = apps.get_model("reviews_app", "DeliverableVersion")

    tasks = Task.objects.filter(item=OuterRef("pk"))
    open_tasks = tasks.exclude(status="done")
    escalated = Exists(
        Alert.objects.filter(
            task=OuterRef("pk"), step__gte=1, sent_at__isnull=False, cancelled_at=None
        ).filter(Q(task__last_reported_at__isnull=True) | Q(sent_at__gt=F("task__last_reported_at")))
    )
    stale = (
        Alert.objects.filter(kind="report_missing", step=0, cancelled_at=None, task__item=OuterRef("pk"))
        .exclude(task__status="done")
        .filter(Q(task__last_reported_at__isnull=True) | Q(due_at__gt=F("task__last_reported_at")))
    )
    todos = Todo.objects.filter(minutes__meeting__item=OuterRef("pk"), task__isnull=True).filter(
        Q(dropped_at=None) | Q(dropped_reason__regex=r"^\s*$")
    )
    uncovered = Participation.objects.filter(item=OuterRef("pk")).filter(
        ~Exists(Task.objects.filter(item=OuterRef("item"), department=OuterRef("department"))),
        ~Exists(Exemption.objects.filter(item=OuterRef("item"), department=OuterRef("department"))),
    )
    gap = (
        ~Exists(tasks)
        | Exists(todos)
        | Exists(uncovered)
        | Exists(tasks.filter(delivery_standard__regex=r"^\s*$"))
    )
    columns = {
        "health_late_from": _aggregate(open_tasks, "item", Min("deadline"), DateField()),
        "health_behind_from": _aggregate(
            open_tasks.filter(percent_done__lt=80), "item", Min("deadline"), DateField()
        ),
        "health_stale_from": _aggregate(stale, "task__item", Min("due_at"), DateTimeField()),
        "health_review_from": _aggregate(
            Version.objects.filter(deliverable__task__item=OuterRef("pk"), decision=""),
            "deliverable__task__item",
            Min("review_due_at"),
            DateTimeField(),
        ),
        "health_reviews": _count(
            Version.objects.filter(deliverable__task__item=OuterRef("pk"), decision=""), "deliverable__task__item"
        ),
        "health_escalations": _count(open_tasks.filter(escalated)),
        "health_problems": _count(Problem.objects.filter(item=OuterRef("pk"), status="open")),
        "health_blocked": _count(open_tasks.filter(status="blocked")),
        "health_meeting": Exists(Meeting.objects.filter(item=OuterRef("pk"))),
        "health_gap": Case(When(gap, then=Value(True)), default=Value(False), output_field=BooleanField()),
    }
    ids = list(Item.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH):
        Item.objects.filter(pk__in=ids[start : start + BATCH]).update(**columns)


class Migration(migrations.Migration):
    dependencies = [
        ("requests_app", "0013_meeting_starts_at"),
        # The fill reads the rows of the later stages.
        ("tasks_app", "0005_task_delivered_and_done_at"),
        ("reviews_app", "0007_measure_overdue_told"),
    ]

    operations = [
        migrations.AddField(
            model_name="collaborationitem",
            name="health_behind_from",
            field=models.DateField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="collaborationitem",
            name="health_blocked",
            field=models.PositiveIntegerField(db_default=0, editable=False),
        ),
        migrations.AddField(
            model_name="collaborationitem",
            name="health_escalations",
            field=models.PositiveIntegerField(db_default=0, editable=False),
        ),
        migrations.AddField(
            model_name="collaborationitem",
            name="health_gap",
            field=models.BooleanField(db_default=True, editable=False),
        ),
        migrations.AddField(
            model_name="collaborationitem",
            name="health_late_from",
            field=models.DateField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="collaborationitem",
            name="health_problems",
            field=models.PositiveIntegerField(db_default=0, editable=False),
        ),
        migrations.AddField(
            model_name="collaborationitem",
            name="health_review_from",
            field=models.DateTimeField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="collaborationitem",
            name="health_stale_from",
            field=models.DateTimeField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="collaborationitem",
            name="health_reviews",
            field=models.PositiveIntegerField(db_default=0, editable=False),
        ),
        migrations.AddField(
            model_name="collaborationitem",
            name="health_meeting",
            field=models.BooleanField(db_default=False, editable=False),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="collaborationitem",
            index=models.Index(
                condition=models.Q(("status__in", ["draft", "closed"]), _negated=True),
                fields=[
                    "id",
                    "requesting_department",
                    "status",
                    "scenario",
                    "number_key",
                    "health_late_from",
                    "health_behind_from",
                    "health_stale_from",
                    "health_review_from",
                    "health_escalations",
                    "health_problems",
                    "health_blocked",
                    "health_meeting",
                ],
                name="item_open_health",
            ),
        ),
        migrations.AddIndex(
            model_name="participation",
            index=models.Index(fields=["department", "item"], name="participation_by_department"),
        ),
    ]
