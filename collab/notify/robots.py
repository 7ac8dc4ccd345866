"""The group robots of DingTalk, Feishu/Lark and WeCom: one formatter and one signer per vendor.

Free of models: a ``RobotMessage`` goes in, an HTTP POST comes out. The message types chosen:

- DingTalk: ``markdown`` (a title, the body and a link; the only rich type that can @-mention,
  by ``atMobiles``/``atUserIds`` with each ``@mobile``/``@userId`` also written in the text).
  Signed per request: ``timestamp`` (ms) and ``sign`` appended to the URL.
- Feishu/Lark: ``post`` (rich text in the company's language, a link element, ``at`` elements
  by user id, plain names for people without one). Signed per request: ``timestamp`` (s) and
  ``sign`` as top-level fields of the JSON body.
- WeCom: ``text``, because only text messages carry ``mentioned_list`` and
  ``mentioned_mobile_list`` (WeCom markdown cannot mention by mobile). No signature: the key in
  the URL is the credential.

Person-written text (a topic, a risk, a name) reaches DingTalk's markdown escaped, so a
``[link](…)``, an image or a ``####`` heading typed into a form arrives as the characters typed,
not as a live link, picture or heading in a company-wide group. Feishu's ``post`` text elements
and WeCom's ``text`` messages are plain text: the vendors do not render markdown in them.

A robot secured with a keyword only accepts messages containing it: it is put in front of the
title when the message lacks it. A non-zero vendor code or an HTTP error raises ``RobotError``,
whose text never contains the URL, its token or the secret.
"""

import base64
import hashlib
import hmac
import http.client
import json
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote_plus, urlsplit

DINGTALK = "dingtalk"
FEISHU = "feishu"
WECOM = "wecom"


class RobotError(Exception):
    """The robot did not take the message: to be retried with back-off. The text is safe to store."""


@dataclass(frozen=True)
class Mention:
    name: str
    phone: str = ""
    dingtalk_id: str = ""
    feishu_id: str = ""
    wecom_id: str = ""


@dataclass(frozen=True)
class RobotMessage:
    title: str
    body: str
    link: str
    link_text: str
    language: str = "zh-hans"
    mentions: tuple[Mention, ...] = field(default_factory=tuple)
    keyword: str = ""


# Characters that DingTalk's markdown (a CommonMark subset) gives meaning to anywhere in a line;
# "-", "+", "=" and "1." only at the start of one (lists, headings). "<" and ">" become entities.
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]()#!|~{}])")
MARKDOWN_LINE_START = re.compile(r"^(\s*)(?:([-+=])|([0-9]+)([.)]))(?=\s|$)", re.MULTILINE)


def escape_markdown(text: str) -> str:
    """``text`` as literal characters in markdown: punctuation backslash-escaped, HTML as entities."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return MARKDOWN_LINE_START.sub(lambda m: f"{m[1]}\\{m[2]}" if m[2] else f"{m[1]}{m[3]}\\{m[4]}", text)


def _with_keyword(message: RobotMessage) -> str:
    """The title, prefixed with the keyword when neither title nor body contains it."""
    if message.keyword and message.keyword not in message.title and message.keyword not in message.body:
        return f"【{message.keyword}】{message.title}"
    return message.title


# --- DingTalk --------------------------------------------------------------------------------------


def dingtalk_payload(message: RobotMessage) -> dict[str, Any]:
    at_mobiles: list[str] = []
    at_user_ids: list[str] = []
    tags: list[str] = []
    for person in message.mentions:
        # One way per person, so nobody is mentioned twice: the DingTalk id, else the mobile.
        if person.dingtalk_id:
            at_user_ids.append(person.dingtalk_id)
            tags.append(f"@{person.dingtalk_id}")
        elif person.phone:
            at_mobiles.append(person.phone)
            tags.append(f"@{person.phone}")
        else:
            tags.append(f"@{escape_markdown(person.name)}")
    title = _with_keyword(message)
    # DingTalk markdown needs a blank line for a line break. The title field is the plain text
    # of the chat list's preview; only the text is markdown.
    body = [escape_markdown(line) for line in message.body.splitlines() if line.strip()]
    lines = [f"#### {escape_markdown(title)}", *body]
    lines.append(f"[{escape_markdown(message.link_text)}]({message.link})")
    if tags:
        lines.append(" ".join(tags))
    return {
        "msgtype": "markdown",
        "markdown": {"title": title, "text": "\n\n".join(lines)},
        "at": {"atMobiles": at_mobiles, "atUserIds": at_user_ids, "isAtAll": False},
    }


def dingtalk_sign(secret: str, timestamp_ms: str) -> str:
    """Base64(HMAC-SHA256(key=secret, msg=timestamp + "\\n" + secret)), not yet URL-encoded."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def dingtalk_signed_url(url: str, secret: str, *, now: float | None = None) -> str:
    timestamp = str(round((time.time() if now is None else now) * 1000))
    separator = "&" if urlsplit(url).query else "?"
    return f"{url}{separator}timestamp={timestamp}&sign={quote_plus(dingtalk_sign(secret, timestamp))}"


