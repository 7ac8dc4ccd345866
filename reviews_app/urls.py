"""Stages 5-6: deliverables and acceptance (urls_delivery), retrospective and archive (urls_archive)."""

from django.urls import include, path

app_name = "reviews_app"

urlpatterns = [
    path("", include("reviews_app.urls_delivery")),
    path("", include("reviews_app.urls_archive")),
]
