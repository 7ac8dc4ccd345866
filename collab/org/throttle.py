"""Password guessing: failed attempts counted per account and per address, with a lockout.

Where a password is typed (login, the signature's password re-entry) or a reset e-mail is asked
for, each attempt names two keys: the account (the username typed, or the signing user) and
the client's address (REMOTE_ADDR, which the trusted-proxy setting corrects behind a proxy).

1. While either key is locked, the attempt is refused before the password is checked (the right
   password too), and the person is told, in their language, when they may try again.
2. A failure counts against both keys within a window; at the key's limit it is locked for
   ``COLLAB_LOCKOUT_MINUTES`` and its count starts again.
3. A success clears the account's count (not the address's: one right password among many
   guesses from one address must not reset the address).
4. Rows that count nothing any more (window over, no lockout running) are purged every hour
   (``throttles_purge``, beat's ``org.purge_throttles``), so a guesser trying many names or
   addresses does not grow the table for ever.

The counts live in a table (``org.Throttle``), one row per key, updated under a row lock, so
every web process on every host sees the same counts and 30 parallel guesses count 30.
Settings (defaults): ``COLLAB_LOCKOUT_MINUTES`` (15), ``COLLAB_ACCOUNT_FAILURES`` (5),
``COLLAB_ADDRESS_FAILURES`` (20), ``COLLAB_RESET_REQUESTS`` (3 per e-mail address).
"""

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import ngettext

from collab.org.models import Throttle


def lockout() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "COLLAB_LOCKOUT_MINUTES", 15)))


def account_limit() -> int:
    return int(getattr(settings, "COLLAB_ACCOUNT_FAILURES", 5))


def address_limit() -> int:
    return int(getattr(settings, "COLLAB_ADDRESS_FAILURES", 20))


def reset_limit() -> int:
    return int(getattr(settings, "COLLAB_RESET_REQUESTS", 3))


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address: REMOTE_ADDR (behind a trusted proxy, the middleware has already
    put the client's address there), or None when it is not an IP address."""
    value = request.META.get("REMOTE_ADDR", "")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


@dataclass(frozen=True)
class Key:
    name: str
    limit: int


def keys_for(action: str, *, account: str, address: str | None) -> list[Key]:
    """The account's and the address's keys of ``action`` ("login", "sign", "reset")."""
    keys = [Key(f"{action}:account:{account.strip().lower()}"[:200], account_limit())]
    keys.append(Key(f"{action}:address:{address or 'unknown'}", address_limit()))
    return keys


class Locked(Exception):
    """Attempts are refused until ``until``; ``str()`` says so in the active language."""

    def __init__(self, until: datetime) -> None:
        self.until = until
        super().__init__(lockout_message(until))


def lockout_message(until: datetime, *, now: datetime | None = None) -> str:
    minutes = max(1, math.ceil((until - (now or timezone.now())).total_seconds() / 60))
    return ngettext(
        "Too many failed attempts. Try again in %(minutes)d minute, at %(time)s.",
        "Too many failed attempts. Try again in %(minutes)d minutes, at %(time)s.",
        minutes,
    ) % {"minutes": minutes, "time": time_format(timezone.localtime(until), "H:i")}


def refuse_if_locked(keys: list[Key]) -> None:
    """Raises Locked while any of ``keys`` is locked."""
    now = timezone.now()
    until = (
        Throttle.objects.filter(key__in=[k.name for k in keys], locked_until__gt=now)
        .order_by("-locked_until")
        .values_list("locked_until", flat=True)
        .first()
    )
    if until is not None:
        raise Locked(until)


def record_failure(keys: list[Key]) -> datetime | None:
    """Counts one failure against every key; returns when the attempts are locked, if they now are."""
    now = timezone.now()
    window = lockout()
    locked: list[datetime] = []
    for key in keys:
        with transaction.atomic():
            row = _locked_row(key.name, now)
            if row.window_started_at <= now - window:
                row.failures, row.window_started_at = 0, now
            row.failures += 1
            if row.failures >= key.limit:
                row.locked_until = now + window
                row.failures, row.window_started_at = 0, now
            row.save(update_fields=["failures", "window_started_at", "locked_until"])
            if row.locked_until is not None and row.locked_until > now:
                locked.append(row.locked_until)
    return max(locked, default=None)


def _locked_row(name: str, now: datetime) -> Throttle:
    """The key's row, locked for update; created on first use (a concurrent creation wins)."""
    row = Throttle.objects.select_for_update().filter(key=name).first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            return Throttle.objects.create(key=name, window_started_at=now)
    except IntegrityError:
        return Throttle.objects.select_for_update().get(key=name)


def record_success(keys: list[Key]) -> None:
    """Clears the account's count after a right password (the first key is the account's)."""
    Throttle.objects.filter(key=keys[0].name).delete()


def failure_message(until: datetime | None, default: str) -> str:
    """What to tell after a failure: the lockout when it has just begun, else ``default``."""
    return lockout_message(until) if until is not None else default


def throttles_purge(*, now: datetime | None = None) -> int:
    """Deletes the rows that no longer count: their window is over and no lockout runs (a row
    whose window is over starts again at 0 on its next failure anyway); returns how many."""
    now = now or timezone.now()
    deleted, _per_model = (
        Throttle.objects.filter(window_started_at__lte=now - lockout()).exclude(locked_until__gt=now).delete()
    )
    return deleted
