urlpatterns: list = []  # stage 5 views
