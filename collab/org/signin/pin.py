"""What re-entering a secret at signing means for each person.

People with a password here type it again. People who sign in with the company account have
no password here, so they choose a signing PIN (6 to 12 digits, hashed like a password). Setting
or changing it needs the current PIN, or — for the first one — a sign-in with the company account
within the last ten minutes, so a borrowed, already-open session cannot give itself a PIN.
"""

import re
from typing import Any

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from collab.audit.services import audit_record
from collab.org.models import Person

PIN = re.compile(r"^\d{6,12}$")
FRESH_SSO_SECONDS = 600


class PinError(Exception):
    """A PIN that cannot be set; the text is shown as it is."""


def signing_secret_valid(user: Any, secret: str) -> bool:
    """Whether ``secret`` is the user's login password or their signing PIN."""
    if not secret:
        return False
    if user.has_usable_password() and user.check_password(secret):
        return True
    stored = Person.objects.filter(user_id=user.pk).values_list("signing_pin", flat=True).first() or ""
    return bool(stored) and check_password(secret, stored)


def has_signing_pin(user: Any) -> bool:
    return bool(Person.objects.filter(user_id=user.pk).exclude(signing_pin="").exists())


def signing_pin_set(*, actor: Any, pin: str, current_pin: str, sso_at: float | None) -> None:
    if not PIN.match(pin):
        raise PinError(_("A signing PIN is 6 to 12 digits."))
    with transaction.atomic():
        person = Person.objects.select_for_update().filter(user_id=actor.pk).first()
        if person is None:
            raise PinError(_("Only people of the organisation can sign."))
        if person.signing_pin:
            if not check_password(current_pin, person.signing_pin):
                raise PinError(_("The current signing PIN is not correct."))
        elif sso_at is None or timezone.now().timestamp() - sso_at > FRESH_SSO_SECONDS:
            raise PinError(
                _("Sign in with your company account again, then set your PIN within ten minutes.")
            )
        Person.objects.filter(pk=person.pk).update(signing_pin=make_password(pin))
        audit_record(actor=actor, action="person.signing_pin_set", target=person)
