"""The WeCom AI bot callback, with callbacks built by the real wechatpy crypto as WeCom builds them (JSON, an
empty receive id): a branch group and a war-room group become two-way for messages addressed to the bot."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from wechatpy.enterprise.crypto import WeChatCrypto

from tests.adapters.fake_wecom import FakeWeCom
from tests.dialog import Dialog
from tests.incident_org import import_incident_org
from wuyou.adapters import wecom_bot_media as bot_media
from wuyou.adapters.bootstrap import Desk
from wuyou.desk.incidents.models import IncidentEvent
from wuyou.desk.models import Attachment, Identity, Person, Ticket

BOT_TOKEN = "aibotToken42"
BOT_AES = "Zy0123456789abcdefghijklmnopqrstuvwxyzABCDE"  # 43 characters, as WeCom generates them
CORP = "ww0123456789abcdef"
PLATFORMS = {"zhang.san": {"wecom": "ZhangSan"}, "liu.yang": {"wecom": "LiuYang"},
             "he.qiming": {"wecom": "HeQiming"}, "zhao.min": {"wecom": "ZhaoMin"}}
BRANCH_GROUP = "wrJN0001aaaa"  # the chat id WeCom gives a group the bot is in


@pytest.fixture(scope="module")
def fake_wecom() -> Iterator[FakeWeCom]:
    server = FakeWeCom()
    yield server
    server.close()


@pytest.fixture
def channels_file(tmp_path: Path, fake_wecom: FakeWeCom) -> Path:
    path = tmp_path / "channels.yaml"
    app = f"corp_id: {CORP}, agent_id: 1000002, secret: s, token: t, aes_key: {'a' * 43}, api_base: '{fake_wecom.url}'"
    path.write_text(
        "wecom:\n"
        # (ops waits long for the engine: on a loaded CI machine one answer once took more than the 4.5 s default
        # and went through the app instead; `slow` is the account whose answers always do)
        f"  ops: {{{app}, bot_token: {BOT_TOKEN}, bot_aes_key: {BOT_AES}, reply_deadline: 30}}\n"
        f"  slow: {{{app}, bot_token: {BOT_TOKEN}, bot_aes_key: {BOT_AES}, reply_deadline: 0}}\n"
        f"  brisk: {{{app}, bot_token: {BOT_TOKEN}, bot_aes_key: {BOT_AES}, reply_deadline: 1}}\n"
        f"  plain: {{{app}}}\n", encoding="utf-8")
    fake_wecom.calls.clear()
    fake_wecom.fail_sends = 0
    return path


@pytest.fixture
def d(desk: Desk) -> Iterator[Dialog]:
    import_incident_org(desk, PLATFORMS)
    with desk.sessions() as session:  # 钱丽, a colleague of 张三 at JN-001, in the branch's group
        session.add(Person(id="qian.li", name="钱丽", role="reporter", branch_code="JN-001", active=True))
        session.flush()
        session.add(Identity(platform="wecom", external_id="QianLi", person_id="qian.li"))
        session.commit()
    with Dialog(desk) as dialog:
        yield dialog


_ids = count(1)


class Bot:
    """WeCom's side of the AI bot's callback."""

    def __init__(self, d: Dialog, account: str = "ops") -> None:
        self.d = d
        self.crypto = WeChatCrypto(BOT_TOKEN, BOT_AES, "")
        self.url = f"/channels/wecom/{account}/bot"
        self.last_stream = ""

    def post(self, message: dict[str, Any], *, signature: str | None = None, timestamp: int | None = None,
             nonce: str | None = None) -> Any:
        nonce = nonce or secrets.token_hex(5)
        timestamp = timestamp or int(self.d.desk.clock().timestamp())
        xml = self.crypto.encrypt_message(json.dumps(message, ensure_ascii=False), nonce, timestamp)
        encrypted = re.findall(r"<Encrypt><!\[CDATA\[(.*?)\]\]>", xml)[0]
        signed = re.findall(r"<MsgSignature><!\[CDATA\[(.*?)\]\]>", xml)[0]
        return self.d.client.post(self.url, params={"msg_signature": signature or signed, "timestamp": timestamp,
                                                    "nonce": nonce}, content=json.dumps({"encrypt": encrypted}))

    def message(self, user: str, text: str, *, chat: str | None = None, msgid: str | None = None) -> dict[str, Any]:
        return {"msgid": msgid or f"m{next(_ids)}", "aibotid": "aib-1", "chattype": "group" if chat else "single",
                **({"chatid": chat} if chat else {}), "from": {"userid": user},
                "response_url": "https://qyapi.weixin.qq.com/cgi-bin/aibot/response?x=1", "msgtype": "text",
                "text": {"content": f"@无忧服务台 {text}" if chat else text}}

    def answer(self, response: Any) -> str:
        """The passive reply's text, decrypted and its signature checked; "" for an empty answer."""
        assert response.status_code == 200, response.text
        if not response.content:
            return ""
        wrapped = response.json()
        plain = json.loads(self.crypto.decrypt_message({"Encrypt": wrapped["encrypt"]}, wrapped["msgsignature"],
                                                       wrapped["timestamp"], wrapped["nonce"]))
        assert plain["msgtype"] == "stream" and plain["stream"]["finish"] is True
        self.last_stream = plain["stream"]["id"]
        return str(plain["stream"]["content"])

    def say(self, user: str, text: str, *, chat: str | None = None, msgid: str | None = None) -> str:
        return self.answer(self.post(self.message(user, text, chat=chat, msgid=msgid)))


