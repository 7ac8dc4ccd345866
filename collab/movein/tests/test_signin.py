"""Signing in with the company account: a local OpenID provider signing real tokens, the three
vendors' QR logins against local servers, the rule that requires it, and the signing PIN."""

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from joserfc import jwt
from joserfc.jwk import RSAKey

from collab.audit.models import AuditEntry
from collab.movein import services
from collab.movein.tests.vendors import AGENT_ID, APP_ID, APP_SECRET, FakeDirectory
from collab.org.models import DirectorySource, ExternalIdentity, Person
from collab.org.signin.pin import signing_secret_valid
from collab.org.signin.policy import sign_in_policy_set
from collab.testing import PASSWORD, Org
from reviews_app.tests.delivery_support import accept, plan_task, sign, started_item, submit

pytestmark = pytest.mark.django_db

CLIENT_ID = "collab-client"
CLIENT_SECRET = "collab-client-secret"


class Provider:
    """A minimal OpenID provider: discovery, JWKS, an authorization step the test performs as
    the user, and a token endpoint issuing RS256-signed ID tokens for a code, once."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "key-1", "use": "sig"})
        self.signing_key = self.key  # what the token endpoint signs with; the JWKS publishes ``key``
        self.issuer = ""
        self.codes: dict[str, dict[str, Any]] = {}

    def approve(self, authorize_url: str, **claims: Any) -> str:
        """The user signs in at the provider: returns the callback URL the browser is sent to."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
        assert query["client_id"] == CLIENT_ID and query["response_type"] == "code"
        assert "openid" in query["scope"].split()
        code = uuid.uuid4().hex
        self.codes[code] = {"nonce": query.get("nonce"), "redirect_uri": query["redirect_uri"], **claims}
        return f"{urlsplit(query['redirect_uri']).path}?{urlencode({'code': code, 'state': query['state']})}"

    def handle(self, method: str, path: str, body: dict[str, str], auth: str) -> tuple[int, Any]:
        if path == "/.well-known/openid-configuration":
            return 200, {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            }
        if path == "/jwks":
            return 200, {"keys": [self.key.as_dict(private=False)]}
        if path == "/token" and method == "POST":
            import base64

            secret_ok = (
                body.get("client_secret") == CLIENT_SECRET
                or auth == "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            )
            grant = self.codes.pop(body.get("code", ""), None)
            if not secret_ok:
                return 401, {"error": "invalid_client"}
            if grant is None or body.get("redirect_uri") != grant["redirect_uri"]:
                return 400, {"error": "invalid_grant"}
            now = int(time.time())
            claims = {
                "iss": self.issuer,
                "aud": CLIENT_ID,
                "iat": now,
                "exp": now + 300,
                "nonce": grant.pop("nonce"),
            }
            grant.pop("redirect_uri")
            claims.update(grant)
            id_token = jwt.encode({"alg": "RS256", "kid": "key-1"}, claims, self.signing_key)
            return 200, {
                "access_token": uuid.uuid4().hex,
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            }
        return 404, {"error": "not_found"}


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[Provider]:
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    fake = Provider()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self, method: str) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length).decode() if length else ""
            body = {k: v[0] for k, v in parse_qs(raw).items()}
            status, reply = fake.handle(
                method, urlsplit(self.path).path, body, self.headers.get("Authorization", "")
            )
            data = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def oidc_source(provider: Provider) -> DirectorySource:
    source = DirectorySource.objects.create(
        kind="oidc", name="Keycloak", base_url=provider.issuer, app_id=CLIENT_ID, sign_in=True
    )
    services.directory_source_set_secret(actor=None, source=source, secret=CLIENT_SECRET)
    return source


def signed_in_as(client: Client) -> Any:
    return get_user_model().objects.filter(pk=client.session.get("_auth_user_id")).first()


def test_an_oidc_account_with_a_verified_email_signs_in_and_is_remembered(
    provider: Provider, org: Org
) -> None:
    source = oidc_source(provider)
    client = Client(headers={"accept-language": "zh-hans"})
    assert "Keycloak" in client.get("/accounts/login/").content.decode()

    start = client.get(f"/accounts/sso/{source.pk}/?next=/register/")
    assert start.url.startswith(f"{provider.issuer}/authorize?")
    back = client.get(
        provider.approve(start.url, sub="kc-owner-1", email="owner@example.com", email_verified=True)
    )

    assert back.url == "/register/"
    assert signed_in_as(client) == org.owner
    assert ExternalIdentity.objects.get(source=source).subject == "kc-owner-1"

    # Next time the subject alone is enough, whatever the e-mail says now.
    again = Client()
    start = again.get(f"/accounts/sso/{source.pk}/")
    again.get(
        provider.approve(start.url, sub="kc-owner-1", email="someone-else@example.com", email_verified=True)
    )
    assert signed_in_as(again) == org.owner


