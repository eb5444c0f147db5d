"""One incident with participants on WeCom, Telegram and the web at once: a WeCom group and a Telegram forum
topic are opened once and carry the same timeline as the web war-room; a status update reaches every
reporter once; a note typed in the Telegram topic reaches the WeCom group."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.adapters.fake_telegram import TOKEN, FakeTelegram
from tests.adapters.fake_wecom import FakeWeCom
from tests.bot.test_incidents import EXTRA_BRANCHES, FIRST, LATE, REPORTERS, at, file_ticket
from tests.clock import TestClock
from tests.conftest import shared
from tests.dialog import Dialog
from wuyou.adapters.bootstrap import Desk
from wuyou.desk.incidents.models import Incident
from wuyou.desk.org import import_org

FORUM = -1009876543210
SECRET = "tg-secret"
ZHOU = 300001  # zhou.hao on Telegram
PEOPLE = {"he.qiming": {"wecom": "HeQiming"}, "chen.gang": {"wecom": "ChenGang"},
          "zhou.hao": {"telegram": str(ZHOU)}, "wu.lei": {"telegram": "300002"}}


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
        f"telegram:\n  desk: {{token: '{fake_tg_token()}', secret_token: {SECRET}, war_room_chat: {FORUM}, "
        f"api_base: '{fake_tg.url}'}}\n", encoding="utf-8")
    fake_wecom.calls.clear()
    fake_tg.reset()
    return path


def fake_tg_token() -> str:
    return TOKEN


@pytest.fixture
def d(desk: Desk, fake_tg: FakeTelegram) -> Iterator[Dialog]:
    doc = yaml.safe_load(shared("org-sample.yaml").read_text(encoding="utf-8"))
    for person in doc["people"]:
        person["identities"].update(PEOPLE.get(person["id"], {}))
    with desk.sessions() as session:
        import_org(session=session, doc=doc)
        session.commit()
    with Dialog(desk) as dialog:
        dialog.fake_tg = fake_tg  # type: ignore[attr-defined]
        yield dialog


def appchat(fake: FakeWeCom, path: str) -> list[dict[str, Any]]:
    return [body for p, body in fake.calls if p == f"appchat/{path}"]


def topic_messages(fake: FakeTelegram, topic: int) -> list[str]:
    return [m["text"] for m in fake.sent
            if int(m["chat_id"]) == FORUM and int(m.get("message_thread_id") or 0) == topic]


def test_one_timeline_in_the_wecom_group_the_telegram_topic_and_the_web(
    d: Dialog, fake_wecom: FakeWeCom, fake_tg: FakeTelegram,
) -> None:
    n1 = d.report("zhang.san", "6", "医保结算失败 提示交易超时")
    n2 = d.report("liu.yang", "6", "医保刷不了了")
    assert "已宣布 INC-1" in d.say("chen.gang", f"应急 宣布 医保结算失败 SEV2 #{n1} #{n2}")
    assert "已呼叫 周浩" in d.say("chen.gang", "应急 呼叫 INC-1 network")
    rooms = d.desk.war_rooms
    assert rooms is not None
    rooms.run_once()
    (created,) = appchat(fake_wecom, "create")
    assert created["chatid"] == "inc1" and set(created["userlist"]) == {"ChenGang", "HeQiming"}
    assert created["owner"] == "ChenGang"
    (topic,) = fake_tg.topics
    assert int(topic["chat_id"]) == FORUM and topic["name"].startswith("INC-1")
    with d.desk.sessions() as session:
        incident = session.get(Incident, 1)
        assert incident is not None
        thread = int(incident.war_room["telegram"]["topic"])
    d.pushed("he.qiming")  # pages and notices go out
    assert any("INC-1" in str(m) for m in fake_wecom.sent_to("HeQiming"))  # the page, 1:1 on WeCom
    assert any(int(m["chat_id"]) == ZHOU and "INC-1" in m["text"] for m in fake_tg.sent)

    assert "已确认" in d.say("he.qiming", "收到")
    before_1to1 = len(fake_wecom.sent_to("HeQiming"))
    assert "2 位报修人" in d.say("he.qiming", "通报 INC-1 证书过期，正在更换")
    # Each reporter once, on their own platform: 刘洋 on the web chat, 张三 on Telegram.
    assert [m["text"] for m in d.pushed("liu.yang")].count(f"【INC-1 进展 {m_time(d)}】证书过期，正在更换") == 1
    assert [m["text"] for m in fake_tg.sent if m["chat_id"] == "100001"].count(
        f"【INC-1 进展 {m_time(d)}】证书过期，正在更换") == 1
    rooms.run_once()
    group_text = "\n".join(b["text"]["content"] for b in appchat(fake_wecom, "send"))
    assert "通报：证书过期，正在更换" in group_text and "本群只推送消息" in group_text
    assert any("证书过期，正在更换" in t for t in topic_messages(fake_tg, thread))
    # Members who sit in the WeCom group get the war-room update there, not a second time 1:1.
    d.pushed("chen.gang")
    assert not [m for m in fake_wecom.sent_to("ChenGang") if "证书过期" in str(m)]
    assert len(fake_wecom.sent_to("HeQiming")) == before_1to1

    # zhou.hao writes in the Telegram topic: it goes on the timeline and into the WeCom group.
    update = {"update_id": 1, "message": {
        "message_id": 50, "date": int(time.time()), "chat": {"id": FORUM, "type": "supergroup", "is_forum": True},
        "from": {"id": ZHOU, "is_bot": False, "first_name": "浩"}, "text": "网络侧正常，到前置机没丢包",
        "message_thread_id": thread, "is_topic_message": True}}
    answer = d.client.post("/channels/telegram/desk", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert answer.status_code == 200
    rooms.run_once()
    group_text = "\n".join(b["text"]["content"] for b in appchat(fake_wecom, "send"))
    assert "周浩：网络侧正常，到前置机没丢包" in group_text
    sends = (len(appchat(fake_wecom, "send")), len(topic_messages(fake_tg, thread)))
    rooms.run_once()
    assert (len(appchat(fake_wecom, "send")), len(topic_messages(fake_tg, thread))) == sends  # nothing twice
    assert len(appchat(fake_wecom, "create")) == 1 and len(fake_tg.topics) == 1
    assert "网络侧正常，到前置机没丢包" in d.client.get("/incidents/INC-1").text


def m_time(d: Dialog) -> str:
    return d.desk.clock().astimezone(d.desk.bot.tz).strftime("%H:%M")


def test_the_surge_scenario_with_participants_on_wecom_telegram_and_the_web(
    d: Dialog, fake_wecom: FakeWeCom, fake_tg: FakeTelegram, clock: TestClock,
) -> None:
    """The 医保 surge of tests/bot/test_incidents.py, with 何启明 and the duty lead on WeCom (the lead answers
    from the web chat), 周浩 and 吴磊 on Telegram, 张三 reporting on Telegram and the others on the web chat."""
    add_branches(d)
    surge = d.desk.bot.surge.detector
    surge.rules = replace(surge.rules, auto_reports=20, auto_branches=10)
    tickets: dict[str, int] = {}
    for minute, (user, text) in enumerate(zip(REPORTERS, FIRST, strict=True)):
        clock.set(at(f"10:{minute:02d}:00"))
        tickets[user] = file_ticket(d, user, text)
    d.pushed("chen.gang")
    offers = [m for m in fake_wecom.sent_to("ChenGang") if "疑似重大故障" in str(m)]
    assert len(offers) == 1  # the duty lead's card, on WeCom
    clock.set(at("10:10:00"))
    assert "已宣布 INC-1" in d.say("chen.gang", "应急 确认")  # answered from the web chat
    rooms = d.desk.war_rooms
    assert rooms is not None
    rooms.run_once()
    d.pushed("chen.gang")
    assert any("INC-1" in str(m) for m in fake_wecom.sent_to("HeQiming"))  # paged on WeCom
    assert tg_to(fake_tg, ZHOU, "INC-1")  # paged on Telegram
    assert len(appchat(fake_wecom, "create")) == 1 and len(fake_tg.topics) == 1

    clock.set(at("10:12:00"))
    assert "已确认 INC-1" in d.say("he.qiming", "收到")
    clock.set(at("10:15:01"))
    d.desk.incidents_round()
    d.pushed("chen.gang")
    assert tg_to(fake_tg, WU, "周浩")  # the next in hq-network's order, on Telegram
    clock.set(at("10:16:00"))
    tg_say(d, WU, "收到")
    assert tg_to(fake_tg, WU, "已确认 INC-1")

    clock.set(at("10:20:00"))
    d.say("he.qiming", "通报 INC-1 定位为接口证书过期，预计30分钟恢复")
    d.pushed("chen.gang")
    for user in REPORTERS:
        if user == "zhang.san":
            got = [t for t in tg_to(fake_tg, 100001, "INC-1 进展")]
        else:
            got = [m["text"] for m in d.pushed(user) if "INC-1 进展" in m["text"]]
        assert len(got) == 1 and "预计 10:50 前恢复" in got[0], (user, got)
    rooms.run_once()
    assert "定位为接口证书过期" in "\n".join(b["text"]["content"] for b in appchat(fake_wecom, "send"))

    clock.set(at("10:22:00"))
    assert "已知问题" in d.say(LATE, "医保又结不了了 咋回事 结算失败")
    clock.set(at("10:40:00"))
    assert "由指挥" in tg_say(d, WU, "/incident INC-1 resolve 已更换证书")  # not a role holder: notes only
    assert "已发到 INC-1 作战室" in tg_say(d, WU, "INC-1 网络侧正常")
    assert "9 张关联工单已同步解决" in d.say("he.qiming", "/incident INC-1 resolve 已更换证书")
    for number in tickets.values():
        assert d.ticket(number)["status"] == "resolved"
    d.pushed("chen.gang")
    assert len(tg_to(fake_tg, 100001, "INC-1 已恢复")) == 1
    assert all(len([m for m in d.pushed(u) if "INC-1 已恢复" in m["text"]]) == 1 for u in [*REPORTERS[1:], LATE])
    rooms.run_once()
    assert "已更换证书" in "\n".join(b["text"]["content"] for b in appchat(fake_wecom, "send"))
    assert "已更换证书" in d.client.get("/incidents/INC-1").text


WU = 300002


def add_branches(d: Dialog) -> None:
    doc = yaml.safe_load(shared("org-sample.yaml").read_text(encoding="utf-8"))
    for person in doc["people"]:
        person["identities"].update(PEOPLE.get(person["id"], {}))
    for code in EXTRA_BRANCHES:
        doc["branches"].append({"code": code, "name": f"网点{code}", "region": "SD-JN" if code < "Q" else "SD-QD"})
        doc["people"].append({"id": f"r.{code.lower()}", "name": f"柜员{code}", "role": "reporter", "branch": code,
                              "identities": {"http": f"r.{code.lower()}"}})
    for top in doc["catalog"]:
        for leaf in top["children"]:
            if leaf["name"] == "医保接口":
                leaf["page"] = ["network"]
    with d.desk.sessions() as session:
        import_org(session=session, doc=doc)
        session.commit()


def tg_to(fake: FakeTelegram, chat: int, needle: str) -> list[str]:
    return [m["text"] for m in fake.sent if int(m["chat_id"]) == chat and needle in m["text"]]


_updates = iter(range(5000, 10**6))


def tg_say(d: Dialog, user: int, text: str) -> str:
    """A private Telegram message from `user`; the bot's answers in that chat."""
    before = len(tg_to_all(d, user))
    update = {"update_id": next(_updates), "message": {
        "message_id": next(_updates), "date": int(time.time()), "chat": {"id": user, "type": "private"},
        "from": {"id": user, "is_bot": False, "first_name": "x"}, "text": text,
        **({"entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]}
           if text.startswith("/") else {})}}
    answer = d.client.post("/channels/telegram/desk", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert answer.status_code == 200, answer.text
    return "\n\n".join(tg_to_all(d, user)[before:])


def tg_to_all(d: Dialog, chat: int) -> list[str]:
    fake: FakeTelegram = d.fake_tg  # type: ignore[attr-defined]
    return [m["text"] for m in fake.sent if int(m["chat_id"]) == chat]
