"""Local servers playing DingTalk, Feishu and WeCom's address-book APIs, as their documents describe.

One in-memory directory (departments with managers, users in departments) served three ways.
Each vendor's token endpoint checks the app credentials and issues tokens that expire after a
number of calls (to exercise refresh); every data endpoint checks the token, paginates with the
vendor's own cursor fields, and can be told to answer one call with a vendor error code.
"""

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

APP_ID = "app-key-0001"
APP_SECRET = "app-secret-0123456789"
AGENT_ID = 1000002
MESSAGE_PATHS = {
    "/topapi/message/corpconversation/asyncsend_v2",
    "/open-apis/im/v1/messages",
    "/cgi-bin/message/send",
}
# The vendors' biggest page is larger; a small one makes a small directory span several pages.
MAX_PAGE = 2


@dataclass
class Dept:
    id: str
    name: str
    parent: str
    managers: list[str] = field(default_factory=list)


@dataclass
class User:
    id: str
    name: str
    depts: list[str]
    email: str = ""
    mobile: str = ""
    title: str = ""


@dataclass
class FakeDirectory:
    root: str = "1"
    depts: list[Dept] = field(default_factory=list)
    users: list[User] = field(default_factory=list)
    base: str = ""
    tokens: dict[str, int] = field(default_factory=dict)  # token -> calls left
    token_calls: int = 0
    calls: list[str] = field(default_factory=list)
    # (path fragment, vendor code): the next call whose path contains it gets that code once.
    failures: list[tuple[str, int]] = field(default_factory=list)
    token_lifetime: int = 1000
    bases: dict[str, str] = field(default_factory=dict)
    # Personal messages received: (vendor, user id, title, link).
    messages: list[tuple[str, str, str, str]] = field(default_factory=list)
    known_messages: set[str] = field(default_factory=set)  # Feishu's uuid / WeCom's duplicate check
    # Sign-in: the authorization codes the vendor handed out after a scan, code -> user id.
    codes: dict[str, str] = field(default_factory=dict)
    # WeCom's user/list_id: the cursors handed out (cursor -> offset) and the ones asked for.
    cursors: dict[str, int] = field(default_factory=dict)
    list_id_cursors: list[str] = field(default_factory=list)
    # WeCom users its per-department detail list leaves out (read one by one with user/get).
    unlisted: set[str] = field(default_factory=set)
    # The largest page any list answers (the benchmark raises it to the vendors' real sizes).
    max_page: int = MAX_PAGE
    # Every personal message request as received: (vendor, JSON body).
    message_bodies: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # A slow vendor: seconds between taking a personal message and answering; ``arrived`` is set
    # as each one is taken (before the answer).
    delay: float = 0.0
    arrived: threading.Event = field(default_factory=threading.Event)

    def issue_token(self) -> str:
        self.token_calls += 1
        token = uuid.uuid4().hex
        self.tokens[token] = self.token_lifetime
        return token

    def token_ok(self, token: str) -> bool:
        left = self.tokens.get(token, 0)
        if left <= 0:
            return False
        self.tokens[token] = left - 1
        return True

    def failure_for(self, path: str) -> int:
        for index, (fragment, code) in enumerate(self.failures):
            if fragment in path:
                del self.failures[index]
                return code
        return 0

    def children(self, parent: str) -> list[Dept]:
        return [d for d in self.depts if d.parent == parent]

    def subtree(self, parent: str) -> list[Dept]:
        result = []
        for child in self.children(parent):
            result += [child, *self.subtree(child.id)]
        return result

    def members(self, dept: str) -> list[User]:
        return [u for u in self.users if dept in u.depts]

    def dept(self, dept_id: str) -> Dept | None:
        return next((d for d in self.depts if d.id == dept_id), None)


def _page(rows: list[Any], cursor: int, size: int, largest: int = MAX_PAGE) -> tuple[list[Any], bool, int]:
    size = max(1, min(size, largest))
    chunk = rows[cursor : cursor + size]
    return chunk, cursor + size < len(rows), cursor + size