def test_an_unverified_email_a_forged_state_or_a_token_signed_by_another_key_sign_nobody_in(
    provider: Provider, org: Org
) -> None:
    source = oidc_source(provider)
    client = Client(headers={"accept-language": "zh-hans"})
    start = client.get(f"/accounts/sso/{source.pk}/")
    refused = client.get(
        provider.approve(start.url, sub="x", email="owner@example.com", email_verified=False), follow=True
    )
    assert signed_in_as(client) is None
    assert "没有与此企业账号对应的账号" in refused.content.decode()

    start = client.get(f"/accounts/sso/{source.pk}/")
    forged = provider.approve(start.url, sub="kc-owner-1", email="owner@example.com", email_verified=True)
    client.get(forged.replace("state=", "state=forged"))
    assert signed_in_as(client) is None

    # A token signed with a key the provider does not publish (a forgery) is refused.
    provider.signing_key = RSAKey.generate_key(2048, parameters={"kid": "key-1"})
    start = client.get(f"/accounts/sso/{source.pk}/")
    client.get(provider.approve(start.url, sub="kc-owner-1", email="owner@example.com", email_verified=True))
    assert signed_in_as(client) is None
    assert not ExternalIdentity.objects.exists()


@pytest.mark.parametrize("kind", ["dingtalk", "feishu", "wecom"])
def test_a_vendor_qr_login_signs_in_the_person_the_sync_linked(
    directory_server: FakeDirectory, kind: str
) -> None:
    source = DirectorySource.objects.create(
        kind=kind,
        name=f"{kind}-login",
        base_url=directory_server.bases[kind],
        app_id=APP_ID,
        agent_id=str(AGENT_ID),
        sign_in=True,
    )
    services.directory_source_set_secret(actor=None, source=source, secret=APP_SECRET)
    services.directory_apply(source=source)
    client = Client()

    start = client.get(f"/accounts/sso/{source.pk}/")
    query = {k: v[0] for k, v in parse_qs(urlsplit(start.url).query).items()}
    assert start.url.startswith(directory_server.bases[kind])
    directory_server.codes["scan-1"] = "zhao"  # 赵强 scans the QR code and confirms
    back = client.get(f"/accounts/sso/{source.pk}/callback/", {"code": "scan-1", "state": query["state"]})

    assert back.status_code == 302
    assert signed_in_as(client) == get_user_model().objects.get(person__source_user_id="zhao")
    assert AuditEntry.objects.filter(action="org.identity_linked").count() == 1

    # A used code does not sign in twice.
    other = Client()
    start = other.get(f"/accounts/sso/{source.pk}/")
    state = parse_qs(urlsplit(start.url).query)["state"][0]
    other.get(f"/accounts/sso/{source.pk}/callback/", {"code": "scan-1", "state": state})
    assert signed_in_as(other) is None


def test_an_admin_requires_the_company_account_for_everyone_but_themselves(
    org: Org, django_user_model: Any
) -> None:
    admin = django_user_model.objects.create_superuser("boss", "boss@example.com", PASSWORD)
    sign_in_policy_set(actor=admin, require_sso=True)

    refused = Client(headers={"accept-language": "zh-hans"}).post(
        "/accounts/login/", {"username": org.owner.username, "password": PASSWORD}
    )
    assert refused.status_code == 200
    assert "请使用企业账号登录" in refused.content.decode()

    boss = Client()
    assert boss.post("/accounts/login/", {"username": "boss", "password": PASSWORD}).status_code == 302

    sign_in_policy_set(actor=admin, require_sso=False)
    assert (
        Client().post("/accounts/login/", {"username": org.owner.username, "password": PASSWORD}).status_code
        == 302
    )


