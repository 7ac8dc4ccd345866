"""A URL configuration in which stage 5 already names the deliverable page."""

from django.http import HttpResponse
from django.urls import include, path


def _page(request: object, pk: int, deliverable_pk: int) -> HttpResponse:
    return HttpResponse()


reviews = (
    [path("items/<int:pk>/deliverables/<int:deliverable_pk>/", _page, name="deliverable_detail")],
    "reviews_app",
)

urlpatterns = [
    path("", include("tasks_app.urls")),
    path("", include(reviews)),
]
