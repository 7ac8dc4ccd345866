from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TasksAppConfig(AppConfig):
    """Stages 3-4: task breakdown, progress tracking, warnings. Filled by the next stages."""

    name = "tasks_app"
    verbose_name = _("Tasks and progress")
