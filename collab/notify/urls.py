from django.urls import path

from collab.notify import views

app_name = "notify"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("<int:pk>/open/", views.notification_read, name="open"),
    path("read-all/", views.notification_read_all, name="read_all"),
    path("settings/", views.notification_preferences, name="preferences"),
]
