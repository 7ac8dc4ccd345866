from django.urls import path

from requests_app import views

app_name = "requests_app"

urlpatterns = [
    path("register/", views.register, name="register"),
    path("register/export.xlsx", views.register_export, name="register_export"),
    path("items/new/", views.item_create, name="item_create"),
    path("items/check-wording/", views.check_wording, name="check_wording"),
    path("items/<int:pk>/", views.item_detail, name="item_detail"),
    path("items/<int:pk>/edit/", views.item_edit, name="item_edit"),
    path("items/<int:pk>/submit/", views.item_submit, name="item_submit"),
    path("items/<int:pk>/print/", views.item_print, name="item_print"),
    path("items/<int:pk>/attachments/", views.attachment_upload, name="attachment_upload"),
    path(
        "items/<int:pk>/attachments/<int:attachment_pk>/",
        views.attachment_download,
        name="attachment_download",
    ),
    path(
        "items/<int:pk>/attachments/<int:attachment_pk>/delete/",
        views.attachment_delete,
        name="attachment_delete",
    ),
]
