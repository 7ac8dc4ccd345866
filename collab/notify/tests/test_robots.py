"""Group robots: each vendor's payload, signature and mentions, checked by a real local server."""

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.utils.translation import gettext as _

from collab.notify.delivery import deliveries_sweep
from collab.notify.models import Delivery, RobotChannel, mask, mask_url
from collab.notify.robots import (
    Mention,
    RobotMessage,
    dingtalk_payload,
    dingtalk_sign,
    dingtalk_signed_url,
    wecom_payload,
)
from collab.notify.services import notify
from collab.notify.tests.conftest import FakeRobots
from collab.org.models import Person
from collab.testing import Org

pytestmark = pytest.mark.django_db

DINGTALK_SECRET = "SECb5c0ffee0123456789abcdef0123456789abcdef0123456789abcdef01234567"
FEISHU_SECRET = "qNcXd8kZ3W9mYpLr7TfB2e"


def render() -> tuple[str, str]:
    return _("Notifications"), "第一行\n第二行"


def ids(user: Any, **fields: str) -> None:
    Person.objects.filter(user=user).update(**fields)


def tell(org: Org, recipients: list[Any], capture: Any, **kwargs: Any) -> None:
    kwargs.setdefault("url", "/items/7/")
    with capture(execute=True):
        notify(recipients=recipients, kind="test", render=render, dedupe="event-1", **kwargs)


def test_dingtalk_gets_a_signed_markdown_with_the_keyword_and_mentions(
    org: Org, robots: FakeRobots, django_capture_on_commit_callbacks: Any
) -> None:
    robots.robot(
        "dingtalk", "dt-token-0123456789abcdef", secret=DINGTALK_SECRET, keyword="协作", department=org.qa
    )
    ids(org.owner, phone="13800000001")
    ids(org.qa_head, dingtalk_id="manager4711")
    tell(org, [org.owner, org.qa_head, org.outsider], django_capture_on_commit_callbacks)
    assert robots.problems == []
    [request] = robots.received
    assert set(request.query) == {"access_token", "timestamp", "sign"}
    body = request.body
    assert body["msgtype"] == "markdown"
    assert body["at"] == {"atMobiles": ["13800000001"], "atUserIds": ["manager4711"], "isAtAll": False}
    text = body["markdown"]["text"]
    assert body["markdown"]["title"] == "【协作】通知" and text.startswith("#### 【协作】通知")
    assert "第一行\n\n第二行" in text and "(http://127.0.0.1:8000/items/7/)" in text
    # Each mentioned person is written in the text too, or DingTalk shows no @.
    assert "@13800000001" in text and "@manager4711" in text
    # The outsider is in Finance: a QA group's robot does not mention them.
    assert "陈刚" not in text
    assert Delivery.objects.get(robot__kind="dingtalk").status == "sent"


