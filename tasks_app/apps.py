from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TasksAppConfig(AppConfig):
    """Stages 3-4: task breakdown, progress tracking, warnings. Filled by the next stages."""

    name = "tasks_app"
    verbose_name = _("Tasks and progress")

    def ready(self) -> None:
        # The people this stage gives work see the item; stage 1 cannot import this stage.
        from requests_app.access import register_work_givers
        from tasks_app.access import people_given_work

        register_work_givers(people_given_work)

        # The register's task columns (stage 1 shows them; it cannot import this stage).
        from requests_app.register import TaskColumns, register_task_columns
        from tasks_app.selectors import TaskTexts, task_lines_for

        register_task_columns(
            TaskColumns(
                lines_for=task_lines_for,
                texts=TaskTexts,
                assignment=lambda texts, lines: texts.assignment(lines),
                owners=lambda texts, lines: texts.owners(lines),
            )
        )

        # The item's health facts that tasks, warnings and problems decide (stage 1 stores them).
        from requests_app.health_facts import register_health_facts
        from tasks_app.health_facts import task_health_facts

        register_health_facts(task_health_facts)
