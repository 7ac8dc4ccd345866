from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from collab.org import views as org_views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="requests_app:register"), name="home"),
    path("accounts/login/", org_views.CollabLoginView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("language/", org_views.language_switch, name="language_switch"),
    path("admin/", admin.site.urls),
    path("notifications/", include("collab.notify.urls")),
    path("", include("requests_app.urls")),
    path("", include("tasks_app.urls")),
    path("", include("reviews_app.urls")),
]