def tickets(d: Dialog) -> int:
    with d.desk.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Ticket)) or 0)


def test_url_verification_and_refusals(d: Dialog) -> None:
    crypto = WeChatCrypto(BOT_TOKEN, BOT_AES, "")
    xml = crypto.encrypt_message("echo-42", "n1", 1700000000)
    encrypted = re.findall(r"<Encrypt><!\[CDATA\[(.*?)\]\]>", xml)[0]
    signature = re.findall(r"<MsgSignature><!\[CDATA\[(.*?)\]\]>", xml)[0]
    params = {"msg_signature": signature, "timestamp": 1700000000, "nonce": "n1", "echostr": encrypted}
    ok = d.client.get("/channels/wecom/ops/bot", params=params)
    assert ok.status_code == 200 and ok.text == "echo-42"
    assert d.client.get("/channels/wecom/ops/bot", params={**params, "msg_signature": "0" * 40}).status_code == 403
    assert d.client.get("/channels/wecom/plain/bot", params=params).status_code == 404  # no bot on that account

    bot = Bot(d)
    message = bot.message("ZhangSan", "打印机卡纸了", chat=BRANCH_GROUP)
    assert bot.post(message, signature="0" * 40).status_code == 403  # forged
    stale = int(d.desk.clock().timestamp()) - 3600
    assert bot.post(message, timestamp=stale).status_code == 403
    for junk in (b"<xml/>", b"{}", b'{"encrypt": 7}', b'{"encrypt": "not base64 at all"}'):
        assert d.client.post("/channels/wecom/ops/bot", params={"msg_signature": "x", "timestamp": 1, "nonce": "n"},
                             content=junk).status_code in (400, 403)
    now = int(d.desk.clock().timestamp())
    assert bot.post(message, nonce="used-once", timestamp=now).status_code == 200
    other = bot.message("ZhangSan", "VPN连不上", chat=BRANCH_GROUP)
    assert bot.post(other, nonce="used-once", timestamp=now).status_code == 403  # a used nonce with another body
    assert tickets(d) == 0


