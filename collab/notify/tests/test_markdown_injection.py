"""Person-written text reaches the groups as the characters typed, never as live markdown or HTML."""

import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from collab.movein.tests.test_personal_messages import linked
from collab.movein.tests.vendors import FakeDirectory, directory_server
from collab.notify.models import Delivery
from collab.notify.robots import escape_markdown
from collab.notify.services import notify
from collab.notify.tests.conftest import FakeRobots
from collab.testing import Org

pytestmark = pytest.mark.django_db
__all__ = ["directory_server"]  # the local DingTalk/Feishu/WeCom application servers, as a fixture

RISK = (
    "接口不稳定 [详情](http://evil.example/phish) ![图](http://evil.example/x.png)\n"
    "#### 全员立即处理\n"
    "- 列表 **粗体** <font color=red>红字</font> `代码` > 引用"
)
TOPIC = "Q3 [上线](http://evil.example/)"


def render() -> tuple[str, str]:
    return f"风险:{TOPIC}", f"吴杰: {RISK}"


def test_a_risk_with_links_images_and_headings_reaches_every_group_as_plain_text(
    org: Org, robots: FakeRobots, django_capture_on_commit_callbacks: Any
) -> None:
    # Bound to neither a department nor an item: the company-wide groups, which hear emergencies.
    robots.robot("dingtalk", "dt-token-0123456789abcdef", name="全公司")
    robots.robot("feishu", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", name="全公司")
    robots.robot("wecom", "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa", name="全公司")
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipients=[org.coordinator], kind="test", render=render, url="/items/7/", urgency="instant")
    assert robots.problems == []
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}

    [dingtalk] = robots.bodies("dingtalk")
    text = dingtalk["markdown"]["text"]
    assert r"\[详情\]\(http://evil.example/phish\)" in text
    assert r"\!\[图\]\(http://evil.example/x.png\)" in text
    assert "\n\n" + r"\#\#\#\# 全员立即处理" in text
    assert r"\- 列表 \*\*粗体\*\* &lt;font color=red&gt;红字&lt;/font&gt; \`代码\` &gt; 引用" in text
    assert text.startswith(r"#### 风险:Q3 \[上线\]\(http://evil.example/\)")
    # The only live link is ours, the only heading the title, the only mention the coordinator.
    assert text.count("](") == 1 and "](http://127.0.0.1:8000/items/7/)" in text
    assert text.count("\n#") == 0 and text.count("<") == 0

    # Feishu's post and WeCom's text message are plain text: the characters arrive as typed, as
    # text elements and a text message (the only link being ours, as a link element).
    [feishu] = robots.bodies("feishu")
    content = feishu["content"]["post"]["zh_cn"]["content"]
    assert [element["tag"] for line in content for element in line] == ["text", "text", "text", "a", "text"]
    assert content[0] == [{"tag": "text", "text": "吴杰: " + RISK.splitlines()[0]}]
    assert content[4] == [{"tag": "text", "text": "@李娜 "}]
    assert content[3] == [{"tag": "a", "text": "在 Collab 中查看", "href": "http://127.0.0.1:8000/items/7/"}]
    [wecom] = robots.bodies("wecom")
    assert wecom["msgtype"] == "text" and RISK in wecom["text"]["content"]

    [email] = mail.outbox
    [(html, _mimetype)] = email.alternatives
    assert "&lt;font color=red&gt;" in html and "evil.example/phish" in html
    assert 'href="http://evil.example' not in html and "<font" not in html


@pytest.mark.parametrize("kind", ["dingtalk", "feishu", "wecom"])
def test_a_personal_message_shows_links_images_and_headings_as_typed(
    directory_server: FakeDirectory, kind: str, django_capture_on_commit_callbacks: Any
) -> None:
    linked(directory_server, kind)
    zhao = get_user_model().objects.get(person__source_user_id="zhao")
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipients=[zhao], kind="test", render=render, url="/items/7/", urgency="instant")
    assert Delivery.objects.get(channel=Delivery.Channel.IM).status == "sent"

    [(vendor, body)] = directory_server.message_bodies
    assert vendor == kind
    link = "http://127.0.0.1:8000/items/7/"
    if kind == "dingtalk":
        card = body["msg"]["action_card"]
        text = card["markdown"]
        assert r"\[详情\]\(http://evil.example/phish\)" in text
        assert r"\!\[图\]\(http://evil.example/x.png\)" in text
        assert "\n" + r"\#\#\#\# 全员立即处理" in text
        assert "&lt;font color=red&gt;" in text
        assert text.startswith(r"### 风险:Q3 \[上线\]\(http://evil.example/\)")
        # The only heading is ours, the only link the card's button.
        assert "](" not in text and text.count("\n#") == 0 and "<" not in text
        assert card["single_url"] == link
    elif kind == "feishu":
        card = json.loads(body["content"])
        texts = [card["header"]["title"], card["elements"][0]["text"]]
        # Plain text elements, never lark_md: Feishu shows the characters as typed.
        assert [t["tag"] for t in texts] == ["plain_text", "plain_text"]
        assert [t["content"] for t in texts] == [f"风险:{TOPIC}", f"吴杰: {RISK}"]
        assert card["elements"][1]["actions"][0]["url"] == link
    else:
        card = body["textcard"]
        assert body["msgtype"] == "textcard" and card["url"] == link
        assert "<" not in card["description"]
        assert card["description"].startswith("吴杰: 接口不稳定 [详情](http://evil.example/phish)")
        assert "&lt;font color=red&gt;红字&lt;/font&gt;" in card["description"]


@pytest.mark.parametrize(
    ("typed", "escaped"),
    [
        ("[a](http://x)", r"\[a\]\(http://x\)"),
        ("![a](http://x/y.png)", r"\!\[a\]\(http://x/y.png\)"),
        ("## 标题", r"\#\# 标题"),
        ("1. 第一", r"1\. 第一"),
        ("  - 子项", r"  \- 子项"),
        ("覆盖90.5%的需求 - 已确认", "覆盖90.5%的需求 - 已确认"),
        ("a_b*c*~d~|e|", r"a\_b\*c\*\~d\~\|e\|"),
        ("<img src=x>&amp;", "&lt;img src=x&gt;&amp;amp;"),
        ("C:\\temp", "C:\\\\temp"),
    ],
)
def test_markdown_escaping_keeps_plain_text_readable(typed: str, escaped: str) -> None:
    assert escape_markdown(typed) == escaped
