from django.urls import path

from collab.exports import views

app_name = "exports"

urlpatterns = [
    path("exports/<int:export_pk>/", views.export_page, name="export"),
    path("exports/<int:export_pk>/status/", views.export_status, name="status"),
    path("exports/<int:export_pk>/download/", views.export_download, name="download"),
    path("exports/<int:export_pk>/again/", views.export_again, name="again"),
]
