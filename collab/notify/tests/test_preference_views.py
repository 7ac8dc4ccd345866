"""The notification settings page: each person chooses for themselves."""

import pytest
from django.test import Client
from django.urls import reverse

from collab.notify.models import Preference
from collab.testing import Org, client_for

pytestmark = pytest.mark.django_db

URL = reverse("notify:preferences")


def test_it_shows_the_defaults_to_someone_who_never_chose(org: Org) -> None:
    page = client_for(org.owner).get(URL)
    assert page.status_code == 200
    form = page.context["form"]
    assert (form["email"].value(), form["robot_mentions"].value(), form["routine_digest"].value()) == (
        True,
        True,
        True,
    )
    assert not Preference.objects.exists()


def test_it_saves_ones_own_choices(org: Org) -> None:
    client = client_for(org.owner)
    response = client.post(URL, {"email": "on", "routine_digest": "on"})
    assert response.status_code == 302 and response["Location"] == URL
    preference = Preference.objects.get()
    assert (preference.user, preference.email, preference.robot_mentions, preference.routine_digest) == (
        org.owner,
        True,
        False,
        True,
    )
    client.post(URL, {})
    preference.refresh_from_db()
    assert (preference.email, preference.robot_mentions, preference.routine_digest) == (False, False, False)
    assert Preference.objects.count() == 1


def test_it_needs_a_login_and_no_other_method(org: Org) -> None:
    assert Client().get(URL).status_code == 302
    assert Client().post(URL, {}).status_code == 302
    assert not Preference.objects.exists()
    assert client_for(org.owner).put(URL).status_code == 405
