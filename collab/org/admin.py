from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from collab.org.models import Department, Person, Region


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "timezone", "holiday_calendar"]
    search_fields = ["code", "name"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "parent", "head", "region"]
    list_select_related = ["parent", "head", "region"]
    search_fields = ["name"]
    autocomplete_fields = ["head", "parent", "confirmation_delegates"]


class PersonInline(admin.StackedInline):
    model = Person
    can_delete = False
    autocomplete_fields = ["department"]
    fk_name = "user"


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class PersonUserAdmin(UserAdmin):
    """Users with their Collab profile (department, position, IM ids, language) on one page."""

    inlines = [PersonInline]
    list_display = ["username", "last_name", "first_name", "person_department", "is_active", "is_staff"]
    list_select_related = ["person__department"]
    list_filter = ["is_active", "is_staff", "person__department"]

    @admin.display(description=Department._meta.verbose_name)
    def person_department(self, user):
        person = getattr(user, "person", None)
        return person.department if person else ""