def dingtalk(
    fake: FakeDirectory, method: str, path: str, query: dict[str, str], body: Any, headers: Any
) -> tuple[int, Any]:
    if path == "/gettoken":
        if query.get("appkey") != APP_ID or query.get("appsecret") != APP_SECRET:
            return 200, {"errcode": 40089, "errmsg": "不合法的corpid或corpsecret"}
        return 200, {"errcode": 0, "errmsg": "ok", "access_token": fake.issue_token(), "expires_in": 7200}
    if path == "/v1.0/oauth2/userAccessToken":
        userid = fake.codes.pop(body.get("code", ""), None)
        if (
            body.get("clientId") != APP_ID
            or body.get("clientSecret") != APP_SECRET
            or body.get("grantType") != "authorization_code"
        ):
            return 400, {"code": "invalidClient", "message": "client authentication failed"}
        if userid is None:
            return 400, {"code": "invalidAuthCode", "message": "code is invalid"}
        return 200, {"accessToken": f"ua-{userid}", "refreshToken": "r", "expireIn": 7200, "corpId": "ding1"}
    if path == "/v1.0/contact/users/me":
        token = headers.get("x-acs-dingtalk-access-token", "")
        if not token.startswith("ua-"):
            return 401, {"code": "InvalidAuthentication", "message": "token invalid"}
        return 200, {"nick": token[3:], "unionId": f"union-{token[3:]}", "openId": f"open-{token[3:]}"}
    if method != "POST":
        return 405, {"errcode": 43002, "errmsg": "需要POST请求"}
    if not fake.token_ok(query.get("access_token", "")):
        return 200, {"errcode": 42001, "errmsg": "access_token超时"}
    if code := fake.failure_for(path):
        return 200, {"errcode": code, "errmsg": "请求失败", "sub_code": str(code)}
    if path == "/topapi/user/getbyunionid":
        return 200, {
            "errcode": 0,
            "errmsg": "ok",
            "result": {"contact_type": 0, "userid": body["unionid"].removeprefix("union-")},
        }
    if path == "/topapi/message/corpconversation/asyncsend_v2":
        card = body["msg"]["action_card"]
        if body.get("agent_id") != AGENT_ID or body["msg"]["msgtype"] != "action_card":
            return 200, {"errcode": 400002, "errmsg": "invalid agent_id or msgtype"}
        for user in str(body["userid_list"]).split(","):
            fake.messages.append(("dingtalk", user, card["title"], card["single_url"]))
        return 200, {"errcode": 0, "errmsg": "ok", "task_id": len(fake.messages), "request_id": "r1"}
    if path == "/topapi/v2/department/listsub":
        rows = [
            {"dept_id": int(d.id), "name": d.name, "parent_id": int(d.parent)}
            for d in fake.children(str(body["dept_id"]))
        ]
        return 200, {"errcode": 0, "errmsg": "ok", "result": rows}
    if path == "/topapi/v2/user/list":
        dept = str(body["dept_id"])
        department = fake.dept(dept)
        chunk, more, nxt = _page(fake.members(dept), int(body["cursor"]), int(body["size"]), fake.max_page)
        rows = [
            {
                "userid": u.id,
                "name": u.name,
                "mobile": u.mobile,
                "email": u.email,
                "title": u.title,
                "dept_id_list": [int(d) for d in u.depts],
                "leader": bool(department and u.id in department.managers),
            }
            for u in chunk
        ]
        result: dict[str, Any] = {"has_more": more, "list": rows}
        if more:
            result["next_cursor"] = nxt
        return 200, {"errcode": 0, "errmsg": "ok", "result": result}
    return 404, {"errcode": 404, "errmsg": "not found"}


