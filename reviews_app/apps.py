from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewsAppConfig(AppConfig):
    """Stages 5-6: deliverables, acceptance, retrospective and archive. Filled by later stages."""

    name = "reviews_app"
    verbose_name = _("Acceptance and retrospective")
