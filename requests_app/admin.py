from django.contrib import admin

from requests_app.models import CollaborationItem, Milestone, Participation, RequirementChange


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ParticipationInline(ReadOnlyInline):
    model = Participation


class MilestoneInline(ReadOnlyInline):
    model = Milestone


class RequirementChangeInline(ReadOnlyInline):
    model = RequirementChange
    fields = ["created_at", "actor", "reason", "changes"]
    readonly_fields = ["created_at", "actor", "reason", "changes"]


@admin.register(CollaborationItem)
class CollaborationItemAdmin(admin.ModelAdmin):
    """Read-only: items change through the application, where rules, permissions and audit apply."""

    list_display = ["number", "topic", "scenario", "requesting_department", "coordinator", "status"]
    list_filter = ["status", "scenario", "requesting_department"]
    list_select_related = ["requesting_department", "coordinator"]
    search_fields = ["number", "topic"]
    inlines = [ParticipationInline, MilestoneInline, RequirementChangeInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
