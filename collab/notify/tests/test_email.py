"""E-mail: a text and an HTML part, in the recipient's language, linking back to Collab."""

from typing import Any

import pytest
from django.core import mail
from django.utils.translation import gettext as _

from collab.notify.models import Delivery
from collab.notify.services import notify
from collab.testing import Org, make_person

pytestmark = pytest.mark.django_db


def render() -> tuple[str, str]:
    return _("Notifications"), _("Delivery standard") + ": <95%>"


def test_each_person_gets_text_and_html_in_their_language(
    org: Org, django_capture_on_commit_callbacks: Any
) -> None:
    alice = make_person("alice", org.qa, name="Alice Smith", language="en")
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipients=[org.owner, alice], kind="test", render=render, url="/items/7/")
    by_address = {m.to[0]: m for m in mail.outbox}
    chinese, english = by_address["owner@example.com"], by_address["alice@example.com"]
    assert (chinese.subject, english.subject) == ("通知", "Notifications")
    assert "交付标准: <95%>" in chinese.body and "Delivery standard: <95%>" in english.body
    assert "http://127.0.0.1:8000/items/7/" in chinese.body
    assert "Open in Collab: http://127.0.0.1:8000/items/7/" in english.body
    [(html, mimetype)] = chinese.alternatives
    assert mimetype == "text/html"
    assert '<html lang="zh-hans">' in html and "<h1" in html and "通知</h1>" in html
    assert "&lt;95%&gt;" in html and 'href="http://127.0.0.1:8000/items/7/"' in html
    [(html, _mimetype)] = english.alternatives
    assert '<html lang="en">' in html and ">Open in Collab</a>" in html
    assert "http://127.0.0.1:8000/notifications/settings/" in html


def test_nobody_without_an_address_is_queued(org: Org) -> None:
    org.owner.email = ""
    org.owner.save()
    notify(recipients=[org.owner], kind="test", render=render)
    assert not Delivery.objects.exists()


def test_an_address_removed_after_queueing_fails_without_retries(
    org: Org, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify(recipients=[org.owner], kind="test", render=render)
    org.owner.email = ""
    org.owner.save()
    for callback in callbacks:
        callback()
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 1) and delivery.last_error
    assert mail.outbox == []
