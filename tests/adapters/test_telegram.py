"""The Telegram channel: webhooks built as Telegram sends them, answers read back from a fake Bot API on
127.0.0.1 — the walking skeleton with both people on Telegram, refusals, exactly-once delivery, flood control,
long texts, groups, topics and migrated groups."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from tests.adapters.fake_telegram import BOT_ID, FILE_BYTES, TOKEN, USERNAME, FakeTelegram
from tests.clock import TestClock
from tests.dialog import Dialog
from wuyou.adapters import telegram
from wuyou.adapters.bootstrap import Desk
from wuyou.adapters.delivery import Deliverer, DeliveryFailed, HttpMailboxSender
from wuyou.adapters.telegram import RateLimiter, TelegramSender, split_text
from wuyou.bot.messages import Button
from wuyou.desk.models import Attachment, Identity, OutboxMessage, Person
from wuyou.store import MemoryStore

# PTB 22 itself reads the deprecated int form of RetryAfter.retry_after when it builds the error.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

SECRET = "s3cret-webhook-token"
CLERK = 100001  # zhang.san's Telegram id in ../shared/org-sample.yaml
ENGINEER = 200001  # li.wei's
COLLEAGUE = 100002  # 钱丽's (a colleague of 张三 at JN-001), given her in a test
USERS = {
    CLERK: {"id": CLERK, "is_bot": False, "first_name": "三", "last_name": "张", "language_code": "zh-hans"},
    ENGINEER: {"id": ENGINEER, "is_bot": False, "first_name": "伟", "last_name": "李"},
    COLLEAGUE: {"id": COLLEAGUE, "is_bot": False, "first_name": "洋", "last_name": "刘"},
    999: {"id": 999, "is_bot": False, "first_name": "Stranger"},
}
BOT = {"id": BOT_ID, "is_bot": True, "first_name": "无忧", "username": USERNAME}
GROUP = {"id": -1001234567890, "type": "supergroup", "title": "济南一支行"}
FORUM = {"id": -1009876543210, "type": "supergroup", "title": "战情室", "is_forum": True}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTelegram]:
    server = FakeTelegram()
    yield server
    server.close()


@pytest.fixture
def channels_file(tmp_path: Path, fake: FakeTelegram) -> Path:
    path = tmp_path / "channels.yaml"
    path.write_text(f"telegram:\n  main: {{token: '{TOKEN}', secret_token: {SECRET}, api_base: '{fake.url}'}}\n",
                    encoding="utf-8")
    fake.reset()
    return path


class TelegramServer:
    """Delivers updates as Telegram does and reads what the bot sent from the fake Bot API."""

    def __init__(self, client: TestClient, fake: FakeTelegram, desk: Desk) -> None:
        self.client = client
        self.fake = fake
        self.desk = desk
        self.update_id = 800000000
        self.message_id = 0
        account = desk.channels.telegram["main"]
        self.sender = TelegramSender(account, desk.store)
        self.deliverer = Deliverer(session_factory=desk.sessions, catalog=desk.catalog, clock=desk.clock,
                                   senders=[self.sender, HttpMailboxSender()], link_base=desk.settings.link_base)

    def post(self, update: dict[str, Any], *, secret: str | None = SECRET, account: str = "main") -> Response:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        response: Response = self.client.post(f"/channels/telegram/{account}", json=update, headers=headers)
        return response

    def update(self, **payload: Any) -> dict[str, Any]:
        self.update_id += 1
        return {"update_id": self.update_id, **payload}

    def message(self, user: int, text: str, *, chat: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
        self.message_id += 1
        message: dict[str, Any] = {
            "message_id": self.message_id, "date": int(time.time()), "from": USERS[user],
            "chat": chat or {"id": user, "type": "private", "first_name": USERS[user]["first_name"]},
            "text": text, **extra,
        }
        entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}] if text[:1] == "/" else []
        entities += [{"type": "mention", "offset": m.start(), "length": len(m.group())}
                     for m in re.finditer(r"(?<![\w/])@\w+", text)]
        if entities:
            message["entities"] = entities
        return self.update(message=message)

    def say(self, user: int, text: str, **kwargs: Any) -> str:
        """Send a message; the texts the bot sent back to the chat, joined by blank lines."""
        before = len(self.fake.sent)
        response = self.post(self.message(user, text, **kwargs))
        assert response.status_code == 200, response.text
        return "\n\n".join(m["text"] for m in self.fake.sent[before:])

    def buttons(self, chat: int) -> dict[str, str]:
        """Label → callback_data of the keyboard under the last message to `chat` that had one."""
        marked = [m for m in self.fake.messages(chat) if "reply_markup" in m]
        assert marked, f"no keyboard sent to {chat}"
        return {b["text"]: b["callback_data"] for row in marked[-1]["reply_markup"]["inline_keyboard"] for b in row}

    def press(self, user: int, label: str, *, chat: dict[str, Any] | None = None) -> str:
        """Press the button whose label contains `label` (in `user`'s chat with the bot, or under the last message
        with buttons in the group `chat`); the texts the bot sent back."""
        buttons = self.buttons(chat["id"] if chat is not None else user)
        data = next(d for text, d in buttons.items() if label in text)
        before = len(self.fake.sent)
        origin = {"message_id": 1, "date": int(time.time()), "chat": chat or {"id": user, "type": "private"},
                  "from": BOT, "text": "…"}
        query = {"id": f"cq{self.update_id}", "from": USERS[user], "chat_instance": "42", "data": data,
                 "message": origin}
        response = self.post(self.update(callback_query=query))
        assert response.status_code == 200, response.text
        return "\n\n".join(m["text"] for m in self.fake.sent[before:])

    def deliver(self) -> None:
        """Run the outbox until nothing more is due."""
        while self.deliverer.run_once():
            pass

    def pushed(self, chat: int, since: int) -> list[dict[str, Any]]:
        return self.fake.messages(chat)[since:]


@pytest.fixture
def tg(dialog: Dialog, fake: FakeTelegram) -> TelegramServer:
    app = dialog.client.app
    assert isinstance(app, FastAPI)
    if not any(getattr(r, "path", "").startswith("/channels/telegram") for r in app.routes):
        app.include_router(telegram.router)  # until create_app includes it
    return TelegramServer(dialog.client, fake, dialog.desk)


def _ticket_number(text: str) -> int:
    match = re.search(r"#(\d+)", text)
    assert match, text
    return int(match.group(1))


def test_walking_skeleton_with_both_people_on_telegram(dialog: Dialog, tg: TelegramServer, fake: FakeTelegram) -> None:
    reply = tg.say(CLERK, "打印机卡纸了")
    assert "1. 打印机卡纸的处理方法" in reply and "0 转人工" in reply
    suggestions = tg.buttons(CLERK)
    assert "1. 打印机卡纸的处理方法" in suggestions and "0. 转人工" in suggestions
    assert all(len(d.encode()) <= 64 and not d.isdigit() for d in suggestions.values())  # tokens, not actions

    assert "选个分类" in tg.press(CLERK, "转人工")
    # The articles' buttons are taken off once one is pressed (pressed again, "1" would pick a category)
    assert [str(p["message_id"]) for p in fake.attempts("editMessageReplyMarkup")] == ["1"]
    printer = next(label for label in tg.buttons(CLERK) if "打印机" in label)
    assert "影响大吗" in tg.press(CLERK, printer)
    assert "说说情况" in tg.press(CLERK, "较急")
    reply = tg.say(CLERK, "大厅那台惠普 一打印就卡 纸都皱了")
    assert "已报修" in reply
    number = _ticket_number(reply)

    seen = len(fake.messages(ENGINEER))
    tg.deliver()
    told = tg.pushed(ENGINEER, seen)
    assert len(told) == 1 and f"#{number}" in told[0]["text"]
    assert list(tg.buttons(ENGINEER)) == ["接单", "查看"]
    assert f"已接单 #{number}" in tg.press(ENGINEER, "接单")

    seen = len(fake.messages(CLERK))
    tg.deliver()
    assert any("李伟" in m["text"] for m in tg.pushed(CLERK, seen))

    assert "已标记解决" in tg.say(ENGINEER, f"解决 {number} 已更换硒鼓")
    seen = len(fake.messages(CLERK))
    tg.deliver()
    asked = tg.pushed(CLERK, seen)
    assert any("已更换硒鼓" in m["text"] for m in asked)
    assert "打个分" in tg.press(CLERK, "解决了")
    assert "已关闭" in tg.say(CLERK, "5")

    ticket = dialog.ticket(number)
    assert ticket["status"] == "closed" and ticket["rating"] == 5 and ticket["assignee"] == "li.wei"
    presses = 5
    assert len(fake.attempts("answerCallbackQuery")) == presses  # every press stops its spinner


def test_refusals_store_nothing(tg: TelegramServer, fake: FakeTelegram) -> None:
    update = tg.message(CLERK, "进度")
    assert tg.post(update, secret="wrong").status_code == 401
    assert tg.post(update, secret=None).status_code == 401
    assert tg.post(update, account="nope").status_code == 404
    assert fake.calls == []
    # Refused deliveries took nothing: the real one is still handled.
    assert tg.post(update).status_code == 200
    assert len(fake.messages(CLERK)) == 1


def test_malformed_and_oversized_bodies(tg: TelegramServer, fake: FakeTelegram) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "content-type": "application/json"}
    for body in (b"{not json", b"[]", b'{"message": {}}', b'{"update_id": 1, "message": {"text": 3}}'):
        assert tg.client.post("/channels/telegram/main", content=body, headers=headers).status_code == 400, body
    huge = b'{"update_id": 1, "x": "' + b"a" * (1024 * 1024) + b'"}'
    assert tg.client.post("/channels/telegram/main", content=huge, headers=headers).status_code == 413
    assert fake.calls == []
    # A well-formed update whose text is a number (Telegram never sends one; PTB does not check): read as text.
    update = tg.message(CLERK, "进度")
    update["message"]["text"] = 12345
    assert tg.post(update).status_code == 200
    assert fake.messages(CLERK) and "出了点问题" not in fake.messages(CLERK)[-1]["text"]


def test_the_same_update_twice_is_answered_once(tg: TelegramServer, fake: FakeTelegram) -> None:
    update = tg.message(CLERK, "/status")
    assert tg.post(update).status_code == 200
    assert tg.post(update).status_code == 200
    assert len(fake.messages(CLERK)) == 1


def test_an_unknown_sender_gets_the_binding_hint(tg: TelegramServer) -> None:
    assert "绑定" in tg.say(999, "你好")


def test_an_expired_button_is_answered_and_said_to_be_expired(tg: TelegramServer, fake: FakeTelegram) -> None:
    """Its action forgotten (a week old, or kept in a store that restarted): the person is told to type it — it
    did nothing at all, as if the bot were broken."""
    query = {"id": "cq-old", "from": USERS[CLERK], "chat_instance": "1", "data": "gone-token"}
    assert tg.post(tg.update(callback_query=query)).status_code == 200
    assert fake.attempts("answerCallbackQuery") == [{"callback_query_id": "cq-old"}]
    assert len(fake.sent) == 1 and "按钮已经失效" in str(fake.sent[0]), fake.sent


def test_flood_control_delays_a_notification_that_still_arrives_once(
    dialog: Dialog, tg: TelegramServer, fake: FakeTelegram, clock: TestClock
) -> None:
    dialog.say("zhang.san", "/new")
    dialog.say("zhang.san", "1")
    dialog.say("zhang.san", "1")
    number = _ticket_number(dialog.say("zhang.san", "打印机不出纸"))
    clock.set(clock())
    fake.flood(2, retry_after=1)
    tg.deliver()
    clock.advance(seconds=3)  # the first retry waits 2 s (the outbox's back-off is longer than retry_after)
    tg.deliver()
    assert fake.messages(ENGINEER) == []
    clock.advance(seconds=5)
    tg.deliver()
    told = fake.messages(ENGINEER)
    assert len(told) == 1 and f"#{number}" in told[0]["text"]
    assert [int(p["chat_id"]) for p in fake.attempts()] == [ENGINEER] * 3
    with dialog.desk.sessions() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.person_id == "li.wei")).all()
    assert [r.status for r in rows] == ["sent"]


def test_a_sent_key_is_never_posted_again(tg: TelegramServer, fake: FakeTelegram) -> None:
    for _ in range(3):  # the outbox retrying a row whose `sent` did not commit
        tg.sender.post(chat_id=str(ENGINEER), text="通知", buttons=[Button("接单", "/claim 1")], key="outbox-7")
    assert len(fake.messages(ENGINEER)) == 1


def test_a_long_text_goes_in_two_messages_buttons_under_the_last(tg: TelegramServer, fake: FakeTelegram) -> None:
    text = "日志" * 2500
    tg.sender.post(chat_id=str(CLERK), text=text, buttons=[Button("好的", "ok")], key="long-1")
    parts = fake.messages(CLERK)
    assert [len(p["text"]) for p in parts] == [4096, 904]
    assert "".join(p["text"] for p in parts) == text
    assert "reply_markup" not in parts[0] and "reply_markup" in parts[1]


def test_a_failed_second_part_does_not_repeat_the_first(tg: TelegramServer, fake: FakeTelegram) -> None:
    text = "甲" * 4096 + "乙" * 10
    fake.flood(1, after=1)
    with pytest.raises(DeliveryFailed):
        tg.sender.post(chat_id=str(CLERK), text=text, key="two-parts")
    tg.sender.post(chat_id=str(CLERK), text=text, key="two-parts")
    assert [p["text"] for p in fake.messages(CLERK)] == ["甲" * 4096, "乙" * 10]
    assert len(fake.attempts()) == 3


def test_split_prefers_line_breaks_and_counts_utf16() -> None:
    lines = "\n".join(f"第{i}行" + "字" * 50 for i in range(200))
    parts = split_text(lines, limit=1000)
    assert all(len(p) <= 1000 for p in parts) and all(p.startswith("第") for p in parts)
    assert "\n".join(parts) == lines
    emoji = "🙂" * 3000  # two UTF-16 units each
    assert [len(p) for p in split_text(emoji)] == [2048, 952]


def test_rate_limits_per_second_and_per_group() -> None:
    now = [1000.0]
    limiter = RateLimiter(MemoryStore(), clock=lambda: now[0])
    assert all(limiter.reserve("bot", str(1000 + i)) == 0 for i in range(30))
    assert 0 < limiter.reserve("bot", "1") <= 1
    now[0] += 1.01
    assert all(limiter.reserve("bot", "-100") == 0 for _ in range(20))
    now[0] += 30
    wait = limiter.reserve("bot", "-100")
    assert 29 < wait <= 30
    assert limiter.reserve("bot", "-200") == 0  # another group has its own minute
    now[0] += 30
    assert limiter.reserve("bot", "-100") == 0


def test_a_group_over_its_minute_is_retried_later(tg: TelegramServer, fake: FakeTelegram) -> None:
    group = str(GROUP["id"])
    for i in range(20):
        tg.sender.post(chat_id=group, text=f"第{i}条", key=f"g{i}")
    with pytest.raises(DeliveryFailed) as refused:
        tg.sender.post(chat_id=group, text="第21条", key="g20")
    assert refused.value.retry_after is not None and 50 < refused.value.retry_after <= 60
    assert len(fake.attempts()) == 20


def test_in_a_group_only_messages_addressed_to_the_bot_count(tg: TelegramServer, fake: FakeTelegram) -> None:
    assert tg.say(CLERK, "大家中午吃什么", chat=GROUP) == ""
    assert tg.say(CLERK, "/status@another_bot", chat=GROUP) == ""
    assert tg.say(CLERK, "/status", chat=GROUP) != ""
    assert tg.say(CLERK, f"/status@{USERNAME}", chat=GROUP) != ""
    reply = tg.say(CLERK, f"@{USERNAME} 进度", chat=GROUP)
    assert reply != "" and "没有没办完" in reply
    answer = fake.sent[-1]
    assert int(answer["chat_id"]) == GROUP["id"]
    assert answer["reply_parameters"]["message_id"] == tg.message_id  # quotes the asker in a busy group
    bot_message = {"message_id": 5, "date": 0, "chat": GROUP, "from": BOT,
                   "text": "…"}
    assert tg.say(CLERK, "进度", chat=GROUP, reply_to_message=bot_message) != ""


def test_a_forum_topic_is_answered_in_its_thread(tg: TelegramServer, fake: FakeTelegram) -> None:
    opening = {"message_id": 77, "date": 0, "chat": FORUM, "from": BOT,
               "forum_topic_created": {"name": "#12 战情室", "icon_color": 7322096}, "message_thread_id": 77,
               "is_topic_message": True}
    topic = {"message_thread_id": 77, "is_topic_message": True, "reply_to_message": opening}
    assert tg.say(ENGINEER, "收到，在看", chat=FORUM, **topic) == ""  # the bot opened the topic: not a reply to it
    assert tg.say(ENGINEER, f"@{USERNAME} 待办", chat=FORUM, **topic) != ""
    assert int(fake.sent[-1]["message_thread_id"]) == 77


def test_chat_migration_is_recorded_and_followed(tg: TelegramServer, fake: FakeTelegram) -> None:
    old, new = -4001, -1004001
    group = {"id": old, "type": "group", "title": "济南网点群"}
    update = tg.update(message={"message_id": 9, "date": int(time.time()), "chat": group, "from": USERS[CLERK],
                                "migrate_to_chat_id": new})
    assert tg.post(update).status_code == 200
    assert fake.sent == []
    tg.sender.post(chat_id=str(old), text="通报", key="m1")
    assert [int(m["chat_id"]) for m in fake.sent] == [new]
    # A group the bot had not heard about: Telegram's refusal names the new id, which is kept too.
    fake.migrated[-4002] = -1004002
    tg.sender.post(chat_id="-4002", text="通报", key="m2")
    tg.sender.post(chat_id="-4002", text="通报二", key="m3")
    assert [int(p["chat_id"]) for p in fake.attempts()][-3:] == [-4002, -1004002, -1004002]


def test_an_answer_telegram_will_not_take_now_goes_through_the_outbox(
    tg: TelegramServer, fake: FakeTelegram, clock: TestClock
) -> None:
    fake.flood(1)
    assert tg.say(CLERK, "进度") == ""
    clock.set(clock())
    clock.advance(seconds=5)
    tg.deliver()
    late = fake.messages(CLERK)
    assert len(late) == 1 and "没有没办完" in late[0]["text"]


def test_a_photo_with_a_caption_is_downloaded_and_kept(tg: TelegramServer, fake: FakeTelegram) -> None:
    photo = [{"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90},
             {"file_id": "large", "file_unique_id": "l", "width": 1280, "height": 960}]
    update = tg.message(CLERK, "")
    del update["message"]["text"]
    update["message"]["photo"] = photo
    before = len(fake.sent)
    assert tg.post(update).status_code == 200
    assert "收到 1 个附件" in "".join(m["text"] for m in fake.sent[before:])
    assert [p["file_id"] for m, p in fake.calls if m == "getFile"] == ["large"]
    with tg.desk.sessions() as s:
        stored = s.scalars(select(Attachment)).all()
        assert [(a.kind, a.person_id) for a in stored] == [("image", "zhang.san")]
        assert tg.desk.bot.media.get(stored[0].sha256) == FILE_BYTES


def test_a_ticket_reported_in_a_group_is_answered_in_the_group(
    dialog: Dialog, tg: TelegramServer, fake: FakeTelegram
) -> None:
    """DESIGN: a ticket opened from a group keeps the group as the place to answer (the reporter may never have
    opened a private chat with the bot, which a bot cannot start)."""
    at = f"@{USERNAME}"
    tg.say(CLERK, f"{at} 报修", chat=GROUP)
    tg.say(CLERK, f"{at} 1", chat=GROUP)
    tg.say(CLERK, f"{at} 1", chat=GROUP)
    number = _ticket_number(tg.say(CLERK, f"{at} 大厅那台惠普 一打印就卡", chat=GROUP))
    # 钱丽, of 张三's branch, reports the same in the group: she follows #number, and the group is where she reads
    # of it too. 李伟 does too, but staff get their news 1:1 (an engineer's cards must not land in a branch group).
    with dialog.desk.sessions() as session:
        session.add(Person(id="qian.li", name="钱丽", role="reporter", branch_code="JN-001", active=True))
        session.flush()
        session.add(Identity(platform="telegram", external_id=str(COLLEAGUE), person_id="qian.li"))
        session.commit()
    assert f"#{number}" in tg.say(COLLEAGUE, f"{at} 打印机又卡纸了", chat=GROUP)
    assert f"#{number}" in tg.say(ENGINEER, f"{at} 打印机也卡纸", chat=GROUP)
    private_before, group_before = len(fake.messages(CLERK)), len(fake.messages(GROUP["id"]))
    colleague_before, engineer_before = len(fake.messages(COLLEAGUE)), len(fake.messages(ENGINEER))
    assert "已接单" in dialog.say("wang.fang", f"接单 {number}")
    tg.deliver()
    (told,) = [m["text"] for m in tg.pushed(GROUP["id"], group_before) if f"#{number}" in m["text"]]
    assert told.startswith("张三，您的工单") and "王芳" in told
    assert len(fake.messages(CLERK)) == private_before  # not 1:1 as well
    assert not [m for m in tg.pushed(COLLEAGUE, colleague_before) if f"#{number}" in m["text"]]
    assert [m for m in tg.pushed(ENGINEER, engineer_before) if f"#{number}" in m["text"] and "王芳" in m["text"]]

    # A ticket reported 1:1 is still answered 1:1.
    other = dialog.report("zhang.san", "2", "POS机刷卡没反应")
    group_before = len(fake.messages(GROUP["id"]))
    dialog.say("wang.fang", f"接单 {other}")
    tg.deliver()
    assert any(f"#{other}" in m["text"] for m in fake.messages(CLERK)[private_before:])
    assert len(fake.messages(GROUP["id"])) == group_before


def test_a_ticket_reported_in_a_forum_topic_hears_of_it_in_that_topic(
    dialog: Dialog, tg: TelegramServer, fake: FakeTelegram
) -> None:
    """In a group with topics, the reporter's news go to the topic the ticket was reported in (they went to the
    group's General, where nobody of the topic looks)."""
    at, topic = f"@{USERNAME}", {"message_thread_id": 91, "is_topic_message": True}
    tg.say(CLERK, f"{at} 报修", chat=FORUM, **topic)
    tg.say(CLERK, f"{at} 1", chat=FORUM, **topic)
    tg.say(CLERK, f"{at} 1", chat=FORUM, **topic)
    number = _ticket_number(tg.say(CLERK, f"{at} 大厅那台惠普 一打印就卡", chat=FORUM, **topic))
    before = len(fake.messages(FORUM["id"]))
    assert "已接单" in dialog.say("wang.fang", f"接单 {number}")
    tg.deliver()
    (told,) = [m for m in tg.pushed(FORUM["id"], before) if f"#{number}" in m["text"]]
    assert told["text"].startswith("张三，您的工单")
    assert int(told["message_thread_id"]) == 91