def feishu(
    fake: FakeDirectory, method: str, path: str, query: dict[str, str], body: Any, auth: str
) -> tuple[int, Any]:
    if path == "/open-apis/auth/v3/tenant_access_token/internal":
        if body.get("app_id") != APP_ID or body.get("app_secret") != APP_SECRET:
            return 400, {"code": 10014, "msg": "app secret invalid"}
        return 200, {"code": 0, "msg": "ok", "tenant_access_token": "t-" + fake.issue_token(), "expire": 7200}
    if path == "/open-apis/authen/v2/oauth/token":
        userid = fake.codes.pop(body.get("code", ""), None)
        if body.get("client_id") != APP_ID or body.get("client_secret") != APP_SECRET:
            return 400, {
                "code": 20002,
                "error": "invalid_client",
                "error_description": "client secret invalid",
            }
        if userid is None or body.get("grant_type") != "authorization_code" or not body.get("redirect_uri"):
            return 400, {"code": 20003, "error": "invalid_grant", "error_description": "code is invalid"}
        return 200, {"code": 0, "access_token": f"u-{userid}", "token_type": "Bearer", "expires_in": 7200}
    if path == "/open-apis/authen/v1/user_info":
        if not auth.startswith("Bearer u-"):
            return 401, {"code": 99991668, "msg": "Invalid access token"}
        userid = auth.removeprefix("Bearer u-")
        return 200, {
            "code": 0,
            "msg": "success",
            "data": {"user_id": userid, "open_id": f"ou_{userid}", "name": userid},
        }
    if not auth.startswith("Bearer t-") or not fake.token_ok(auth.removeprefix("Bearer t-")):
        return 400, {"code": 99991663, "msg": "Invalid access token for authorization."}
    if code := fake.failure_for(path):
        return 400, {"code": code, "msg": "request trigger frequency limit" if code == 99991400 else "failed"}
    if path == "/open-apis/im/v1/messages":
        if (
            method != "POST"
            or query.get("receive_id_type") != "user_id"
            or body.get("msg_type") != "interactive"
        ):
            return 400, {"code": 230001, "msg": "invalid receive_id_type or msg_type"}
        card = json.loads(body["content"])
        if body.get("uuid") not in fake.known_messages:
            fake.known_messages.add(body.get("uuid"))
            button = card["elements"][1]["actions"][0]
            fake.messages.append(
                ("feishu", body["receive_id"], card["header"]["title"]["content"], button["url"])
            )
        return 200, {"code": 0, "msg": "success", "data": {"message_id": f"om_{len(fake.messages)}"}}
    if query.get("department_id_type") != "department_id" or query.get("user_id_type") != "user_id":
        return 400, {"code": 99992402, "msg": "field validation failed"}
    cursor = int(query.get("page_token") or 0)
    size = int(query.get("page_size") or 10)

    # Feishu's root department is "0"; the shared directory calls it ``fake.root``.
    def ours(dept_id: str) -> str:
        return fake.root if dept_id == "0" else dept_id

    def theirs(dept_id: str) -> str:
        return "0" if dept_id == fake.root else dept_id

    if path.startswith("/open-apis/contact/v3/departments/") and path.endswith("/children"):
        parent = ours(path.split("/")[-2])
        rows_all = fake.subtree(parent) if query.get("fetch_child") == "true" else fake.children(parent)
        chunk, more, nxt = _page(rows_all, cursor, size, fake.max_page)
        items = [
            {
                "name": d.name,
                "department_id": d.id,
                "open_department_id": f"od-{d.id}",
                "parent_department_id": theirs(d.parent),
                "leader_user_id": d.managers[0] if d.managers else "",
                "leaders": [{"leaderType": 1, "leader_id": m} for m in d.managers],
                "status": {"is_deleted": False},
            }
            for d in chunk
        ]
    elif path == "/open-apis/contact/v3/users/find_by_department":
        chunk, more, nxt = _page(fake.members(ours(query["department_id"])), cursor, size, fake.max_page)
        items = [
            {
                "user_id": u.id,
                "open_id": f"ou_{u.id}",
                "name": u.name,
                "email": u.email,
                "mobile": u.mobile,
                "job_title": u.title,
                "department_ids": [theirs(d) for d in u.depts],
                "status": {"is_resigned": False, "is_activated": True},
            }
            for u in chunk
        ]
    else:
        return 404, {"code": 404, "msg": "not found"}
    data: dict[str, Any] = {"has_more": more, "items": items}
    if more:
        data["page_token"] = str(nxt)
    return 200, {"code": 0, "msg": "success", "data": data}


