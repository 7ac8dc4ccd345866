from django.urls import path

from requests_app import draft_views, meeting_views, views

app_name = "requests_app"

urlpatterns = [
    path("register/", views.register, name="register"),
    path("register/export.xlsx", views.register_export, name="register_export"),
    path("items/new/", views.item_create, name="item_create"),
    path("items/new/draft/", draft_views.draft_keep, name="item_draft_keep"),
    path("items/new/draft/discard/", draft_views.draft_discard, name="item_draft_discard"),
    path("items/check-wording/", views.check_wording, name="check_wording"),
    path("items/<int:pk>/", views.item_detail, name="item_detail"),
    path("items/<int:pk>/edit/", views.item_edit, name="item_edit"),
    path("items/<int:pk>/edit/draft/", draft_views.draft_keep, name="item_edit_draft_keep"),
    path("items/<int:pk>/edit/draft/discard/", draft_views.draft_discard, name="item_edit_draft_discard"),
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
    path("items/<int:pk>/meetings/new/", meeting_views.meeting_create, name="meeting_create"),
    path("items/<int:pk>/meetings/<int:meeting_pk>/", meeting_views.meeting_detail, name="meeting_detail"),
    path(
        "items/<int:pk>/meetings/<int:meeting_pk>/pre-read/",
        meeting_views.meeting_pre_read,
        name="meeting_pre_read",
    ),
    path(
        "items/<int:pk>/meetings/<int:meeting_pk>/minutes/", meeting_views.minutes_edit, name="minutes_edit"
    ),
    path(
        "items/<int:pk>/meetings/<int:meeting_pk>/minutes/confirm/",
        meeting_views.minutes_confirm,
        name="minutes_confirm",
    ),
    path(
        "items/<int:pk>/meetings/<int:meeting_pk>/minutes/print/",
        meeting_views.minutes_print,
        name="minutes_print",
    ),
    path(
        "items/<int:pk>/meetings/<int:meeting_pk>/minutes.xlsx",
        meeting_views.minutes_export,
        name="minutes_export",
    ),
]
