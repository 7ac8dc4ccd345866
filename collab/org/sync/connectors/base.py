"""What every vendor connector shares: JSON over HTTPS, a cached access token, error codes, rate limits.

- The access token is kept in a table row (``VendorToken``, sealed), shared by every web process,
  worker and host, until shortly before the vendor says it expires; a vendor code meaning "token
  invalid or expired" fetches a new one once, stores it for everyone, and repeats the call.
- A vendor code meaning "too many requests" (or HTTP 429) waits and repeats, a few times with
  growing pauses, then gives up with a clear error: the whole sync then changes nothing.
- Any other non-zero code stops the fetch with the vendor's code and message (never the token).
"""

import hashlib
import json
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import IntegrityError
from django.utils import timezone
from django.utils.translation import gettext as _

from collab.lib.secretbox import SecretBoxError, seal, unseal
from collab.org.models import DirectorySource, VendorToken, source_secret
from collab.org.sync.snapshot import DirectoryError

TIMEOUT = 20
RATE_LIMIT_ATTEMPTS = 4
# Refresh this long before the vendor's expiry, so a token never dies in the middle of a sync.
TOKEN_MARGIN = 300


class VendorApi:
    default_base_url = ""
    # The outbox sets a shorter one for personal messages (its lease; collab/notify/delivery.py).
    timeout: float = TIMEOUT
    token_error_codes: frozenset[int] = frozenset()
    rate_limit_codes: frozenset[int] = frozenset()

    def __init__(self, source: DirectorySource) -> None:
        self.source = source
        self.base_url = (source.base_url or self.default_base_url).rstrip("/")
        self.app_id = source.app_id
        self.app_secret = source_secret(source)
        fingerprint = hashlib.sha256(f"{self.base_url}|{self.app_id}|{self.app_secret}".encode()).hexdigest()[
            :16
        ]
        # A changed secret or address gets a fresh token instead of the old one.
        self._cache_key = f"directory-token:{source.kind}:{fingerprint}"
        # The shared token as this connector last read it, so a fetch of 600 pages reads the
        # table once, not once a page: (token, when to stop using it).
        self._held: tuple[str, datetime] | None = None

    # Each vendor says how to get a token and where its error code is.
    def fetch_token(self) -> tuple[str, int]:
        raise NotImplementedError

    def token_from(
        self, method: str, path: str, *, reply_field: str, expiry_field: str, **params: Any
    ) -> tuple[str, int]:
        """Asks the vendor's token endpoint (GET with a query, or POST with a JSON body)."""
        if method == "GET":
            reply = self.request(method, path, query=params)
        else:
            reply = self.request(method, path, body=params)
        code, message = self.error_of(reply)
        if code:
            raise self.vendor_error(code, message)
        return str(reply[reply_field]), int(reply.get(expiry_field, 7200))

    def error_of(self, reply: dict[str, Any]) -> tuple[int, str]:
        return int(reply.get("errcode", 0) or 0), str(reply.get("errmsg", ""))

    def authorize(self, token: str, query: dict[str, Any], headers: dict[str, str]) -> None:
        query["access_token"] = token

    def token(self, *, refresh: bool = False, stale: str = "") -> str:
        """The shared token; a new one when there is none, it is about to expire, or ``refresh``.

        ``stale`` is the token the vendor just refused: if another process already replaced it,
        that replacement is used instead of asking the vendor once more.
        """
        if not refresh and self._held is not None and self._held[1] > timezone.now():
            return self._held[0]
        row = VendorToken.objects.filter(key=self._cache_key).first()
        if row is not None and row.expires_at > timezone.now():
            try:
                stored = unseal(
                    row.sealed_token,
                    key_material=settings.ENCRYPTION_KEY,
                    fallbacks=settings.ENCRYPTION_KEY_FALLBACKS,
                )
            except SecretBoxError:
                stored = ""  # sealed with a key that is gone: fetch a new one
            if stored and (not refresh or (stale and stored != stale)):
                self._held = (stored, row.expires_at)
                return stored
        token, expires_in = self.fetch_token()
        now = timezone.now()
        lifetime = max(int(expires_in) - TOKEN_MARGIN, 30)
        expires_at = now + timedelta(seconds=lifetime)
        values = {
            "sealed_token": seal(token, key_material=settings.ENCRYPTION_KEY),
            "expires_at": expires_at,
            "fetched_at": now,
        }
        try:
            VendorToken.objects.update_or_create(key=self._cache_key, defaults=values)
        except IntegrityError:  # another process stored its token at the same moment: ours wins
            VendorToken.objects.filter(key=self._cache_key).update(**values)
        self._held = (token, expires_at)
        return token

    def call(
        self, method: str, path: str, *, query: dict[str, Any] | None = None, body: Any = None
    ) -> dict[str, Any]:
        """One API call with the cached token; refreshes an expired token once, waits out rate limits."""
        refreshed = False
        token = self.token()
        attempt = 0
        while True:
            attempt += 1
            params = dict(query or {})
            headers: dict[str, str] = {}
            self.authorize(token, params, headers)
            reply = self.request(method, path, query=params, body=body, headers=headers)
            code, message = self.error_of(reply)
            if code == 0:
                return reply
            if code in self.token_error_codes and not refreshed:
                refreshed = True
                token = self.token(refresh=True, stale=token)
                continue
            if code in self.rate_limit_codes and attempt < RATE_LIMIT_ATTEMPTS:
                time.sleep(getattr(settings, "DIRECTORY_RATE_LIMIT_WAIT", 1.0) * 2 ** (attempt - 1))
                continue
            raise self.vendor_error(code, message)

    def vendor_error(self, code: int, message: str) -> DirectoryError:
        return DirectoryError(
            _("%(source)s refused the request: error %(code)s, %(message)s")
            % {"source": self.source.get_kind_display(), "code": code, "message": message[:200]}
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        url = f"{self.base_url}{path}"
        if query:
            url = f"{url}?{urlencode(query)}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 (https or the test's http)
        request.add_header("Content-Type", "application/json; charset=utf-8")
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                raw = response.read()
        except urllib.error.HTTPError as error:
            # Vendors answer errors with a JSON body and a 4xx status (Feishu); keep the body's code.
            raw = error.read()
            if error.code == 429:
                return self.rate_limited_reply()
            if not raw.strip().startswith(b"{"):
                raise DirectoryError(
                    _("%(source)s answered HTTP %(status)s.")
                    % {"source": self.source.get_kind_display(), "status": error.code}
                ) from None
        except (urllib.error.URLError, OSError) as error:
            raise DirectoryError(
                _("%(source)s cannot be reached: %(reason)s")
                % {"source": self.source.get_kind_display(), "reason": getattr(error, "reason", error)}
            ) from None
        try:
            reply = json.loads(raw)
        except ValueError:
            raise DirectoryError(
                _("%(source)s answered something that is not JSON.")
                % {"source": self.source.get_kind_display()}
            ) from None
        if not isinstance(reply, dict):
            raise DirectoryError(
                _("%(source)s answered something that is not JSON.")
                % {"source": self.source.get_kind_display()}
            )
        return reply

    def rate_limited_reply(self) -> dict[str, Any]:
        code = min(self.rate_limit_codes) if self.rate_limit_codes else 429
        return {"errcode": code, "errmsg": "HTTP 429", "code": code, "msg": "HTTP 429"}
