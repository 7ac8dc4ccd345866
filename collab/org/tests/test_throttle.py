"""Password guessing is throttled per account and per address: login, signing, password reset."""

import ipaddress
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from collab.audit.models import AuditEntry
from collab.org.models import Throttle
from collab.org.signin.pin import signing_pin_set, signing_secret_valid
from collab.org.tasks import purge_throttles_task
from collab.schedules import BEAT_SCHEDULE
from collab.testing import PASSWORD, Org, client_for
from reviews_app.models import Signature
from reviews_app.tests.delivery_support import accept, started_item, submit
from tasks_app.models import Task

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 10, 9, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
EN = {"accept-language": "en"}


def log_in(client: Client, username: str, password: str, address: str = "10.0.0.8", **extra: Any) -> Any:
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address, **extra
    )


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_thirty_wrong_passwords_lock_the_account_even_for_the_right_one(org: Org) -> None:
    client = Client()
    with time_machine.travel(NOON, tick=False) as clock:
        for _ in range(30):
            assert log_in(client, "requester", "guess").status_code in (200, 429)
        response = log_in(client, "requester", PASSWORD)
        assert response.status_code == 429 and not logged_in(client)
        assert "尝试失败次数过多，请在 15 分钟后（12:15）再试。" in response.content.decode()
        response = log_in(client, "requester", PASSWORD, headers=EN)
        assert "Too many failed attempts. Try again in 15 minutes, at 12:15." in response.content.decode()
        # The account is locked from every address; another account from this address is not.
        assert log_in(Client(), "requester", PASSWORD, address="10.9.9.9").status_code == 429
        other = Client()
        assert log_in(other, "owner", PASSWORD).status_code == 302 and logged_in(other)
        clock.shift(timedelta(minutes=15, seconds=1))
        assert log_in(client, "requester", PASSWORD).status_code == 302 and logged_in(client)


def test_the_fifth_wrong_password_says_when_to_try_again_and_a_success_resets_the_count(org: Org) -> None:
    client = Client()
    with time_machine.travel(NOON, tick=False):
        for _ in range(4):
            page = log_in(client, "requester", "guess").content.decode()
            assert 'class="error" role="alert"' in page and "再试。" not in page
        assert log_in(client, "requester", PASSWORD).status_code == 302
        client.logout()
        for _ in range(4):
            log_in(client, "requester", "guess")
        assert log_in(client, "requester", PASSWORD).status_code == 302  # four again: not locked
        client.logout()
        for _ in range(4):
            log_in(client, "requester", "guess")
        page = log_in(client, "requester", "guess").content.decode()
        assert "尝试失败次数过多，请在 15 分钟后（12:15）再试。" in page


def test_one_address_guessing_many_accounts_is_locked_out(org: Org) -> None:
    guesser = Client()
    with time_machine.travel(NOON, tick=False):
        for number in range(20):
            log_in(guesser, f"user{number}", "guess", address="203.0.113.7")
        assert log_in(guesser, "owner", PASSWORD, address="203.0.113.7").status_code == 429
        assert not logged_in(guesser)
        elsewhere = Client()
        assert log_in(elsewhere, "owner", PASSWORD, address="10.0.0.9").status_code == 302


def test_signing_password_guesses_are_audited_and_locked_out(org: Org) -> None:
    item = started_item(org)
    deliverable = submit(org, Task.objects.filter(item=item).order_by("pk")[0])
    accept(org, deliverable)
    owner = client_for(org.owner)
    url = reverse("reviews_app:deliverable_sign", args=[item.pk, deliverable.pk])

    def sign(password: str) -> str:
        response = owner.post(
            url,
            {"role": "deliverer", "password": password, "drawing": ""},
            REMOTE_ADDR="10.1.2.3",
            follow=True,
        )
        return response.content.decode()

    with time_machine.travel(NOON, tick=False) as clock:
        for _ in range(30):
            sign("guess")
        assert "尝试失败次数过多，请在 15 分钟后（12:15）再试。" in sign(PASSWORD)
        assert not Signature.objects.exists()
        failed = AuditEntry.objects.filter(action="deliverable.sign_failed")
        # Five wrong passwords were checked and audited; the later attempts were refused unread.
        assert failed.count() == 5
        assert set(failed.values_list("actor", "note")) == {(org.owner.pk, "10.1.2.3")}
        clock.shift(timedelta(minutes=16))
        sign(PASSWORD)
    assert list(Signature.objects.values_list("signer", "ip_address")) == [(org.owner.pk, "10.1.2.3")]
    assert not Throttle.objects.filter(key=f"sign:account:{org.owner.pk}").exists()


