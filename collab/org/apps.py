from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

# Django's own empty choice of a select built from a model field's choices; Django ships no
# Chinese for it yet, so the catalogue carries it ("- Select an option -" leaked into the UI).
gettext_noop("- Select an option -")


class OrgConfig(AppConfig):
    name = "collab.org"
    label = "org"
    verbose_name = _("Organisation")
