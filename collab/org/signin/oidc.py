"""OpenID Connect with authlib: discovery, PKCE-free code flow with state and nonce, ID token
signature checked against the provider's published keys (JWKS), issuer and audience checked."""

from typing import Any

from authlib.integrations.base_client import OAuthError
from authlib.integrations.django_client import OAuth
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from joserfc.errors import JoseError

from collab.org.models import DirectorySource, source_secret
from collab.org.signin.identity import SignInError


def _client(source: DirectorySource) -> Any:
    oauth = OAuth()
    issuer = source.base_url.rstrip("/")
    return oauth.register(
        name=f"source{source.pk}",
        client_id=source.app_id,
        client_secret=source_secret(source),
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid email profile"},
    )


def oidc_start(request: HttpRequest, source: DirectorySource, redirect_uri: str) -> HttpResponse:
    return _client(source).authorize_redirect(request, redirect_uri)


def oidc_finish(request: HttpRequest, source: DirectorySource) -> tuple[str, dict[str, Any]]:
    """(subject, claims) of the account the provider vouched for; raises ``SignInError``."""
    try:
        token = _client(source).authorize_access_token(request)
    except (OAuthError, JoseError, ValueError) as error:
        # OAuthError: a refused or forged callback (state); JoseError: an ID token whose signature,
        # issuer, audience, expiry or nonce does not check out.
        raise SignInError(_("The sign-in provider refused: %(error)s") % {"error": error}) from None
    claims = dict(token.get("userinfo") or {})
    return str(claims.get("sub", "")), claims
