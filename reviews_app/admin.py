from django.contrib import admin

from reviews_app.models import Deliverable, DeliverableVersion, Signature


class ReadOnlyMixin:
    """Deliverables and signatures change only through the application, where the review rules,
    the password check, the digests, the lock after both signatures and the audit log apply."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class VersionInline(ReadOnlyMixin, admin.TabularInline):
    model = DeliverableVersion
    fields = (
        "number",
        "submitted_by",
        "submitted_at",
        "review_due_at",
        "decision",
        "comments",
        "reviewed_at",
    )
    readonly_fields = (
        "number",
        "submitted_by",
        "submitted_at",
        "review_due_at",
        "decision",
        "comments",
        "reviewed_at",
    )
    extra = 0


@admin.register(Deliverable)
class DeliverableAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["name", "task", "deliverer", "receiver", "status", "created_at", "locked_at"]
    list_filter = ["status"]
    list_select_related = ["task", "deliverer", "receiver"]
    search_fields = ["name", "task__name", "task__item__number", "task__item__topic"]
    date_hierarchy = "created_at"
    inlines = [VersionInline]


@admin.register(Signature)
class SignatureAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["deliverable", "role", "signer", "signed_at", "ip_address"]
    list_filter = ["role"]
    list_select_related = ["deliverable", "signer"]
    search_fields = ["deliverable__name", "deliverable__task__item__number", "signer__username"]
    exclude = ["drawing"]  # a long data URL; the deliverable's page shows the drawing itself
