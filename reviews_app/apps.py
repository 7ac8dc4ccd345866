from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewsAppConfig(AppConfig):
    """Stages 5-6: deliverables, acceptance, retrospective and archive. Filled by later stages."""

    name = "reviews_app"
    verbose_name = _("Acceptance and retrospective")

    def ready(self) -> None:
        # The people this stage gives work see the item; stage 1 cannot import this stage.
        from requests_app.access import register_work_givers
        from reviews_app.access import people_given_work

        register_work_givers(people_given_work)

        # The item's health fact that reviews decide (stage 1 stores it).
        from requests_app.health_facts import register_health_facts
        from reviews_app.health_facts import review_health_facts

        register_health_facts(review_health_facts)
