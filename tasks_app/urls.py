from django.urls import path

from tasks_app import tracking_views, views

app_name = "tasks_app"

urlpatterns = [
    path("items/<int:pk>/tasks/", views.task_sheet, name="task_sheet"),
    path("items/<int:pk>/tasks/print/", views.task_sheet_print, name="task_sheet_print"),
    path("items/<int:pk>/tasks/export.xlsx", views.task_sheet_export, name="task_sheet_export"),
    path("items/<int:pk>/tasks/new/", views.task_create, name="task_create"),
    path("items/<int:pk>/tasks/<int:task_pk>/edit/", views.task_edit, name="task_edit"),
    path("items/<int:pk>/tasks/start/", views.start_execution, name="start_execution"),
    path("items/<int:pk>/todos/<int:todo_pk>/drop/", views.todo_drop, name="todo_drop"),
    path("items/<int:pk>/tasks/exemptions/", views.department_exempt, name="department_exempt"),
    path(
        "items/<int:pk>/tasks/exemptions/<int:exemption_pk>/delete/",
        views.exemption_remove,
        name="exemption_remove",
    ),
    path("tasks/check-field/", views.check_task_field, name="check_task_field"),
    path("items/<int:pk>/progress/", tracking_views.progress, name="progress"),
    path("items/<int:pk>/progress/cadence/", tracking_views.set_cadence, name="set_cadence"),
    path("items/<int:pk>/progress/print/", tracking_views.progress_print, name="progress_print"),
    path("items/<int:pk>/progress/export.xlsx", tracking_views.progress_export, name="progress_export"),
    path(
        "items/<int:pk>/progress/milestones/<int:milestone_pk>/",
        tracking_views.milestone_report_view,
        name="milestone_report",
    ),
    path("items/<int:pk>/tasks/<int:task_pk>/", tracking_views.task_detail, name="task_detail"),
    path("items/<int:pk>/tasks/<int:task_pk>/report/", tracking_views.task_report, name="task_report"),
    path(
        "items/<int:pk>/problems/<int:problem_pk>/resolve/",
        tracking_views.problem_resolve,
        name="problem_resolve",
    ),
    path(
        "items/<int:pk>/problems/<int:problem_pk>/assign/",
        tracking_views.problem_assign,
        name="problem_assign",
    ),
]
