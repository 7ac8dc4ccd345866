from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    """Read-only views over the other apps: my work, dashboards, management figures, timelines."""

    name = "collab.dashboards"
    label = "dashboards"
    verbose_name = _("Dashboards")

    def ready(self) -> None:
        # The rows of a figure run in the background above COLLAB_EXPORT_BACKGROUND_ROWS.
        from collab.dashboards.management_exports import register_figure_exports

        register_figure_exports()
