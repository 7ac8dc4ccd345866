from django.urls import path

from collab.dashboards import views

app_name = "dashboards"

urlpatterns = [
    path("me/", views.my_work, name="my_work"),
    path("me/<slug:entry>/", views.my_work_list, name="my_work_list"),
    path("dashboard/", views.index, name="index"),
    path("dashboard/nav/", views.nav_link, name="nav_link"),
    path("dashboard/coordinator/", views.coordinator, name="coordinator"),
    path("dashboard/coordinator/list/<slug:name>/", views.coordinator_list, name="coordinator_list"),
    path("dashboard/coordinator/<slug:stage>/", views.coordinator_items, name="coordinator_items"),
    path("dashboard/department/", views.department, name="department"),
    path("dashboard/department/items/", views.department_items, name="department_items"),
    path("dashboard/department/list/<slug:name>/", views.department_list, name="department_list"),
    path("management/", views.management_view, name="management"),
    path("management/export.xlsx", views.management_export, name="management_export"),
    path("management/<slug:figure>/", views.figure_rows, name="figure_rows"),
    path("management/<slug:figure>/export.xlsx", views.figure_rows_export, name="figure_rows_export"),
    path("items/<int:pk>/timeline/", views.timeline, name="timeline"),
]