# --- Feishu / Lark ----------------------------------------------------------------------------------


def feishu_payload(message: RobotMessage) -> dict[str, Any]:
    content: list[list[dict[str, str]]] = [
        [{"tag": "text", "text": line}] for line in message.body.splitlines() if line.strip()
    ]
    content.append([{"tag": "a", "text": message.link_text, "href": message.link}])
    mentions: list[dict[str, str]] = []
    for person in message.mentions:
        if person.feishu_id:
            mentions.append({"tag": "at", "user_id": person.feishu_id})
        else:
            mentions.append({"tag": "text", "text": f"@{person.name} "})
    if mentions:
        content.append(mentions)
    locale = "en_us" if message.language.startswith("en") else "zh_cn"
    return {
        "msg_type": "post",
        "content": {"post": {locale: {"title": _with_keyword(message), "content": content}}},
    }


def feishu_sign(secret: str, timestamp_s: str) -> str:
    """Base64(HMAC-SHA256(key=timestamp + "\\n" + secret, msg=empty))."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


def feishu_signed_payload(
    payload: dict[str, Any], secret: str, *, now: float | None = None
) -> dict[str, Any]:
    timestamp = str(int(time.time() if now is None else now))
    return {"timestamp": timestamp, "sign": feishu_sign(secret, timestamp), **payload}


# --- WeCom --------------------------------------------------------------------------------------------


def wecom_payload(message: RobotMessage) -> dict[str, Any]:
    mentioned: list[str] = []
    mobiles: list[str] = []
    names: list[str] = []
    for person in message.mentions:
        if person.wecom_id:
            mentioned.append(person.wecom_id)
        elif person.phone:
            mobiles.append(person.phone)
        else:
            names.append(f"@{person.name}")
    lines = [_with_keyword(message), *[line for line in message.body.splitlines() if line.strip()]]
    lines.append(f"{message.link_text}: {message.link}")
    if names:
        lines.append(" ".join(names))
    return {
        "msgtype": "text",
        "text": {
            "content": "\n".join(lines),
            "mentioned_list": mentioned,
            "mentioned_mobile_list": mobiles,
        },
    }


# --- sending ------------------------------------------------------------------------------------------


def credentials_in(url: str, secret: str) -> list[str]:
    """Everything secret about a robot, longest first: the URL, the secret, tokens in it."""
    parts = urlsplit(url)
    found = {url, secret, *(value for _key, value in parse_qsl(parts.query))}
    found |= {segment for segment in parts.path.split("/") if len(segment) >= 16}
    return sorted((c for c in found if len(c) >= 6), key=len, reverse=True)


def scrub(text: str, credentials: list[str]) -> str:
    for credential in credentials:
        text = text.replace(credential, "…")
    return text


def robot_send(*, kind: str, webhook_url: str, secret: str, message: RobotMessage, timeout: float) -> None:
    """Formats, signs (now, with a fresh timestamp) and posts one message; raises RobotError."""
    credentials = credentials_in(webhook_url, secret)
    url = webhook_url
    if kind == DINGTALK:
        payload = dingtalk_payload(message)
        if secret:
            url = dingtalk_signed_url(webhook_url, secret)
    elif kind == FEISHU:
        payload = feishu_payload(message)
        if secret:
            payload = feishu_signed_payload(payload, secret)
    elif kind == WECOM:
        payload = wecom_payload(message)
    else:
        raise RobotError(f"unknown robot kind {kind!r}")
    if urlsplit(url).scheme not in {"http", "https"}:
        raise RobotError("the webhook address is not http(s)")
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked to be http(s) just above
        url,
        data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - checked above
            raw = response.read()
    except urllib.error.HTTPError as exc:
        raise RobotError(f"HTTP {exc.code}") from None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        # ``from None``: the chained exception may quote the URL (http.client.InvalidURL does).
        raise RobotError(scrub(f"{type(exc).__name__}: {exc}", credentials)) from None
    try:
        reply = json.loads(raw.decode("utf-8"))
    except ValueError:
        raise RobotError("the robot's reply is not JSON") from None
    if not isinstance(reply, dict):
        raise RobotError("the robot's reply is not a JSON object")
    # DingTalk and WeCom answer errcode/errmsg, Feishu code/msg (older Feishu: StatusCode).
    code = reply.get("errcode", reply.get("code", reply.get("StatusCode", 0)))
    if code not in (0, "0"):
        detail = reply.get("errmsg", reply.get("msg", reply.get("StatusMessage", "")))
        raise RobotError(scrub(f"{kind} code {code}: {detail}"[:500], credentials))
