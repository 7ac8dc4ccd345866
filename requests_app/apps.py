from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RequestsAppConfig(AppConfig):
    name = "requests_app"
    verbose_name = _("Requirements and consensus")

    def ready(self) -> None:
        # The register's export runs in the background above COLLAB_EXPORT_BACKGROUND_ROWS.
        from collab.exports.kinds import register_export_kind
        from requests_app.register_export import REGISTER_EXPORT

        register_export_kind("register", REGISTER_EXPORT)