def test_feishu_gets_a_post_signed_in_the_body_mentioning_by_id_or_name(
    org: Org, robots: FakeRobots, django_capture_on_commit_callbacks: Any
) -> None:
    robots.robot("feishu", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", secret=FEISHU_SECRET, department=org.qa)
    ids(org.owner, feishu_id="ou_7d8a6e6df7621556ce0d21922b676706")
    tell(org, [org.owner, org.qa_head], django_capture_on_commit_callbacks)
    assert robots.problems == []
    [request] = robots.received
    assert request.query == {}
    body = request.body
    assert set(body) == {"timestamp", "sign", "msg_type", "content"} and body["msg_type"] == "post"
    post = body["content"]["post"]["zh_cn"]
    assert post["title"] == "通知"
    assert post["content"][:2] == [[{"tag": "text", "text": "第一行"}], [{"tag": "text", "text": "第二行"}]]
    assert post["content"][2][0]["href"] == "http://127.0.0.1:8000/items/7/"
    assert post["content"][3] == [
        {"tag": "at", "user_id": "ou_7d8a6e6df7621556ce0d21922b676706"},
        {"tag": "text", "text": "@王芳 "},
    ]


def test_wecom_keeps_its_key_in_the_url_and_mentions_by_id_or_mobile(
    org: Org, robots: FakeRobots, django_capture_on_commit_callbacks: Any
) -> None:
    robot = robots.robot("wecom", "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa", department=org.qa)
    ids(org.owner, wecom_id="WuJie")
    ids(org.qa_head, phone="13800000002")
    tell(org, [org.owner, org.qa_head], django_capture_on_commit_callbacks)
    assert robots.problems == []
    [request] = robots.received
    assert request.query == {"key": ["693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"]}
    assert request.body["msgtype"] == "text"
    text = request.body["text"]
    assert text["mentioned_list"] == ["WuJie"] and text["mentioned_mobile_list"] == ["13800000002"]
    assert (
        text["content"].startswith("通知\n第一行\n第二行\n")
        and "http://127.0.0.1:8000/items/7/" in text["content"]
    )
    assert Delivery.objects.get(robot=robot).status == "sent"


def test_a_wrong_secret_is_a_vendor_error_to_retry(
    org: Org, robots: FakeRobots, django_capture_on_commit_callbacks: Any
) -> None:
    robot = robots.robot("dingtalk", "dt-token-0123456789abcdef", secret=DINGTALK_SECRET, department=org.qa)
    RobotChannel.objects.filter(pk=robot.pk).update(secret="SECnot-the-one-the-group-has-0123456789")
    tell(org, [org.owner], django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(robot=robot)
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.last_error == "dingtalk code 310000: dingtalk: sign not match"


def test_it_signs_at_send_time_not_when_queued(org: Org, robots: FakeRobots) -> None:
    robots.robot("dingtalk", "dt-token-0123456789abcdef", secret=DINGTALK_SECRET, department=org.qa)
    robots.robot("feishu", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", secret=FEISHU_SECRET, department=org.qa)
    with time_machine.travel("2026-10-09 09:00 +0800", tick=False) as clock:
        # Queued without delivery (the broker is down): the sweep sends two hours later, when a
        # signature made at queueing time would be refused as more than an hour old.
        notify(recipients=[org.owner], kind="test", render=render)
        clock.shift(timedelta(hours=2))
        assert deliveries_sweep() == {"sent": 3}  # two robots and the e-mail
    assert robots.problems == [] and len(robots.received) == 2


def test_a_group_hears_of_an_event_once_not_once_per_person(
    org: Org, robots: FakeRobots, django_capture_on_commit_callbacks: Any
) -> None:
    robots.robot("wecom", "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa", department=org.qa)
    for user, wecom_id in [(org.owner, "WuJie"), (org.qa_head, "WangFang")]:
        ids(user, wecom_id=wecom_id)
    tell(org, [org.owner, org.qa_head], django_capture_on_commit_callbacks)
    [body] = robots.bodies()
    assert body["text"]["mentioned_list"] == ["WuJie", "WangFang"]


def test_a_keyword_already_in_the_message_is_not_repeated() -> None:
    message = RobotMessage(title="协作通知", body="", link="http://x/", link_text="打开", keyword="协作")
    assert dingtalk_payload(message)["markdown"]["title"] == "协作通知"
    assert wecom_payload(message)["text"]["content"].startswith("协作通知\n")
    nobody = RobotMessage(
        title="通知", body="", link="http://x/", link_text="打开", mentions=(Mention("张三"),)
    )
    assert dingtalk_payload(nobody)["at"] == {"atMobiles": [], "atUserIds": [], "isAtAll": False}
    assert dingtalk_payload(nobody)["markdown"]["text"].endswith("@张三")


def test_credentials_are_masked_for_display() -> None:
    token = "abcd" + "0" * 56 + "wxyz"
    assert mask_url(f"https://oapi.dingtalk.com/robot/send?access_token={token}") == (
        "https://oapi.dingtalk.com/robot/send?access_token=abcd…wxyz"
    )
    assert mask_url("https://open.feishu.cn/open-apis/bot/v2/hook/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0") == (
        "https://open.feishu.cn/open-apis/bot/v2/hook/0f1e…e1f0"
    )
    assert mask_url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=short") == (
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"
    )
    assert mask(DINGTALK_SECRET) == "SECb…4567" and mask("") == ""


def test_the_dingtalk_signature_survives_url_decoding() -> None:
    # Base64 has "+" and "/", which a URL must carry encoded; fifty fixed times hit both.
    for second in range(1_790_000_000, 1_790_000_050):
        url = dingtalk_signed_url(
            "https://oapi.dingtalk.com/robot/send?access_token=t", DINGTALK_SECRET, now=second
        )
        query = parse_qs(urlsplit(url).query)
        assert query["timestamp"] == [f"{second}000"]
        assert query["sign"] == [dingtalk_sign(DINGTALK_SECRET, f"{second}000")]
