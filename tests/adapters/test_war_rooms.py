"""One incident with participants on WeCom, Telegram and the web at once: a WeCom group and a Telegram forum
topic are opened once and carry the same timeline as the web war-room; a status update reaches every
reporter once and no war-room member twice; a note typed in the Telegram topic reaches the WeCom group."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from itertools import count
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.adapters.fake_telegram import TOKEN, FakeTelegram
from tests.adapters.fake_wecom import FakeWeCom
from tests.clock import TestClock
from tests.dialog import Dialog
from tests.incident_org import LATE, REPORTERS, file_ticket, import_incident_org
from wuyou.adapters.bootstrap import Desk
from wuyou.adapters.war_rooms import MAX_LINES, WECOM_BYTES, WarRooms, _batches, _fits_bytes
from wuyou.desk.incidents.models import Incident

SH = ZoneInfo("Asia/Shanghai")
FORUM = -1009876543210  # the account's war_room_chat supergroup
SECRET = "tg-secret"
ZHANG, ZHOU, WU = 100001, 300001, 300002  # Telegram user ids (张三's is in org-sample)
# 何启明 and 赵敏 on WeCom, 周浩 and 吴磊 on Telegram; 陈刚, the commander, only on the web chat.
PLATFORMS = {"he.qiming": {"wecom": "HeQiming"}, "zhao.min": {"wecom": "ZhaoMin"},
             "zhou.hao": {"telegram": str(ZHOU)}, "wu.lei": {"telegram": str(WU)}}
# The surge of tests/bot/test_incidents.py: eight reporters from eight branches, and one who comes late.
FIRST = ["医保卡结算失败 提示交易超时 客户在等着呢", "医保刷不了了 结算失败", "医保结算报错 -1 请联系管理员",
         "社保卡结算一直转圈 最后医保结算失败", "医保接口又挂了？？结不了算", "醫保結算失敗，提示證書驗證錯誤",
         "医保结算失败 病人排长队", "医保结算不了 一直报错"]


def at(text: str) -> datetime:
    return datetime.fromisoformat(f"2025-03-13T{text}").replace(tzinfo=SH)


@pytest.fixture(scope="module")
def fake_wecom() -> Iterator[FakeWeCom]:
    server = FakeWeCom()
    yield server
    server.close()


@pytest.fixture(scope="module")
def fake_tg() -> Iterator[FakeTelegram]:
    server = FakeTelegram()
    yield server
    server.close()


@pytest.fixture
def channels_file(tmp_path: Path, fake_wecom: FakeWeCom, fake_tg: FakeTelegram) -> Path:
    path = tmp_path / "channels.yaml"
    path.write_text(
        f"wecom:\n  ops: {{corp_id: ww0123456789abcdef, agent_id: 1000002, secret: s, token: t, "
        f"aes_key: abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG, api_base: '{fake_wecom.url}'}}\n"
        f"telegram:\n  desk: {{token: '{TOKEN}', secret_token: {SECRET}, war_room_chat: {FORUM}, "
        f"api_base: '{fake_tg.url}'}}\n", encoding="utf-8")
    fake_wecom.calls.clear()
    fake_wecom.fail_sends = 0
    fake_tg.reset()
    return path


@pytest.fixture
def org_desk(desk: Desk) -> Desk:
    return import_incident_org(desk, PLATFORMS)


@pytest.fixture
def d(org_desk: Desk) -> Iterator[Dialog]:
    with Dialog(org_desk) as dialog:
        yield dialog


@pytest.fixture
def rooms(org_desk: Desk) -> WarRooms:
    assert org_desk.war_rooms is not None  # built because WeCom and a war_room_chat are configured
    return org_desk.war_rooms


# --- what the platforms saw -------------------------------------------------------------------------------------


def appchat(fake: FakeWeCom, call: str) -> list[dict[str, Any]]:
    return [body for path, body in fake.calls if path == f"appchat/{call}"]


def group_text(fake: FakeWeCom) -> str:
    return "\n".join(body["text"]["content"] for body in appchat(fake, "send"))


def topic_text(fake: FakeTelegram, thread: int) -> str:
    return "\n".join(m["text"] for m in fake.sent
                     if int(m["chat_id"]) == FORUM and int(m.get("message_thread_id") or 0) == thread)


def tg_to(fake: FakeTelegram, chat: int, needle: str = "") -> list[str]:
    return [m["text"] for m in fake.sent if int(m["chat_id"]) == chat and needle in m["text"]]


def wecom_to(fake: FakeWeCom, user: str, needle: str) -> list[dict[str, Any]]:
    return [m for m in fake.sent_to(user) if needle in str(m)]


def thread_of(d: Dialog, incident_id: int = 1) -> int:
    with d.desk.sessions() as session:
        incident = session.get(Incident, incident_id)
        assert incident is not None
        return int(incident.war_room["telegram"]["topic"])


_ids = count(5000)


def tg_say(d: Dialog, fake: FakeTelegram, user: int, text: str, *, thread: int | None = None) -> str:
    """`user` writes on Telegram (1:1, or in the war-room topic `thread`); the bot's answers in that chat."""
    chat = user if thread is None else FORUM
    before = len(tg_to(fake, chat))
    topic = {"message_thread_id": thread, "is_topic_message": True} if thread is not None else {}
    commands = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}] if text[:1] == "/" else []
    update = {"update_id": next(_ids), "message": {
        "message_id": next(_ids), "date": int(time.time()), "from": {"id": user, "is_bot": False, "first_name": "x"},
        "chat": {"id": FORUM, "type": "supergroup", "is_forum": True} if thread is not None
        else {"id": user, "type": "private"},
        "text": text, **topic, **({"entities": commands} if commands else {})}}
    answer = d.client.post("/channels/telegram/desk", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert answer.status_code == 200, answer.text
    return "\n\n".join(tg_to(fake, chat)[before:])


# --- the dialogues ----------------------------------------------------------------------------------------------


def test_one_timeline_in_the_wecom_group_the_telegram_topic_and_the_web(
    d: Dialog, rooms: WarRooms, fake_wecom: FakeWeCom, fake_tg: FakeTelegram,
) -> None:
    n1 = d.report("zhang.san", "6", "医保结算失败 提示交易超时")
    n2 = d.report("liu.yang", "6", "医保刷不了了")
    assert "已宣布 INC-1" in d.say("chen.gang", f"应急 宣布 医保结算失败 SEV2 #{n1} #{n2}")
    assert "已呼叫 周浩" in d.say("chen.gang", "应急 呼叫 INC-1 network")
    rooms.run_once()

    # The WeCom group: the war-room's WeCom members; the commander is not on WeCom, so the first of them owns it.
    (created,) = appchat(fake_wecom, "create")
    assert created["chatid"] == "inc1" and created["name"] == "INC-1 医保结算失败"
    assert set(created["userlist"]) == {"HeQiming", "ZhaoMin"} and created["owner"] in created["userlist"]
    first = group_text(fake_wecom)
    assert "本群只推送消息" in first and "/incidents/INC-1" in first  # push-only: where commands go instead
    assert "【INC-1】从工单宣布：医保结算失败" in first
    (topic,) = fake_tg.topics
    assert int(topic["chat_id"]) == FORUM and topic["name"] == "INC-1 医保结算失败"
    thread = thread_of(d)
    assert "【INC-1】从工单宣布：医保结算失败" in topic_text(fake_tg, thread)
    d.pushed("chen.gang")
    assert wecom_to(fake_wecom, "HeQiming", "INC-1")  # the page, 1:1 on WeCom
    assert tg_to(fake_tg, ZHOU, "INC-1")  # the page, 1:1 on Telegram

    assert "已确认" in d.say("he.qiming", "收到")
    assert "2 位报修人" in d.say("he.qiming", "通报 INC-1 证书过期，正在更换")
    rooms.run_once()
    news = f"【INC-1 进展 {local_time(d)}】证书过期，正在更换"
    # Each reporter once, on their own platform: 刘洋 on the web chat, 张三 on Telegram (told they will hear of
    # the recovery too).
    told = f"{news}\n恢复后马上通知您。"
    assert [m["text"] for m in d.pushed("liu.yang")].count(told) == 1
    assert tg_to(fake_tg, ZHANG).count(told) == 1
    # The war-room: once in the group, once in the topic; the commander, in neither, once on the web chat;
    # 赵敏 (in the WeCom group) and 周浩 (reading the topic) get no 1:1 copy.
    assert group_text(fake_wecom).count("通报：证书过期，正在更换") == 1
    assert topic_text(fake_tg, thread).count("通报：证书过期，正在更换") == 1
    assert len([m for m in d.pushed("chen.gang") if "证书过期" in m["text"]]) == 1
    assert not wecom_to(fake_wecom, "ZhaoMin", "证书过期")
    assert not tg_to(fake_tg, ZHOU, "证书过期")

    # 周浩 writes in the Telegram topic: it goes on the timeline, into the WeCom group and onto the board.
    assert "已发到 INC-1 作战室" in tg_say(d, fake_tg, ZHOU, "网络侧正常，到前置机没丢包", thread=thread)
    rooms.run_once()
    assert group_text(fake_wecom).count("周浩：网络侧正常，到前置机没丢包") == 1
    assert not wecom_to(fake_wecom, "HeQiming", "网络侧正常")  # the group told him, not a 1:1 copy
    d.pushed("chen.gang")
    sends = (len(appchat(fake_wecom, "send")), topic_text(fake_tg, thread))
    assert rooms.run_once() == 0
    assert (len(appchat(fake_wecom, "send")), topic_text(fake_tg, thread)) == sends  # nothing twice
    assert len(appchat(fake_wecom, "create")) == 1 and len(fake_tg.topics) == 1
    d.sign_in("admin")
    board = d.client.get("/incidents/INC-1").text
    assert "网络侧正常，到前置机没丢包" in board and "证书过期，正在更换" in board


def test_a_platform_failure_is_retried_and_a_locked_incident_is_left_to_its_worker(
    d: Dialog, rooms: WarRooms, fake_wecom: FakeWeCom, fake_tg: FakeTelegram,
) -> None:
    n1 = d.report("zhang.san", "6", "医保结算失败 提示交易超时")
    assert "已宣布 INC-1" in d.say("chen.gang", f"应急 宣布 医保结算失败 SEV2 #{n1}")
    d.say("chen.gang", "应急 呼叫 INC-1 network")
    rooms.run_once()
    thread = thread_of(d)

    # Telegram is down for a round: the WeCom group still gets the note, the topic gets it on the next round.
    assert "已发到 INC-1 作战室" in d.say("chen.gang", "INC-1 医保中心确认他们那边正常")
    fake_tg.break_down(1)
    assert rooms.run_once() == 1
    assert "医保中心确认他们那边正常" in group_text(fake_wecom)
    assert "医保中心确认他们那边正常" not in topic_text(fake_tg, thread)
    assert rooms.run_once() == 1
    assert topic_text(fake_tg, thread).count("医保中心确认他们那边正常") == 1

    # Many entries pending: one message per room, not one per entry.
    for i in range(5):
        d.say("chen.gang", f"INC-1 排查第{i}步")
    assert rooms.run_once() == 2
    assert all(f"排查第{i}步" in group_text(fake_wecom) for i in range(5))

    # Someone joining later is added to the WeCom group (李伟 is on WeCom and Telegram; he reads the topic).
    assert "加入" in d.say("li.wei", "应急 加入 INC-1")
    rooms.run_once()
    (added,) = appchat(fake_wecom, "update")
    assert added == {"chatid": "inc1", "add_user_list": ["LiWei"]}

    # While another worker holds the incident, this one leaves it alone (PostgreSQL: SKIP LOCKED).
    if d.desk.db.dialect.name == "postgresql":
        d.say("chen.gang", "INC-1 等待医保中心回电")
        with d.desk.sessions() as other:
            other.scalars(select(Incident).where(Incident.id == 1).with_for_update(of=Incident)).all()
            assert rooms.run_once() == 0
        assert rooms.run_once() == 2
    assert len(appchat(fake_wecom, "create")) == 1 and len(fake_tg.topics) == 1


def test_the_surge_with_participants_on_wecom_telegram_and_the_web(
    d: Dialog, rooms: WarRooms, fake_wecom: FakeWeCom, fake_tg: FakeTelegram, clock: TestClock,
) -> None:
    """The 医保 surge of tests/bot/test_incidents.py: 何启明 and 赵敏 on WeCom, 周浩 and 吴磊 on Telegram, the
    duty lead 陈刚 on the web chat; 张三 reports on Telegram's 1:1 chat, the others on the web chat."""
    surge = d.desk.bot.surge.detector
    surge.rules = replace(surge.rules, auto_reports=20, auto_branches=10)
    tickets: dict[str, int] = {}
    for minute, (user, text) in enumerate(zip(REPORTERS, FIRST, strict=True)):
        clock.set(at(f"10:{minute:02d}:00"))
        tickets[user] = file_ticket(d, user, text)
    assert len([m for m in d.pushed("chen.gang") if "疑似重大故障" in m["text"]]) == 1  # the offer, on the web
    clock.set(at("10:10:00"))
    assert "已宣布 INC-1" in d.say("chen.gang", "应急 确认")
    rooms.run_once()
    d.pushed("chen.gang")
    assert wecom_to(fake_wecom, "HeQiming", "INC-1")  # paged on WeCom
    assert tg_to(fake_tg, ZHOU, "INC-1")  # paged on Telegram
    assert len(appchat(fake_wecom, "create")) == 1 and len(fake_tg.topics) == 1
    thread = thread_of(d)

    clock.set(at("10:12:00"))
    assert "已确认 INC-1" in d.say("he.qiming", "收到")
    clock.set(at("10:15:01"))
    d.desk.incidents_round()  # 周浩 missed his page: the next of hq-network is paged
    d.pushed("chen.gang")
    assert tg_to(fake_tg, WU, "周浩")
    clock.set(at("10:16:00"))
    assert "已确认 INC-1" in tg_say(d, fake_tg, WU, "收到")

    clock.set(at("10:20:00"))
    d.say("he.qiming", "通报 INC-1 定位为接口证书过期，预计30分钟恢复")
    rooms.run_once()
    d.pushed("chen.gang")
    for user in REPORTERS:
        got = (tg_to(fake_tg, ZHANG, "INC-1 进展") if user == "zhang.san"
               else [m["text"] for m in d.pushed(user) if "INC-1 进展" in m["text"]])
        assert len(got) == 1 and "预计 10:50 前恢复" in got[0], (user, got)
    assert group_text(fake_wecom).count("10:20 【INC-1】何启明 通报：定位为接口证书过期") == 1
    assert topic_text(fake_tg, thread).count("10:20 【INC-1】何启明 通报：定位为接口证书过期") == 1
    assert not tg_to(fake_tg, WU, "证书过期")  # 吴磊 reads it in the topic

    clock.set(at("10:22:00"))
    assert "已知问题" in d.say(LATE, "医保又结不了了 咋回事 结算失败")
    clock.set(at("10:40:00"))
    assert "由指挥" in tg_say(d, fake_tg, WU, "/incident INC-1 resolve 已更换证书")  # not a role holder
    assert "已发到 INC-1 作战室" in tg_say(d, fake_tg, WU, "网络侧正常", thread=thread)
    assert "9 张关联工单已同步解决" in d.say("he.qiming", "/incident INC-1 resolve 已更换证书")
    for number in tickets.values():
        assert d.ticket(number)["status"] == "resolved"
    rooms.run_once()
    d.pushed("chen.gang")
    assert len(tg_to(fake_tg, ZHANG, "INC-1 已恢复")) == 1
    assert all(len([m for m in d.pushed(u) if "INC-1 已恢复" in m["text"]]) == 1 for u in [*REPORTERS[1:], LATE])
    # The resolution still reaches both rooms, though the incident is no longer open.
    for text in (group_text(fake_wecom), topic_text(fake_tg, thread)):
        assert text.count("吴磊：网络侧正常") == 1 and text.count("已更换证书") == 1
    assert rooms.run_once() == 0
    d.sign_in("chen.gang")
    assert "已更换证书" in d.client.get("/incidents/INC-1").text


def test_pending_entries_go_out_in_as_few_messages_as_fit() -> None:
    fits = _fits_bytes(WECOM_BYTES)
    intro = "本群只推送消息" * 10
    short = [(i, f"10:00 【INC-1】记录 {i}") for i in range(1, 26)]
    assert [len(b) for b in _batches(short, fits, head=intro)] == [MAX_LINES, 25 - MAX_LINES]
    long = [(1, "短"), (2, "长" * 1000), (3, "长" * 500)]  # 3,000 bytes: cut, the board keeps it whole
    batches = list(_batches(long, fits, head=intro))
    assert [[i for i, _ in b] for b in batches] == [[1, 2], [3]]
    assert batches[0][1][1].endswith("…") and batches[1][0][1] == "长" * 500
    assert fits("\n".join([intro, *(line for _, line in batches[0])]))


def local_time(d: Dialog) -> str:
    return d.desk.clock().astimezone(d.desk.bot.tz).strftime("%H:%M")
