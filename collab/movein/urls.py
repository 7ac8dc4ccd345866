from django.urls import path

from collab.movein import views

app_name = "movein"
urlpatterns = [
    path("register/import/", views.register_import_page, name="register_import"),
]
