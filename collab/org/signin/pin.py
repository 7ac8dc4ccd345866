"""What re-entering a secret at signing means for each person.

People with a password here type it again. People who sign in with the company account have
no password here, so they choose a signing PIN (6 to 12 digits, hashed like a password). Setting
or changing it needs the current PIN, or — for the first one — a sign-in with the company account
within the last ten minutes, so a borrowed, already-open session cannot give itself a PIN.

A wrong current PIN is a guess like a wrong password at signing: it counts against the same
"sign" keys of the account and the address (``collab.org.throttle``), so guesses on this page and
at signing add up to one lockout, and each one leaves an audit row.
"""

import re
from typing import Any

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from collab.audit.services import audit_record
from collab.org import throttle
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


class WrongPin(PinError):
    """The current PIN typed was wrong."""


def signing_pin_set(
    *, actor: Any, pin: str, current_pin: str, sso_at: float | None, ip_address: str | None = None
) -> None:
    """Sets the actor's signing PIN (see the module); refused while the actor or the address is
    locked out, a wrong current PIN counted and audited."""
    if not PIN.match(pin):
        raise PinError(_("A signing PIN is 6 to 12 digits."))
    keys = throttle.keys_for("sign", account=str(actor.pk), address=ip_address)
    try:
        throttle.refuse_if_locked(keys)
    except throttle.Locked as locked:
        raise PinError(str(locked)) from None
    try:
        _pin_set(actor=actor, pin=pin, current_pin=current_pin, sso_at=sso_at)
    except WrongPin as wrong:
        # After the rolled-back transaction, so the count and the audit row both stay.
        until = throttle.record_failure(keys)
        person = Person.objects.get(user_id=actor.pk)
        audit_record(actor=actor, action="person.signing_pin_failed", target=person, note=ip_address or "")
        if until is not None:
            raise PinError(throttle.lockout_message(until)) from None
        raise wrong from None
    throttle.record_success(keys)


def _pin_set(*, actor: Any, pin: str, current_pin: str, sso_at: float | None) -> None:
    with transaction.atomic():
        person = Person.objects.select_for_update().filter(user_id=actor.pk).first()
        if person is None:
            raise PinError(_("Only people of the organisation can sign."))
        if person.signing_pin:
            if not check_password(current_pin, person.signing_pin):
                raise WrongPin(_("The current signing PIN is not correct."))
        elif sso_at is None or timezone.now().timestamp() - sso_at > FRESH_SSO_SECONDS:
            raise PinError(
                _("Sign in with your company account again, then set your PIN within ten minutes.")
            )
        Person.objects.filter(pk=person.pk).update(signing_pin=make_password(pin))
        audit_record(actor=actor, action="person.signing_pin_set", target=person)
