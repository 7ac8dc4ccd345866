"""Personal work notifications through the company's own app, for people linked by the directory sync.

- DingTalk 工作通知: POST /topapi/message/corpconversation/asyncsend_v2 with the app's agent_id,
  ``userid_list`` and an ``action_card`` message (title, markdown, one button opening the item).
- Feishu/Lark: the app's bot writes to the person, POST /open-apis/im/v1/messages
  ?receive_id_type=user_id with an ``interactive`` card (a button opening the item) and a
  ``uuid`` so a repeated request within the vendor's hour sends nothing twice.
- WeCom 应用消息: POST /cgi-bin/message/send with ``touser``, the app's ``agentid`` and a
  ``textcard`` (its button opens the item), duplicate check on; a user the vendor lists in
  ``invaliduser`` is a failure.

Person-written text arrives as typed, as in the group robots: DingTalk's markdown is escaped,
Feishu's card uses ``plain_text`` elements only (never ``lark_md``), WeCom's card description
(which reads a few HTML tags) has its ``<``, ``>`` and ``&`` as entities.

Tokens, token refresh and waiting out rate limits are the directory connectors' (``VendorApi``);
a failure raises ``DirectoryError`` and the outbox retries it with back-off.
"""

import hashlib
import html
import json
from dataclasses import dataclass

from django.utils.translation import gettext as _

from collab.notify.robots import escape_markdown
from collab.org.models import DirectorySource, Person
from collab.org.sync.connectors.base import VendorApi
from collab.org.sync.connectors.dingtalk import DingTalkApi
from collab.org.sync.connectors.feishu import FeishuApi
from collab.org.sync.connectors.wecom import WeComApi
from collab.org.sync.snapshot import DirectoryError

PERSONAL_IM_KINDS = [DirectorySource.Kind.DINGTALK, DirectorySource.Kind.FEISHU, DirectorySource.Kind.WECOM]


class FeishuMessageApi(FeishuApi):
    # Besides the contact API's codes: 230020, the per-user message rate limit.
    rate_limit_codes = frozenset({99991400, 230020})


@dataclass(frozen=True)
class PersonalMessage:
    title: str
    body: str
    link: str
    link_text: str
    event: str  # the delivery's idempotency key


def _api[T: VendorApi](kind: type[T], source: DirectorySource, timeout: float) -> T:
    api = kind(source)
    api.timeout = timeout
    return api


def personal_send(person: Person, message: PersonalMessage, *, timeout: float) -> None:
    """Sends ``message`` to ``person`` through the app of the source that linked them, each HTTP
    request limited to ``timeout`` seconds (the outbox keeps it below its lease)."""
    source = person.source
    if source is None or source.kind not in PERSONAL_IM_KINDS or not person.source_user_id:
        raise DirectoryError(_("The person is not linked to DingTalk, Feishu or WeCom."))
    user_id = person.source_user_id
    if source.kind == DirectorySource.Kind.DINGTALK:
        _api(DingTalkApi, source, timeout).call(
            "POST",
            "/topapi/message/corpconversation/asyncsend_v2",
            body={
                "agent_id": int(source.agent_id or 0),
                "userid_list": user_id,
                "msg": {
                    "msgtype": "action_card",
                    "action_card": {
                        "title": message.title,
                        # Person-written text as typed, not live markdown (collab.notify.robots).
                        "markdown": "\n\n".join(
                            [f"### {escape_markdown(message.title)}", escape_markdown(message.body)]
                        ),
                        "single_title": message.link_text,
                        "single_url": message.link,
                    },
                },
            },
        )
    elif source.kind == DirectorySource.Kind.FEISHU:
        card = {
            "header": {"title": {"tag": "plain_text", "content": message.title}},
            "elements": [
                {"tag": "div", "text": {"tag": "plain_text", "content": message.body}},
                {
                    "tag": "action",
                    "actions": [
                        {
                            "tag": "button",
                            "text": {"tag": "plain_text", "content": message.link_text},
                            "type": "primary",
                            "url": message.link,
                        }
                    ],
                },
            ],
        }
        _api(FeishuMessageApi, source, timeout).call(
            "POST",
            "/open-apis/im/v1/messages",
            query={"receive_id_type": "user_id"},
            body={
                "receive_id": user_id,
                "msg_type": "interactive",
                "content": json.dumps(card, ensure_ascii=False),
                "uuid": hashlib.sha256(message.event.encode()).hexdigest()[:50],
            },
        )
    else:
        reply = _api(WeComApi, source, timeout).call(
            "POST",
            "/cgi-bin/message/send",
            body={
                "touser": user_id,
                "msgtype": "textcard",
                "agentid": int(source.agent_id or 0),
                "textcard": {
                    "title": message.title[:128],
                    # The card's description reads HTML (<div class="gray">): typed tags arrive as text.
                    "description": html.escape(message.body, quote=False)[:512],
                    "url": message.link,
                    "btntxt": message.link_text[:4],
                },
                "enable_duplicate_check": 1,
                "duplicate_check_interval": 1800,
            },
        )
        if reply.get("invaliduser"):
            raise DirectoryError(_("WeCom does not know the user %(user)s.") % {"user": reply["invaliduser"]})
