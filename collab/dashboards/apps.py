from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    """Read-only views over the other apps: my work, dashboards, management figures, timelines."""

    name = "collab.dashboards"
    label = "dashboards"
    verbose_name = _("Dashboards")
