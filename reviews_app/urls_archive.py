urlpatterns: list = []  # stage 6 views