def test_password_reset_mails_are_limited_per_address_and_say_when_to_try_again(org: Org) -> None:
    client = Client()
    with time_machine.travel(NOON, tick=False):
        for _ in range(3):
            response = client.post(reverse("password_reset"), {"email": "requester@example.com"})
            assert response.status_code == 302
        response = client.post(reverse("password_reset"), {"email": "requester@example.com"})
        assert response.status_code == 429
        assert "尝试失败次数过多，请在 15 分钟后（12:15）再试。" in response.content.decode()
    assert len(mail.outbox) == 3


def test_behind_a_trusted_proxy_the_client_address_is_locked_not_the_proxy(org: Org, settings: Any) -> None:
    settings.COLLAB_TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.1/32")]
    guesser, colleague = Client(), Client()
    with time_machine.travel(NOON, tick=False):
        for number in range(20):
            log_in(guesser, f"user{number}", "guess", address="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
        assert (
            log_in(guesser, "owner", PASSWORD, "10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7").status_code
            == 429
        )
        response = log_in(colleague, "owner", PASSWORD, "10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.8")
        assert response.status_code == 302 and logged_in(colleague)
    assert Throttle.objects.filter(key="login:address:203.0.113.7").exists()
    assert not Throttle.objects.filter(key="login:address:10.0.0.1").exists()


def test_signing_pin_guesses_are_audited_locked_out_and_told_when_to_try_again(org: Org) -> None:
    org.owner.set_unusable_password()  # signs in with the company account: signs with a PIN
    org.owner.save()
    signing_pin_set(actor=org.owner, pin="246810", current_pin="", sso_at=time.time())
    owner = client_for(org.owner)
    url = reverse("signing_pin")

    def change(current: str, **headers: str) -> Any:
        return owner.post(
            url,
            {"current_pin": current, "pin": "13579246", "again": "13579246"},
            REMOTE_ADDR="10.1.2.3",
            headers=headers,
        )

    with time_machine.travel(NOON, tick=False) as clock:
        for guess in range(30):
            assert change(f"{guess:06d}").status_code == 400
        assert "尝试失败次数过多，请在 15 分钟后（12:15）再试。" in change("246810").content.decode()
        assert "Try again in 15 minutes, at 12:15." in change("246810", **EN).content.decode()
        assert signing_secret_valid(org.owner, "246810")  # unchanged
        failed = AuditEntry.objects.filter(action="person.signing_pin_failed")
        # Five wrong PINs were checked and audited; the later attempts were refused unread.
        assert failed.count() == 5
        assert set(failed.values_list("actor", "note")) == {(org.owner.pk, "10.1.2.3")}
        clock.shift(timedelta(minutes=16))
        assert change("246810").status_code == 302
    assert signing_secret_valid(org.owner, "13579246")
    assert not Throttle.objects.filter(key=f"sign:account:{org.owner.pk}").exists()


def test_the_hourly_purge_drops_counts_that_no_longer_count(org: Org) -> None:
    assert BEAT_SCHEDULE["org-purge-throttles"]["task"] == purge_throttles_task.name
    with time_machine.travel(NOON, tick=False) as clock:
        for _ in range(5):  # locks the requester until 12:15
            log_in(Client(), "requester", "guess", address="10.0.0.1")
        clock.shift(timedelta(minutes=10))
        log_in(Client(), "owner", "guess", address="10.0.0.9")  # counts from 12:10
        clock.shift(timedelta(minutes=4))
        purge_throttles_task.delay()  # what beat sends every hour; at 12:14 everything counts
        assert Throttle.objects.count() == 4
        assert log_in(Client(), "requester", PASSWORD, address="10.0.0.2").status_code == 429
        clock.shift(timedelta(minutes=2))
        purge_throttles_task.delay()  # at 12:16 the requester's lockout and window are over
        assert set(Throttle.objects.values_list("key", flat=True)) == {
            "login:account:owner",
            "login:address:10.0.0.9",
        }
