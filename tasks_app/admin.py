from django.contrib import admin

from tasks_app.models import DepartmentExemption, Task


class ReadOnlyAdmin(admin.ModelAdmin):
    """Tasks change through the application, where rules, permissions, notices and audit apply."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = ["name", "item", "department", "owner", "deadline", "receiver"]
    list_filter = ["department"]
    list_select_related = ["item", "department", "owner", "receiver"]
    search_fields = ["name", "item__number", "item__topic"]
    date_hierarchy = "deadline"


@admin.register(DepartmentExemption)
class DepartmentExemptionAdmin(ReadOnlyAdmin):
    list_display = ["item", "department", "reason", "decided_by", "decided_at"]
    list_select_related = ["item", "department", "decided_by"]
    search_fields = ["item__number", "item__topic", "department__name"]
