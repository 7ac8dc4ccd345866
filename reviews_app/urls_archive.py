"""Stage 6: the retrospective, the process-improvement log and the archive (namespace "reviews_app")."""

from django.urls import path

from reviews_app import archive_views, retro_views

urlpatterns = [
    path("items/<int:pk>/retrospective/", retro_views.retrospective, name="retrospective"),
    path(
        "items/<int:pk>/retrospective/record/", retro_views.retrospective_record, name="retrospective_record"
    ),
    path("items/<int:pk>/retrospective/edit/", retro_views.retrospective_edit, name="retrospective_edit"),
    path("items/<int:pk>/retrospective/measures/", retro_views.measure_add, name="measure_add"),
    path("items/<int:pk>/retrospective/print/", retro_views.retrospective_print, name="retrospective_print"),
    path("items/<int:pk>/retrospective.pdf", retro_views.retrospective_pdf, name="retrospective_pdf"),
    path("items/<int:pk>/retrospective.xlsx", retro_views.retrospective_export, name="retrospective_export"),
    path("improvements/", retro_views.improvement_log, name="improvement_log"),
    path("improvements/<int:measure_pk>/done/", retro_views.measure_done, name="measure_done"),
    path("items/<int:pk>/archive/", archive_views.archive, name="archive"),
    path("items/<int:pk>/archive/build/", archive_views.archive_build, name="archive_build"),
    path("items/<int:pk>/archive/status/", archive_views.archive_status, name="archive_status"),
    path(
        "items/<int:pk>/archive/<int:archive_pk>/download/",
        archive_views.archive_download,
        name="archive_download",
    ),
]