def wecom(fake: FakeDirectory, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
    if path == "/cgi-bin/gettoken":
        if query.get("corpid") != APP_ID or query.get("corpsecret") != APP_SECRET:
            return 200, {"errcode": 40001, "errmsg": "invalid credential"}
        return 200, {"errcode": 0, "errmsg": "ok", "access_token": fake.issue_token(), "expires_in": 7200}
    if not fake.token_ok(query.get("access_token", "")):
        return 200, {"errcode": 42001, "errmsg": "access_token expired"}
    if code := fake.failure_for(path):
        return 200, {"errcode": code, "errmsg": "api freq out of limit" if code == 45009 else "failed"}
    if path == "/cgi-bin/auth/getuserinfo":
        userid = fake.codes.pop(query.get("code", ""), None)
        if userid is None:
            return 200, {"errcode": 40029, "errmsg": "invalid code"}
        return 200, {"errcode": 0, "errmsg": "ok", "userid": userid, "user_ticket": "t"}
    if path == "/cgi-bin/message/send":
        if body.get("agentid") != AGENT_ID or body.get("msgtype") != "textcard":
            return 200, {"errcode": 40056, "errmsg": "invalid agentid"}
        known = {u.id for u in fake.users}
        invalid = [u for u in body["touser"].split("|") if u not in known]
        card = body["textcard"]
        for user in body["touser"].split("|"):
            if user in known:
                fake.messages.append(("wecom", user, card["title"], card["url"]))
        return 200, {"errcode": 0, "errmsg": "ok", "invaliduser": "|".join(invalid), "msgid": "m1"}
    if path == "/cgi-bin/department/list":
        root = query.get("id", fake.root)
        rows = [{"id": int(root), "name": "公司", "parentid": 0, "department_leader": []}] + [
            {"id": int(d.id), "name": d.name, "parentid": int(d.parent), "department_leader": d.managers}
            for d in fake.subtree(root)
        ]
        return 200, {"errcode": 0, "errmsg": "ok", "department": rows}
    if path == "/cgi-bin/user/list_id":
        # 获取成员ID列表: POST, {"cursor": from the previous page, "limit": 1..10000}; one row per
        # user and department; next_cursor empty on the last page. Cursors are opaque strings.
        if method != "POST":
            return 200, {"errcode": 43002, "errmsg": "require POST method"}
        limit = int(body.get("limit") or 0)
        if not 1 <= limit <= 10_000:
            return 200, {"errcode": 40058, "errmsg": "invalid limit"}
        cursor = str(body.get("cursor") or "")
        if cursor and cursor not in fake.cursors:
            return 200, {"errcode": 40058, "errmsg": "invalid cursor"}
        start = fake.cursors.get(cursor, 0)
        pairs = [(u.id, int(d)) for u in fake.users for d in u.depts]
        chunk, more, nxt = _page(pairs, start, limit, fake.max_page)
        fake.list_id_cursors.append(cursor)
        next_cursor = ""
        if more:
            next_cursor = uuid.uuid4().hex
            fake.cursors[next_cursor] = nxt
        rows = [{"userid": userid, "department": dept} for userid, dept in chunk]
        return 200, {"errcode": 0, "errmsg": "ok", "next_cursor": next_cursor, "dept_user": rows}
    if path in ("/cgi-bin/user/list", "/cgi-bin/user/get"):
        if path == "/cgi-bin/user/get":
            users = [u for u in fake.users if u.id == query.get("userid")]
            if not users:
                return 200, {"errcode": 60111, "errmsg": "userid not found"}
        else:
            users = [u for u in fake.members(query["department_id"]) if u.id not in fake.unlisted]
        rows = [
            {
                "userid": u.id,
                "name": u.name,
                "department": [int(d) for d in u.depts],
                "position": u.title,
                "mobile": u.mobile,
                "email": u.email,
                "status": 1,
            }
            for u in users
        ]
        if path == "/cgi-bin/user/get":
            return 200, {"errcode": 0, "errmsg": "ok", **rows[0]}
        return 200, {"errcode": 0, "errmsg": "ok", "userlist": rows}
    return 404, {"errcode": 404, "errmsg": "not found"}


def serve(fake: FakeDirectory) -> Callable[[], None]:
    """Starts one local server per vendor on ``fake`` (their addresses in ``fake.bases``); returns stop."""

    class Handler(BaseHTTPRequestHandler):
        def _handle(self, method: str) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}") if length else {}
            fake.calls.append(f"{method} {parts.path}")
            vendor = self.server.vendor  # type: ignore[attr-defined]
            if vendor == "dingtalk":
                status, reply = dingtalk(fake, method, parts.path, query, body, self.headers)
            elif vendor == "feishu":
                status, reply = feishu(
                    fake, method, parts.path, query, body, self.headers.get("Authorization", "")
                )
            else:
                status, reply = wecom(fake, method, parts.path, query, body)
            if parts.path in MESSAGE_PATHS:
                fake.message_bodies.append((vendor, body))
                fake.arrived.set()
                time.sleep(fake.delay)
            data = json.dumps(reply, ensure_ascii=False).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the sender died while we were answering (the killed-worker tests)

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    servers = []
    for vendor in ("dingtalk", "feishu", "wecom"):
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.vendor = vendor  # type: ignore[attr-defined]
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        servers.append((vendor, server, thread))
    fake.bases = {vendor: f"http://127.0.0.1:{server.server_address[1]}" for vendor, server, _t in servers}

    def stop() -> None:
        for _vendor, server, thread in servers:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)

    return stop


@pytest.fixture
def directory_server(monkeypatch: pytest.MonkeyPatch, settings: Any) -> Iterator[FakeDirectory]:
    """A running local server for all three vendors, with a small company in it."""
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    settings.DIRECTORY_RATE_LIMIT_WAIT = 0.01
    fake = FakeDirectory(
        depts=[
            Dept("2", "北京分公司", "1", ["zhang"]),
            Dept("3", "综合部", "2", ["li"]),
            Dept("4", "上海分公司", "1"),
            Dept("5", "综合部", "4", ["wang"]),
        ],
        users=[
            User("zhang", "张敏", ["2"], email="zhang@example.com", title="总经理"),
            User("li", "李雷", ["3"], mobile="13800000001"),
            User("han", "韩梅梅", ["3"]),
            User("wang", "王芳", ["5"]),
            User("zhao", "赵强", ["5"]),
        ],
    )
    stop = serve(fake)
    yield fake
    stop()
