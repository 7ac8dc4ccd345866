"""Middleware of the project as a whole."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from collab.lib.client_ip import client_ip


class TrustedProxyMiddleware:
    """Puts the client's address in REMOTE_ADDR when the request came through a trusted proxy.

    Everything that records or limits by address (signatures, throttling, logs) reads
    REMOTE_ADDR, so it is corrected once here instead of in each of them.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.COLLAB_TRUSTED_PROXIES:
            address = client_ip(
                request.META.get("REMOTE_ADDR", ""),
                request.META.get("HTTP_X_FORWARDED_FOR", ""),
                settings.COLLAB_TRUSTED_PROXIES,
            )
            if address is not None:
                request.META["REMOTE_ADDR"] = address
        return self.get_response(request)
