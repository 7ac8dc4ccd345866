from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from collab.notify.delivery import deliveries_resend
from collab.notify.forms import RobotChannelForm
from collab.notify.models import Delivery, Preference, RobotChannel


@admin.register(RobotChannel)
class RobotChannelAdmin(admin.ModelAdmin):
    """Group robots. The webhook URL and the secret are credentials: only masked forms show."""

    form = RobotChannelForm
    list_display = ["name", "kind", "masked_url", "department", "item", "active"]
    list_filter = ["kind", "active"]
    list_select_related = ["department", "item"]
    search_fields = ["name"]
    autocomplete_fields = ["department", "item"]

    @admin.display(description=_("webhook URL"))
    def masked_url(self, robot: RobotChannel) -> str:
        return robot.masked_webhook_url


DELIVERY_FIELDS: tuple[str, ...] = (
    "channel",
    "target",
    "title_shown",
    "event",
    "urgency",
    "item",
    "status",
    "attempts",
    "next_attempt_at",
    "last_attempt_at",
    "sent_at",
    "last_error",
    "created_at",
)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """The outbox. Failed deliveries wait here for a resend; nothing is edited by hand."""

    list_display = [
        "pk",
        "channel",
        "target",
        "title_shown",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
    ]
    list_filter = ["status", "channel", "robot__kind", "urgency"]
    list_select_related = ["robot", "notification__recipient"]
    search_fields = ["event", "title", "notification__title"]
    actions = ["resend"]
    # Everything is read-only: the outbox changes through its services (send, resend) only.
    fields = readonly_fields = DELIVERY_FIELDS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description=_("to"))
    def target(self, delivery: Delivery) -> str:
        if delivery.robot is not None:
            return str(delivery.robot)
        return delivery.notification.recipient.email if delivery.notification else ""

    @admin.display(description=_("title"))
    def title_shown(self, delivery: Delivery) -> str:
        if delivery.notification is not None:
            return delivery.notification.title
        return delivery.title

    @admin.action(description=_("Resend the selected deliveries"), permissions=["change"])
    def resend(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        count = len(deliveries_resend(delivery_ids=queryset.values_list("pk", flat=True)))
        self.message_user(
            request,
            ngettext(
                "%(count)d delivery will be sent again.",
                "%(count)d deliveries will be sent again.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "email", "robot_mentions", "routine_digest"]
    list_filter = ["email", "robot_mentions", "routine_digest"]
    search_fields = ["user__username", "user__last_name", "user__first_name"]
    autocomplete_fields = ["user"]
