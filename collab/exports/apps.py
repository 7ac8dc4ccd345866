from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExportsConfig(AppConfig):
    """Excel exports too large for one web request, written in the background (collab/exports)."""

    name = "collab.exports"
    label = "exports"
    verbose_name = _("Excel exports")