def test_people_without_a_password_here_sign_with_their_pin(org: Org) -> None:
    item = started_item(org)
    deliverable = submit(org, plan_task(item))
    accept(org, deliverable)
    org.owner.set_unusable_password()
    org.owner.save()
    client = Client(headers={"accept-language": "zh-hans"})
    client.force_login(org.owner)

    stale = client.post("/accounts/signing-pin/", {"pin": "246810", "again": "246810"})
    assert stale.status_code == 400 and "十分钟内" in stale.content.decode()

    session = client.session
    session["collab_sso_at"] = time.time()  # just signed in with the company account
    session.save()
    assert client.post("/accounts/signing-pin/", {"pin": "246810", "again": "246810"}).status_code == 302
    assert not signing_secret_valid(org.owner, "135790")

    signature = sign(org.owner, deliverable, "deliverer", password="246810")
    assert signature.signer == org.owner
    # Changing it needs the current PIN.
    changed = client.post(
        "/accounts/signing-pin/", {"current_pin": "000000", "pin": "13579246", "again": "13579246"}
    )
    assert changed.status_code == 400


def oidc_sign_in(provider: Provider, source: DirectorySource, client: Client, **claims: Any) -> Any:
    start = client.get(f"/accounts/sso/{source.pk}/")
    return client.get(provider.approve(start.url, **claims), follow=True)


def test_without_the_setting_a_stranger_is_told_in_their_language_to_ask_an_admin(
    provider: Provider, org: Org
) -> None:
    source = oidc_source(provider)
    users = get_user_model().objects.count()

    chinese = Client(headers={"accept-language": "zh-hans"})
    page = oidc_sign_in(provider, source, chinese, sub="kc-new", email="new@example.com", email_verified=True)
    english = Client(headers={"accept-language": "en"})
    page_en = oidc_sign_in(
        provider, source, english, sub="kc-new", email="new@example.com", email_verified=True
    )

    assert signed_in_as(chinese) is None and signed_in_as(english) is None
    assert "请联系管理员" in page.content.decode()
    assert "Ask an admin to add you." in page_en.content.decode()
    assert get_user_model().objects.count() == users


def test_first_sign_in_finds_the_person_by_phone_or_im_id_before_creating_an_account(
    provider: Provider, org: Org
) -> None:
    source = oidc_source(provider)
    admin = get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    sign_in_policy_set(actor=admin, require_sso=False, create_accounts=True)
    Person.objects.filter(user=org.receiver).update(phone="13900000001")
    Person.objects.filter(user=org.owner).update(wecom_id="wu.jie")
    users = get_user_model().objects.count()

    by_phone = Client()
    oidc_sign_in(
        provider, source, by_phone, sub="kc-1", phone_number="13900000001", phone_number_verified=True
    )
    by_im = Client()
    oidc_sign_in(provider, source, by_im, sub="kc-2", email="wj@other.example", wecom_id="wu.jie")
    unverified = Client()
    oidc_sign_in(
        provider, source, unverified, sub="kc-3", phone_number="13900000001", phone_number_verified=False
    )

    assert signed_in_as(by_phone) == org.receiver
    assert signed_in_as(by_im) == org.owner
    # An unverified phone number proves nothing: a new account, not 钱多's.
    created = signed_in_as(unverified)
    assert created is not None and created not in (org.receiver, org.owner)
    assert get_user_model().objects.count() == users + 1

    newcomer = Client(headers={"accept-language": "zh-hans"})
    oidc_sign_in(
        provider,
        source,
        newcomer,
        sub="kc-4",
        name="周杰",
        email="zhou@example.com",
        email_verified=True,
        preferred_username="zhoujie",
        phone_number="13700000009",
        phone_number_verified=True,
    )

    user = signed_in_as(newcomer)
    assert user.username == "zhoujie" and str(user.person) == "周杰" and user.email == "zhou@example.com"
    assert user.person.phone == "13700000009" and not user.has_usable_password()
    assert AuditEntry.objects.filter(action="org.account_created_on_sign_in", target_id=str(user.pk)).exists()
    again = Client()
    oidc_sign_in(provider, source, again, sub="kc-4", email="zhou@example.com", email_verified=True)
    assert signed_in_as(again) == user
    assert get_user_model().objects.count() == users + 2


def test_claims_that_match_several_people_create_nobody(provider: Provider, org: Org) -> None:
    source = oidc_source(provider)
    admin = get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    sign_in_policy_set(actor=admin, require_sso=False, create_accounts=True)
    Person.objects.filter(user__in=[org.receiver, org.owner]).update(phone="13900000001")
    users = get_user_model().objects.count()

    client = Client(headers={"accept-language": "zh-hans"})
    page = oidc_sign_in(
        provider, source, client, sub="kc-1", phone_number="13900000001", phone_number_verified=True
    )

    assert signed_in_as(client) is None
    assert "请联系管理员" in page.content.decode()
    assert get_user_model().objects.count() == users
