"""Stage 5: deliverables, their review and the acceptance form (namespace "reviews_app")."""

from django.urls import path

from reviews_app import delivery_views as views

urlpatterns = [
    path(
        "items/<int:pk>/tasks/<int:task_pk>/deliverables/", views.task_deliverables, name="task_deliverables"
    ),
    path(
        "items/<int:pk>/tasks/<int:task_pk>/deliverables/new/",
        views.deliverable_create,
        name="deliverable_create",
    ),
    path(
        "items/<int:pk>/deliverables/<int:deliverable_pk>/",
        views.deliverable_detail,
        name="deliverable_detail",
    ),
    path(
        "items/<int:pk>/deliverables/<int:deliverable_pk>/review/",
        views.deliverable_review,
        name="deliverable_review",
    ),
    path(
        "items/<int:pk>/deliverables/<int:deliverable_pk>/revise/",
        views.deliverable_revise,
        name="deliverable_revise",
    ),
    path(
        "items/<int:pk>/deliverables/<int:deliverable_pk>/sign/",
        views.deliverable_sign,
        name="deliverable_sign",
    ),
    path(
        "items/<int:pk>/deliverables/<int:deliverable_pk>/files/<int:file_pk>/",
        views.deliverable_file,
        name="deliverable_file",
    ),
    path(
        "items/<int:pk>/deliverables/<int:deliverable_pk>/acceptance/",
        views.acceptance_print,
        name="acceptance_print",
    ),
    path(
        "items/<int:pk>/deliverables/<int:deliverable_pk>/acceptance.pdf",
        views.acceptance_pdf,
        name="acceptance_pdf",
    ),
]
