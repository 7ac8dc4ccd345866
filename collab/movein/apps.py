from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MoveInConfig(AppConfig):
    """A company moving in: its directory synced, its open work handed over when people leave.

    Sits on top of every stage (like the dashboards): it reads tasks, reviews and confirmations of
    people who left, and nothing imports it.
    """

    name = "collab.movein"
    label = "movein"
    verbose_name = _("Moving in")
