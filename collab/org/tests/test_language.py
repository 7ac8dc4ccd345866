import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from collab.audit.models import AuditEntry
from collab.org.models import Person
from collab.testing import PASSWORD, Org, make_person

pytestmark = pytest.mark.django_db


def test_the_interface_is_chinese_by_default(org: Org) -> None:
    response = Client().get(reverse("login"))
    assert '<html lang="zh-hans">' in response.content.decode()
    assert "登录" in response.content.decode()


def test_switching_to_english_is_remembered_for_the_person(org: Org) -> None:
    client = Client()
    client.force_login(org.owner)
    response = client.post(reverse("language_switch"), {"language": "en", "next": "/register/"})
    assert response.status_code == 302 and response["Location"] == "/register/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert Person.objects.get(user=org.owner).language == "en"
    assert AuditEntry.objects.filter(action="person.language_changed", actor=org.owner).exists()
    page = client.get(reverse("requests_app:register")).content.decode()
    assert "Communication register" in page


def test_logging_in_applies_the_persons_language(org: Org) -> None:
    make_person("alice", org.qa, name="Alice Smith", language="en")
    response = Client().post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"


def test_an_unknown_language_or_foreign_redirect_changes_nothing(org: Org) -> None:
    client = Client()
    client.force_login(org.owner)
    response = client.post(reverse("language_switch"), {"language": "fr", "next": "https://evil.example/"})
    assert response["Location"] == "/"
    assert Person.objects.get(user=org.owner).language == "zh-hans"


def test_the_language_switch_refuses_get() -> None:
    assert Client().get(reverse("language_switch")).status_code == 405
