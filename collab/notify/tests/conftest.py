"""A real local HTTP server that plays DingTalk, Feishu and WeCom group robots and checks what it gets.

Each robot is registered with its token and secret; the server recomputes the vendor's signature
from the secret and its own clock, and answers like the vendor: a bad signature, a missing
keyword or an unknown key is a non-zero code, and ``problems`` says what was wrong. Tests can
make it answer a vendor error or HTTP 500 for the next N requests.
"""

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from collab.notify.models import RobotChannel


@dataclass
class Received:
    kind: str
    token: str
    query: dict[str, list[str]]
    body: dict[str, Any]


@dataclass
class Registered:
    kind: str
    secret: str
    keyword: str


@dataclass
class FakeRobots:
    base: str = ""
    robots: dict[str, Registered] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # What the next requests get instead of success: "vendor" (non-zero code) or "http500".
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # A slow vendor: seconds between taking a request and answering it; ``arrived`` is set as
    # each request is taken (before the answer).
    delay: float = 0.0
    arrived: threading.Event = field(default_factory=threading.Event)

    def robot(
        self, kind: str, token: str, *, secret: str = "", keyword: str = "", **fields: Any
    ) -> RobotChannel:
        """A robot channel in the database whose webhook is this server."""
        self.robots[token] = Registered(kind, secret, keyword)
        url = {
            "dingtalk": f"{self.base}/robot/send?access_token={token}",
            "feishu": f"{self.base}/open-apis/bot/v2/hook/{token}",
            "wecom": f"{self.base}/cgi-bin/webhook/send?key={token}",
        }[kind]
        return RobotChannel.objects.create(
            kind=kind, name=fields.pop("name", f"{kind} group"), webhook_url=url, secret=secret,
            keyword=keyword, **fields,
        )  # fmt: skip

    def fail_next(self, count: int, how: str = "vendor") -> None:
        with self.lock:
            self.failures.extend([how] * count)

    def bodies(self, kind: str | None = None) -> list[dict[str, Any]]:
        return [r.body for r in self.received if kind is None or r.kind == kind]

    def handle(self, path: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        parts = urlsplit(path)
        query = parse_qs(parts.query)
        try:
            body = json.loads(raw.decode("utf-8"))
        except ValueError:
            return 400, {"errcode": 400, "errmsg": "body is not JSON"}
        if parts.path == "/robot/send":
            kind, token = "dingtalk", query.get("access_token", [""])[0]
        elif parts.path.startswith("/open-apis/bot/v2/hook/"):
            kind, token = "feishu", parts.path.rsplit("/", 1)[1]
        elif parts.path == "/cgi-bin/webhook/send":
            kind, token = "wecom", query.get("key", [""])[0]
        else:
            return 404, {}
        with self.lock:
            failure = self.failures.pop(0) if self.failures else None
            self.received.append(Received(kind, token, query, body))
        robot = self.robots.get(token)
        problem = self.check(kind, robot, query, body)
        if problem:
            self.problems.append(problem)
            return 200, self.reply(kind, 310000, problem)
        if failure == "http500":
            return 500, {}
        if failure == "vendor":
            # Echoes the token, as a careless vendor might: Collab must not store it.
            return 200, self.reply(kind, 130101, f"send too fast, token {token}")
        return 200, self.reply(kind, 0, "ok")

    @staticmethod
    def reply(kind: str, code: int, message: str) -> dict[str, Any]:
        if kind == "feishu":
            return {"code": code, "msg": message, "data": {}}
        return {"errcode": code, "errmsg": message}

    def check(
        self, kind: str, robot: Registered | None, query: dict[str, list[str]], body: dict[str, Any]
    ) -> str:
        if robot is None or robot.kind != kind:
            return f"{kind}: unknown token or key"
        now = time.time()
        if kind == "dingtalk":
            if body.get("msgtype") not in {"text", "markdown", "actionCard", "link", "feedCard"}:
                return "dingtalk: bad msgtype"
            if robot.secret:
                timestamp = query.get("timestamp", [""])[0]
                sign = query.get("sign", [""])[0]
                if not timestamp.isdigit() or abs(int(timestamp) / 1000 - now) > 3600:
                    return "dingtalk: timestamp missing or more than an hour off"
                expected = base64.b64encode(
                    hmac.new(
                        robot.secret.encode(), f"{timestamp}\n{robot.secret}".encode(), hashlib.sha256
                    ).digest()
                ).decode()
                if sign != expected:
                    return "dingtalk: sign not match"
            if robot.keyword and robot.keyword not in json.dumps(body, ensure_ascii=False):
                return "dingtalk: keywords not in content"
        elif kind == "feishu":
            if body.get("msg_type") not in {"text", "post", "interactive", "share_chat", "image"}:
                return "feishu: bad msg_type"
            if robot.secret:
                timestamp = str(body.get("timestamp", ""))
                if not timestamp.isdigit() or abs(int(timestamp) - now) > 3600:
                    return "feishu: timestamp missing or more than an hour off"
                key = f"{timestamp}\n{robot.secret}".encode()
                expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
                if body.get("sign") != expected:
                    return "feishu: sign match fail or timestamp is not within one hour from current time"
            if robot.keyword and robot.keyword not in json.dumps(body, ensure_ascii=False):
                return "feishu: keywords not in content"
        elif body.get("msgtype") not in {"text", "markdown", "image", "news", "file", "template_card"}:
            return "wecom: bad msgtype"
        return ""


@pytest.fixture
def robots(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRobots]:
    # urllib honours proxy variables: a CI runner's proxy must not stand between us and the fake.
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    fake = FakeRobots()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            status, reply = fake.handle(self.path, self.rfile.read(length))
            fake.arrived.set()
            time.sleep(fake.delay)
            data = json.dumps(reply).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the sender died while we were answering (the killed-worker tests)

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
