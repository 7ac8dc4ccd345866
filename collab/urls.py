from django.contrib import admin
from django.urls import include, path

from collab.dashboards import views as dashboard_views
from collab.org import views as org_views
from collab.org.signin import views as signin_views

urlpatterns = [
    path("", dashboard_views.my_work, name="home"),
    path("accounts/login/", org_views.CollabLoginView.as_view(), name="login"),
    path("accounts/password_reset/", org_views.CollabPasswordResetView.as_view(), name="password_reset"),
    path("accounts/sso/<int:pk>/", signin_views.signin_start, name="signin_start"),
    path("accounts/sso/<int:pk>/callback/", signin_views.signin_callback, name="signin_callback"),
    path("accounts/signing-pin/", signin_views.signing_pin, name="signing_pin"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("language/", org_views.language_switch, name="language_switch"),
    path("pickers/people/", org_views.picker_people, name="picker_people"),
    path("pickers/departments/", org_views.picker_departments, name="picker_departments"),
    path("admin/", admin.site.urls),
    path("notifications/", include("collab.notify.urls")),
    path("", include("collab.exports.urls")),
    path("", include("collab.movein.urls")),
    path("", include("requests_app.urls")),
    path("", include("tasks_app.urls")),
    path("", include("reviews_app.urls")),
    path("", include("collab.dashboards.urls")),
]
