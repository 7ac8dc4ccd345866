"""QR / OAuth sign-in with DingTalk, Feishu and WeCom, using the directory source's own app.

- DingTalk: the browser goes to login.dingtalk.com/oauth2/auth (client_id = AppKey, scope
  openid); the code becomes a user token at api.dingtalk.com/v1.0/oauth2/userAccessToken
  (JSON: clientId, clientSecret, code, grantType); /v1.0/contact/users/me (header
  x-acs-dingtalk-access-token) names the unionId, and /topapi/user/getbyunionid turns it into
  the company's userid with the app's token.
- Feishu: accounts.feishu.cn/open-apis/authen/v1/authorize (client_id = App ID); the code
  becomes a user token at /open-apis/authen/v2/oauth/token; /open-apis/authen/v1/user_info
  names the user_id.
- WeCom: login.work.weixin.qq.com/wwlogin/sso/login (login_type CorpApp, appid = corp ID,
  agentid); /cgi-bin/auth/getuserinfo?code=… with the app's token names the userid.

The ``state`` is random, kept in the session and checked on return (no forged callbacks).
Tests point the source's server address at a local server: it then serves every host.
"""

import secrets
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest
from django.utils.translation import gettext as _

from collab.org.models import DirectorySource
from collab.org.signin.identity import SignInError
from collab.org.sync.connectors.dingtalk import DingTalkApi
from collab.org.sync.connectors.feishu import FeishuApi
from collab.org.sync.connectors.wecom import WeComApi
from collab.org.sync.snapshot import DirectoryError

STATE = "collab_signin_state"
HOSTS = {
    DirectorySource.Kind.DINGTALK: {"login": "https://login.dingtalk.com", "api": "https://api.dingtalk.com"},
    DirectorySource.Kind.FEISHU: {"login": "https://accounts.feishu.cn", "api": "https://open.feishu.cn"},
    DirectorySource.Kind.WECOM: {
        "login": "https://login.work.weixin.qq.com",
        "api": "https://qyapi.weixin.qq.com",
    },
}


def _host(source: DirectorySource, which: str) -> str:
    return source.base_url.rstrip("/") or HOSTS[DirectorySource.Kind(source.kind)][which]


def vendor_authorize_url(request: HttpRequest, source: DirectorySource, redirect_uri: str) -> str:
    state = secrets.token_urlsafe(24)
    request.session[STATE] = {"source": source.pk, "state": state}
    if source.kind == DirectorySource.Kind.DINGTALK:
        query = {
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "client_id": source.app_id,
            "scope": "openid",
            "state": state,
            "prompt": "consent",
        }
        return f"{_host(source, 'login')}/oauth2/auth?{urlencode(query)}"
    if source.kind == DirectorySource.Kind.FEISHU:
        query = {
            "client_id": source.app_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "state": state,
        }
        return f"{_host(source, 'login')}/open-apis/authen/v1/authorize?{urlencode(query)}"
    query = {
        "login_type": "CorpApp",
        "appid": source.app_id,
        "agentid": source.agent_id,
        "redirect_uri": redirect_uri,
        "state": state,
    }
    return f"{_host(source, 'login')}/wwlogin/sso/login?{urlencode(query)}"


def vendor_finish(request: HttpRequest, source: DirectorySource, redirect_uri: str) -> str:
    """The vendor's user ID of the person who scanned the code; raises ``SignInError``."""
    expected = request.session.pop(STATE, None) or {}
    code = request.GET.get("code") or request.GET.get("authCode") or ""
    if expected.get("source") != source.pk or not secrets.compare_digest(
        str(expected.get("state", "")), request.GET.get("state", "")
    ):
        raise SignInError(_("The sign-in link expired or was not started here. Please try again."))
    if not code:
        raise SignInError(_("The company account did not confirm the sign-in."))
    try:
        if source.kind == DirectorySource.Kind.DINGTALK:
            return _dingtalk_user(source, code)
        if source.kind == DirectorySource.Kind.FEISHU:
            return _feishu_user(source, code, redirect_uri)
        return _wecom_user(source, code)
    except (DirectoryError, KeyError, ValueError) as error:
        raise SignInError(
            _("The company account could not confirm you: %(error)s") % {"error": error}
        ) from None


def _dingtalk_user(source: DirectorySource, code: str) -> str:
    api = DingTalkApi(source)
    api.base_url = _host(source, "api")
    token = api.request(
        "POST",
        "/v1.0/oauth2/userAccessToken",
        body={
            "clientId": source.app_id,
            "clientSecret": api.app_secret,
            "code": code,
            "grantType": "authorization_code",
        },
    )
    if "accessToken" not in token:
        raise DirectoryError(str(token.get("message") or token.get("code") or token))
    me = api.request(
        "GET", "/v1.0/contact/users/me", headers={"x-acs-dingtalk-access-token": token["accessToken"]}
    )
    app = DingTalkApi(source)  # the company's userid needs the app's own token
    result: dict[str, Any] = app.call("POST", "/topapi/user/getbyunionid", body={"unionid": me["unionId"]})[
        "result"
    ]
    return str(result["userid"])


def _feishu_user(source: DirectorySource, code: str, redirect_uri: str) -> str:
    api = FeishuApi(source)
    token = api.request(
        "POST",
        "/open-apis/authen/v2/oauth/token",
        body={
            "grant_type": "authorization_code",
            "client_id": source.app_id,
            "client_secret": api.app_secret,
            "code": code,
            "redirect_uri": redirect_uri,
        },
    )
    if token.get("code") or "access_token" not in token:
        raise DirectoryError(str(token.get("error_description") or token.get("msg") or token.get("code")))
    info = api.request(
        "GET", "/open-apis/authen/v1/user_info", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    if info.get("code"):
        raise DirectoryError(str(info.get("msg")))
    return str(info["data"]["user_id"])


def _wecom_user(source: DirectorySource, code: str) -> str:
    reply = WeComApi(source).call("GET", "/cgi-bin/auth/getuserinfo", query={"code": code})
    if not reply.get("userid"):
        raise DirectoryError(_("Only members of the company can sign in."))
    return str(reply["userid"])
