"""Fixtures of the org tests: an admin's browser session in English."""

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from collab.testing import Org, client_for


@pytest.fixture
def admin_client(org: Org, django_user_model: Any) -> Client:
    admin = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")
    client = client_for(admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client