def test_a_button_in_a_group_is_for_the_one_it_answers(
    dialog: Dialog, tg: TelegramServer, fake: FakeTelegram
) -> None:
    """钱丽 presses the article button under the bot's answer to 张三 in their branch's group: it is not hers (its
    "1" answered whatever her own dialogue had open); she is told so, nobody's dialogue moves, and 张三's still
    works. The same for a reporter's news in the group, which only the reporter answers."""
    with dialog.desk.sessions() as session:
        session.add(Person(id="qian.li", name="钱丽", role="reporter", branch_code="JN-001", active=True))
        session.flush()
        session.add(Identity(platform="telegram", external_id=str(COLLEAGUE), person_id="qian.li"))
        session.commit()
    at = f"@{USERNAME}"
    assert "选个分类" in tg.say(COLLEAGUE, f"{at} 报修", chat=GROUP)  # her own dialogue, waiting for a category
    assert "先试试" in tg.say(CLERK, f"{at} 大厅打印机卡纸了 一打印就卡", chat=GROUP)
    assert tg.press(COLLEAGUE, "0", chat=GROUP) == ""  # 张三's 转人工, pressed by her
    (notice,) = [p for m, p in fake.calls if m == "answerCallbackQuery"][-1:]
    assert "给群里另一位同事" in str(notice.get("text")), notice
    assert "选个分类" in tg.press(CLERK, "0", chat=GROUP)  # his own press works
    # (the answer quotes the message whose button was pressed, as answers to words quote them)
    assert fake.messages(GROUP["id"])[-1]["reply_parameters"]["message_id"] == 1
    assert "影响大吗" in tg.say(COLLEAGUE, f"{at} 1", chat=GROUP)  # her dialogue is where it was
    tg.say(CLERK, f"{at} 1", chat=GROUP)
    tg.say(CLERK, f"{at} 1", chat=GROUP)
    number = _ticket_number(tg.say(CLERK, f"{at} 大厅那台惠普", chat=GROUP))
    dialog.say("wang.fang", f"接单 {number}")
    dialog.say("wang.fang", f"解决 {number} 换了搓纸轮")
    tg.deliver()
    assert "解决了吗" in fake.messages(GROUP["id"])[-1]["text"]
    assert tg.press(COLLEAGUE, "没解决", chat=GROUP) == ""
    assert "已确认解决" in tg.press(CLERK, "解决了", chat=GROUP)
