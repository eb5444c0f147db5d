"""The WeCom app channel with real wechatpy crypto: the clerk reports on the WeChat OA, the engineer works
on WeCom with template-card buttons; refusals; and delivery that survives a failing API."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from wechatpy.enterprise.crypto import WeChatCrypto

from tests.adapters.fake_wechat import FakeWeChat
from tests.adapters.fake_wecom import IMAGE, FakeWeCom
from tests.adapters.test_wechat import AES_KEY, APP_ID, CLERK, TOKEN, WeChatServer
from tests.dialog import Dialog
from wuyou.adapters.wecom import card_label, cut_bytes
from wuyou.desk.models import Attachment

CORP = "ww0123456789abcdef"
AGENT = 1000002
ENGINEER = "LiWei"  # li.wei's WeCom userid in ../shared/org-sample.yaml


@pytest.fixture(scope="module")
def fake_wx() -> Iterator[FakeWeChat]:
    server = FakeWeChat()
    yield server
    server.close()


@pytest.fixture(scope="module")
def fake_wecom() -> Iterator[FakeWeCom]:
    server = FakeWeCom()
    yield server
    server.close()


@pytest.fixture
def channels_file(tmp_path: Path, fake_wx: FakeWeChat, fake_wecom: FakeWeCom) -> Path:
    path = tmp_path / "channels.yaml"
    path.write_text(
        f"wechat:\n  main: {{app_id: {APP_ID}, app_secret: s, token: {TOKEN}, aes_key: {AES_KEY}, "
        f"api_base: '{fake_wx.url}'}}\n"
        f"wecom:\n  ops: {{corp_id: {CORP}, agent_id: {AGENT}, secret: s, token: {TOKEN}, aes_key: {AES_KEY}, "
        f"api_base: '{fake_wecom.url}'}}\n", encoding="utf-8")
    fake_wx.sent.clear()
    fake_wecom.calls.clear()
    fake_wecom.fail_sends = 0
    return path


class WeComServer:
    def __init__(self, d: Dialog) -> None:
        self.client = d.client
        self.crypto = WeChatCrypto(TOKEN, AES_KEY, CORP)
        self.now = int(d.desk.clock().timestamp())
        self.msg_id = 9000

    def post(self, fields: dict[str, str], *, msg_signature: str | None = None, user: str = ENGINEER) -> Any:
        body = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
        inner = (f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><FromUserName><![CDATA[{user}]]>"
                 f"</FromUserName><CreateTime>{self.now}</CreateTime>{body}<AgentID>{AGENT}</AgentID></xml>")
        nonce = secrets.token_hex(5)
        envelope = self.crypto.encrypt_message(inner, nonce, self.now)
        signature = msg_signature or re.findall(r"<MsgSignature><!\[CDATA\[(.*?)\]\]>", envelope)[0]
        return self.client.post("/channels/wecom/ops", params={"msg_signature": signature, "timestamp": self.now,
                                                                "nonce": nonce}, content=envelope.encode())

    def say(self, text: str) -> None:
        self.msg_id += 1
        assert self.post({"MsgType": "text", "Content": text, "MsgId": str(self.msg_id)}).status_code == 200

    def press(self, key: str, response_code: str = "RC-1") -> None:
        assert self.post({"MsgType": "event", "Event": "template_card_event", "EventKey": key,
                          "TaskId": "t", "CardType": "button_interaction", "ResponseCode": response_code}
                         ).status_code == 200


def test_url_verification(dialog: Dialog) -> None:
    crypto = WeChatCrypto(TOKEN, AES_KEY, CORP)
    envelope = crypto.encrypt_message("echo-42", "n1", 1700000000)
    encrypted = re.findall(r"<Encrypt><!\[CDATA\[(.*?)\]\]>", envelope)[0]
    sig = re.findall(r"<MsgSignature><!\[CDATA\[(.*?)\]\]>", envelope)[0]
    ok = dialog.client.get("/channels/wecom/ops", params={"msg_signature": sig, "timestamp": 1700000000,
                                                          "nonce": "n1", "echostr": encrypted})
    assert ok.status_code == 200 and ok.text == "echo-42"
    bad = dialog.client.get("/channels/wecom/ops", params={"msg_signature": "0" * 40, "timestamp": 1700000000,
                                                           "nonce": "n1", "echostr": encrypted})
    assert bad.status_code == 403


def test_clerk_on_wechat_engineer_on_wecom(dialog: Dialog, fake_wx: FakeWeChat, fake_wecom: FakeWeCom) -> None:
    d = dialog
    wx, wc = WeChatServer(d.client, now=d.desk.clock().timestamp()), WeComServer(d)
    wx.say(CLERK, "打印机卡纸了")
    wx.say(CLERK, "0")
    wx.say(CLERK, "1")
    wx.say(CLERK, "2")
    number = int(re.findall(r"#(\d+)", wx.say(CLERK, "大厅那台惠普 一打印就卡"))[0])
    d.desk.deliverer.run_once()
    (card,) = [m for m in fake_wecom.sent_to(ENGINEER) if m["msgtype"] == "template_card"]
    assert f"#{number}" in card["template_card"]["main_title"]["title"]
    button, show = card["template_card"]["button_list"]
    assert (button["text"], show["text"]) == ("接单", "查看")
    wc.press(button["key"])
    replies = fake_wecom.sent_to(ENGINEER)
    assert any("已接单" in m.get("text", {}).get("content", "") for m in replies)
    updates = [b for path, b in fake_wecom.calls if path == "message/update_template_card"]
    assert updates and updates[0]["response_code"] == "RC-1"  # the card now says what was done, to the presser
    assert updates[0]["userids"] == [ENGINEER] and updates[0]["button"]["replace_name"] == f"✅ 已接单 #{number}"
    assert d.ticket(number)["assignee"] == "li.wei"
    wc.press(button["key"], response_code="RC-2")  # a second press of the same card claims nothing twice
    assert [e["kind"] for e in d.ticket(number)["timeline"]].count("claimed") == 1

    wc.say(f"解决 {number} 已更换硒鼓")
    d.desk.deliverer.run_once()
    assert any("已更换硒鼓" in t for t in fake_wx.texts_to(CLERK))
    assert "打个分" in wx.say(CLERK, "解决了")
    assert "已关闭" in wx.say(CLERK, "5")
    assert d.ticket(number)["status"] == "closed"


def test_notifications_survive_a_failing_api_exactly_once(dialog: Dialog, fake_wecom: FakeWeCom,
                                                          clock: Any) -> None:
    d = dialog
    d.say("zhang.san", "/new")
    d.say("zhang.san", "1")
    d.say("zhang.san", "1")
    d.say("zhang.san", "打印机卡纸")
    fake_wecom.fail_sends = 2
    for _ in range(3):
        d.desk.deliverer.run_once()
        clock.advance(seconds=10)
    cards = [m for m in fake_wecom.sent_to(ENGINEER) if m["msgtype"] == "template_card"]
    assert len(cards) == 1
    for _ in range(3):
        clock.advance(seconds=600)
        d.desk.deliverer.run_once()
    assert len([m for m in fake_wecom.sent_to(ENGINEER) if m["msgtype"] == "template_card"]) == 1


def test_forged_and_replayed_callbacks_are_refused(dialog: Dialog) -> None:
    wc = WeComServer(dialog)
    assert wc.post({"MsgType": "text", "Content": "x", "MsgId": "1"}, msg_signature="0" * 40).status_code == 403
    bomb = dialog.client.post("/channels/wecom/ops", params={"msg_signature": "x", "timestamp": 1, "nonce": "n"},
                              content=b'<!DOCTYPE x [<!ENTITY a "b">]><xml>&a;</xml>')
    assert bomb.status_code == 400
    big = dialog.client.post("/channels/wecom/ops", params={"msg_signature": "x", "timestamp": 1, "nonce": "n"},
                             content=b"<xml>" + b"a" * 70_000 + b"</xml>")
    assert big.status_code == 413


def test_an_image_from_wecom_is_downloaded(dialog: Dialog) -> None:
    wc = WeComServer(dialog)
    wc.msg_id += 1
    assert wc.post({"MsgType": "image", "PicUrl": "http://x/y.png", "MediaId": "MEDIA-1",
                    "MsgId": str(wc.msg_id)}).status_code == 200
    with dialog.desk.sessions() as s:
        (stored,) = s.scalars(select(Attachment)).all()
        assert (stored.kind, stored.person_id) == ("image", "li.wei")
        assert dialog.desk.bot.media.get(stored.sha256) == IMAGE


def test_per_member_limit_defers_instead_of_being_dropped(dialog: Dialog, fake_wecom: FakeWeCom) -> None:
    from wuyou.adapters.delivery import DeliveryFailed
    from wuyou.adapters.wecom import PER_MEMBER_MINUTE, WeComSender

    sender = WeComSender(dialog.desk.channels.wecom["ops"], dialog.desk.store)
    for i in range(PER_MEMBER_MINUTE):
        sender.post(user="WangFang", text=f"第 {i} 条", buttons=[], key=f"k{i}")
    with pytest.raises(DeliveryFailed) as refused:
        sender.post(user="WangFang", text="第 31 条", buttons=[], key="k-last")
    assert refused.value.retry_after is not None and 0 < refused.value.retry_after <= 60
    sender.post(user=ENGINEER, text="another member is not limited", buttons=[], key="other")
    assert len(fake_wecom.sent_to("WangFang")) == PER_MEMBER_MINUTE


def test_an_unknown_member_is_offered_their_department_as_branch(dialog: Dialog, fake_wecom: FakeWeCom) -> None:
    wc = WeComServer(dialog)
    # LiuYang is in WeCom's directory (department 济南历下营业厅) but not bound in the desk's.
    assert wc.post({"MsgType": "text", "Content": "你好", "MsgId": "77"}, user="LiuYang").status_code == 200
    (answer,) = fake_wecom.sent_to("LiuYang")
    assert "济南历下营业厅" in answer["text"]["content"] and "JN-002 刘洋" in answer["text"]["content"]


def test_markdown_text_cards_and_group_chats(dialog: Dialog, fake_wecom: FakeWeCom) -> None:
    from wuyou.adapters.wecom import AppChat, WeComSender

    account = dialog.desk.channels.wecom["ops"]
    sender = WeComSender(account, dialog.desk.store)
    sender.markdown(user=ENGINEER, content="**#1001** <font color=\"warning\">P1</font>")
    sender.text_card(user=ENGINEER, title="#1001 断网", description="济南泉城路支行", url="https://desk/tickets/1001")
    chats = AppChat(account, dialog.desk.store)
    assert chats.create(chat_id="wr1001", name="战情室 #1001", owner=ENGINEER, members=["WangFang"]) == "wr1001"
    chats.add_members(chat_id="wr1001", members=["SunLi"])
    chats.send(chat_id="wr1001", text="通报：已定位到运营商光缆")
    kinds = [(path, body.get("msgtype")) for path, body in fake_wecom.calls]
    assert kinds == [("message/send", "markdown"), ("message/send", "textcard"), ("appchat/create", None),
                     ("appchat/update", None), ("appchat/send", "text")]
    create = fake_wecom.calls[2][1]
    assert create["userlist"] == [ENGINEER, "WangFang"] and create["owner"] == ENGINEER


def test_a_redelivered_message_whose_replies_are_deferred_queues_them_once(dialog: Dialog,
                                                                           fake_wecom: FakeWeCom) -> None:
    from wuyou.adapters.wecom import PER_MEMBER_MINUTE, WeComSender
    from wuyou.desk.models import OutboxMessage

    sender = WeComSender(dialog.desk.channels.wecom["ops"], dialog.desk.store)
    for i in range(PER_MEMBER_MINUTE):  # li.wei's minute of WeCom messages is used up: replies go to the outbox
        sender.post(user=ENGINEER, text=f"第 {i} 条", buttons=[], key=f"k{i}")
    w = WeComServer(dialog)
    fields = {"MsgType": "text", "Content": "我的工单", "MsgId": "7777"}
    assert w.post(fields).status_code == 200
    assert w.post(fields).status_code == 200  # WeCom delivers it again: the same deferred replies, not twice
    with dialog.desk.sessions() as s:
        keys = list(s.scalars(select(OutboxMessage.idempotency_key)
                              .where(OutboxMessage.idempotency_key.like("wecom:reply:7777:%"))))
    assert keys and len(keys) == len(set(keys))


def test_texts_are_cut_to_wecoms_bytes_and_card_labels_to_whole_numbers() -> None:
    text = "报修人补充：" + "打印机卡纸" * 400  # 2,006 characters, 6,018 bytes
    cut = cut_bytes(text, 2048)
    assert len(cut.encode("utf-8")) <= 2048 and cut.endswith("…") and text.startswith(cut[:-1])
    assert cut_bytes("短", 2048) == "短"
    assert card_label("✅ 已接单 #1002（响应用时 6 分钟）\n报修人：…") == "✅ 已接单 #1002"
    assert card_label("这张单已由 演示工程师 在 03:18 接单") == "✓ 已处理"