def test_a_branch_group_through_the_bot(d: Dialog) -> None:
    bot = Bot(d)
    asked = bot.say("ZhangSan", "报修", chat=BRANCH_GROUP)
    # (the bot sees only messages that @-mention it in a group: a question says so)
    assert "选个分类" in asked and asked.endswith("（在群里回复请先 @我，比如“@无忧 1”，不然我收不到）"), asked
    bot.say("ZhangSan", "1", chat=BRANCH_GROUP)
    described = bot.say("ZhangSan", "1", chat=BRANCH_GROUP)
    assert "说说情况" in described and "@我" not in described  # (no choice to make: no hint)
    assert "@我" not in bot.say("ZhangSan", "报修")  # (1:1 every message reaches it)
    bot.say("ZhangSan", "取消")
    filed = bot.say("ZhangSan", "大厅打印机卡纸了 一打印就卡", chat=BRANCH_GROUP, msgid="desc-1")
    number = int(re.findall(r"#(\d+)", filed)[0])
    assert "已报修" in filed
    # WeCom delivers the same callback again (no answer within 5 s): the same answer, no second ticket.
    assert bot.say("ZhangSan", "大厅打印机卡纸了 一打印就卡", chat=BRANCH_GROUP, msgid="desc-1") == filed
    assert tickets(d) == 1
    with d.desk.sessions() as session:
        row = session.get(Ticket, number)
        assert row is not None and (row.channel, row.chat_id) == ("wecom", BRANCH_GROUP)

    # WeCom polls a stream for more: it was answered whole, so it gets the same content, finished.
    poll = {"msgid": "poll-1", "aibotid": "aib-1", "chattype": "group", "chatid": BRANCH_GROUP,
            "from": {"userid": "ZhangSan"}, "msgtype": "stream", "stream": {"id": bot.last_stream}}
    assert bot.answer(bot.post(poll)) == filed

    # 钱丽, in the same group, about the same fault: she follows #number.
    again = bot.say("QianLi", "打印机又卡纸了 打不出来", chat=BRANCH_GROUP)
    assert f"群里已经报过这个问题：#{number}" in again
    assert tickets(d) == 1
    # 1:1 with the bot works too; an event gets an empty answer.
    assert f"#{number}" in bot.say("QianLi", "进度")  # (which she follows)
    # Opening the 1:1 chat: the welcome (a text reply, the only kind WeCom takes for it); other events: nothing.
    event = {"msgid": "ev-1", "aibotid": "aib-1", "chattype": "single", "from": {"userid": "QianLi"},
             "msgtype": "event", "event": {"eventtype": "enter_chat"}}
    wrapped = bot.post(event).json()
    welcome = json.loads(bot.crypto.decrypt_message({"Encrypt": wrapped["encrypt"]}, wrapped["msgsignature"],
                                                    wrapped["timestamp"], wrapped["nonce"]))
    assert welcome["msgtype"] == "text" and "我是无忧服务台" in welcome["text"]["content"]
    other = {**event, "msgid": "ev-2", "event": {"eventtype": "feedback_event"}}
    assert bot.answer(bot.post(other)) == ""


def test_the_war_room_group_through_the_bot(d: Dialog, fake_wecom: FakeWeCom) -> None:
    n1 = d.report("zhang.san", "6", "医保结算失败 提示交易超时")
    n2 = d.report("liu.yang", "6", "医保刷不了了")
    assert "已宣布 INC-1" in d.say("chen.gang", f"应急 宣布 医保结算失败 SEV2 #{n1} #{n2}")
    assert "已呼叫" in d.say("chen.gang", "应急 呼叫 INC-1 network")
    d.say("zhao.min", "应急 加入 INC-1")
    assert d.desk.war_rooms is not None
    d.desk.war_rooms.run_once()
    sent = [b["text"]["content"] for p, b in fake_wecom.calls if p == "appchat/send"]
    assert sent and "@服务台机器人" in sent[0] and "本群只推送消息" not in sent[0]  # the intro says the bot listens
    bot = Bot(d)
    # The bot sees the app's group under the id the desk gave it: a staff member's words go on the timeline.
    assert "INC-1" in bot.say("ZhaoMin", "医保中心确认他们那边正常", chat="inc1")
    # Under another id, the group becomes the war-room once a staff member names the incident there.
    assert "INC-1" in bot.say("ZhaoMin", "INC-1 前置机证书已更换", chat="wrWARROOM01")
    assert "INC-1" in bot.say("ZhaoMin", "交易恢复了 在观察", chat="wrWARROOM01")
    # A reporter naming the incident in a branch group does not make it a war-room.
    bot.say("ZhangSan", "INC-1 什么时候能好", chat=BRANCH_GROUP)
    with d.desk.sessions() as session:
        said = [e.body for e in session.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == 1))]
    assert {"医保中心确认他们那边正常", "前置机证书已更换", "交易恢复了 在观察"} <= set(said)
    assert not any("什么时候能好" in (body or "") for body in said)


def test_a_late_answer_goes_through_the_app(d: Dialog, fake_wecom: FakeWeCom) -> None:
    bot = Bot(d, account="slow")  # the engine never answers within no time at all
    assert bot.say("ZhangSan", "进度", chat=BRANCH_GROUP) == ""
    d.desk.deliverer.run_once()
    assert any("没办完" in str(m) for m in fake_wecom.sent_to("ZhangSan"))


def test_the_reply_deadline_counts_from_the_callbacks_arrival(d: Dialog, fake_wecom: FakeWeCom) -> None:
    """Its photo took longer to fetch than the deadline: the answer goes through the app (waited for in full after
    the photos, the passive reply came after WeCom had stopped listening, and the answer was lost)."""
    bot = Bot(d, account="brisk")
    fake_wecom.media_delay = 1.2
    try:
        mixed = {**bot.message("ZhangSan", "", chat=BRANCH_GROUP), "msgtype": "mixed", "mixed": {"msg_item": [
            {"msgtype": "text", "text": {"content": "@无忧服务台 进度"}},
            {"msgtype": "image", "image": media_link(fake_wecom, "slow-photo", PHOTO)}]}}
        assert bot.answer(bot.post(mixed)) == ""
    finally:
        fake_wecom.media_delay = 0.0
    d.desk.deliverer.run_once()
    assert fake_wecom.sent_to("ZhangSan"), "the answer went through the app"


PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 3  # a JPEG's first bytes, then anything
PDF = b"%PDF-1.4 an error log"


def media_link(fake: FakeWeCom, name: str, content: bytes, key: str = BOT_AES) -> dict[str, str]:
    """What WeCom puts in a callback for a picture or file: a link to the content, encrypted with the bot's key."""
    fake.bot_media[name] = bot_media.encrypt(content, bot_media.aes_key(key))
    return {"url": f"{fake.url}/aibot/media/{name}"}


def stored(d: Dialog) -> list[Attachment]:
    with d.desk.sessions() as session:
        return list(session.scalars(select(Attachment).order_by(Attachment.id)))


def test_photos_and_files_sent_to_the_bot_go_with_the_report(d: Dialog, fake_wecom: FakeWeCom) -> None:
    bot = Bot(d)
    # In a group, a photo comes with the words in a mixed message; it is kept for the report the dialogue files.
    mixed = {**bot.message("ZhangSan", "", chat=BRANCH_GROUP), "msgtype": "mixed", "mixed": {"msg_item": [
        {"msgtype": "text", "text": {"content": "@无忧服务台 报修"}},
        {"msgtype": "image", "image": media_link(fake_wecom, "p1", PHOTO)}]}}
    assert "选个分类" in bot.answer(bot.post(mixed))
    bot.say("ZhangSan", "1", chat=BRANCH_GROUP)
    bot.say("ZhangSan", "1", chat=BRANCH_GROUP)
    number = int(re.findall(r"#(\d+)", bot.say("ZhangSan", "打印机卡纸 照片里是报错", chat=BRANCH_GROUP))[0])
    (photo,) = stored(d)
    assert (photo.ticket_id, photo.kind, photo.content_type, photo.person_id) == (number, "image", "image/jpeg",
                                                                              "zhang.san")
    assert d.desk.bot.media.get(photo.sha256) == PHOTO  # decrypted, byte for byte

    # 1:1, a file on its own: no ticket is waiting for one, so it is kept for the next report and the bot asks what
    # is wrong.
    file_message = {**bot.message("ZhangSan", ""), "msgtype": "file", "file": media_link(fake_wecom, "f1", PDF)}
    assert "收到 1 个附件" in bot.answer(bot.post(file_message))
    assert [(a.kind, a.content_type, a.ticket_id) for a in stored(d)][1:] == [("file", "application/pdf", None)]

    # A link whose content is not encrypted with the bot's key (or is gone) is not taken; the words still count.
    broken = {**bot.message("LiuYang", "", chat=BRANCH_GROUP), "msgtype": "mixed", "mixed": {"msg_item": [
        {"msgtype": "text", "text": {"content": "@无忧服务台 进度"}},
        {"msgtype": "image", "image": media_link(fake_wecom, "p2", PHOTO, key="K" * 43)},
        {"msgtype": "image", "image": {"url": f"{fake_wecom.url}/aibot/media/expired"}}]}}
    assert f"#{number}" in bot.answer(bot.post(broken))  # the group's open ticket
    assert len(stored(d)) == 2


def test_the_media_cipher() -> None:
    key = bot_media.aes_key(BOT_AES)
    for content in (b"", b"x", b"y" * 32, PHOTO):
        sealed = bot_media.encrypt(content, key)
        assert len(sealed) % 32 == 0 and sealed != content
        assert bot_media.decrypt(sealed, key) == content
    with pytest.raises(bot_media.MediaError):
        bot_media.decrypt(bot_media.encrypt(PHOTO, key), bot_media.aes_key("K" * 43))
    for broken in (b"", b"abc", bytes(48)):
        with pytest.raises(bot_media.MediaError):
            bot_media.decrypt(broken, key)
    with pytest.raises(bot_media.MediaError):
        bot_media.aes_key("too short")
    assert bot_media.kind_of(PHOTO) == ("image/jpeg", "jpg") and bot_media.kind_of(PDF)[0] == "application/pdf"
    assert bot_media.kind_of(b"RIFF\0\0\0\0WEBPVP8 ")[0] == "image/webp"
    assert bot_media.kind_of(b"plain text") == ("application/octet-stream", "bin")
