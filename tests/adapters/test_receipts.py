"""Messages are taken exactly once and their dialogue lives in the database: a redelivery after a lost answer
changes nothing, Redis going away loses nothing, and an unreachable database asks the sender to try again."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.adapters.server import free_port
from tests.conftest import shared
from tests.dialog import Dialog
from wuyou.adapters.app import create_app
from wuyou.adapters.bootstrap import Desk, build
from wuyou.adapters.settings import Settings
from wuyou.bot.messages import Chat, Inbound, Sender
from wuyou.desk.models import Receipt, Ticket
from wuyou.desk.org import import_org, load_org_file
from wuyou.store import RedisStore


def _tickets(desk: Desk) -> int:
    with desk.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Ticket)) or 0)


def test_an_answer_lost_after_the_commit_is_given_again_and_nothing_is_done_twice(dialog: Dialog) -> None:
    for text in ("/new", "1", "1"):
        dialog.say("zhang.san", text)
    # The first delivery is acted on, and its answer is lost (the server died before responding).
    first = dialog.desk.bot.receive(Inbound(platform="http", account="default", sender=Sender("zhang.san"),
                                            text="大厅打印机卡纸", chat=Chat("direct", "zhang.san"), dedup_key="m-42"))
    assert not first.duplicate and re.search(r"#\d+", first.replies[0].text)
    retried = dialog.post("zhang.san", "大厅打印机卡纸", message_id="m-42")
    assert retried["duplicate"] is True
    assert [r["text"] for r in retried["replies"]] == [r.text for r in first.replies]
    assert _tickets(dialog.desk) == 1
    # The dialogue moved on with the first delivery: the next message is not read as the description again.
    assert "#" in dialog.say("zhang.san", "进度")
    assert _tickets(dialog.desk) == 1


def test_the_same_message_id_from_another_user_is_another_message(dialog: Dialog) -> None:
    a = dialog.post("zhang.san", "进度", message_id="same")
    b = dialog.post("wang.fang", "进度", message_id="same")
    assert not a["duplicate"] and not b["duplicate"]
    with dialog.desk.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Receipt)) == 2


def test_without_redis_messages_are_still_taken(tmp_path: Path, sqlite_template: Path) -> None:
    """Redis holds nothing a message needs: with none listening, a whole report goes through (the rate limits
    let messages pass, as they say they do when their counters are unavailable)."""
    db = tmp_path / "wuyou.db"
    db.write_bytes(sqlite_template.read_bytes())
    gone = RedisStore(f"redis://127.0.0.1:{free_port()}/0")
    assert not gone.ping()
    desk = build(Settings(database_url=f"sqlite:///{db}", inprocess_worker=False, media_dir=tmp_path / "media"),
                 store=gone)
    try:
        with desk.sessions() as s:
            import_org(session=s, doc=load_org_file(shared("org-sample.yaml").read_text(encoding="utf-8")))
            s.commit()
        with Dialog(desk) as d:
            number = d.report("zhang.san", "1", "大厅打印机卡纸")
            assert f"#{number}" in d.say("zhang.san", "进度")
        assert _tickets(desk) == 1
    finally:
        desk.close()


def test_an_unreachable_database_asks_the_sender_to_send_again(tmp_path: Path) -> None:
    """Nothing can be taken: 503 with Retry-After on the HTTP channel (not a 200 with an apology, which a client
    would count as delivered), after riding out a few seconds of outage."""
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere"
    desk = build(Settings(database_url=url, inprocess_worker=False, media_dir=tmp_path / "media"))
    try:
        with TestClient(create_app(desk, run_worker=False)) as client:
            response = client.post("/channels/http/messages", json={"user": "zhang.san", "text": "打印机卡纸",
                                                                    "message_id": "m-1"})
        assert response.status_code == 503 and response.headers["retry-after"] == "1"
    finally:
        desk.close()


def test_an_answer_the_platform_stopped_waiting_for_is_queued_with_the_effects(dialog: Dialog) -> None:
    """WeChat gave up waiting before the engine committed: the answer is queued in the same transaction as the
    ticket (no instant where one exists without the other), and its redelivery is not answered twice."""
    from wuyou.bot.messages import PassiveReply
    from wuyou.desk.models import OutboxMessage

    for text in ("/new", "1", "1"):
        dialog.say("zhang.san", text)
    late = PassiveReply()
    assert late.give_up()  # the adapter's time ran out first
    answer = dialog.desk.bot.receive(Inbound(platform="http", account="default", sender=Sender("zhang.san"),
                                             text="大厅打印机卡纸", chat=Chat("direct", "zhang.san"),
                                             dedup_key="m-late", passive=late))
    assert answer.pushed and _tickets(dialog.desk) == 1
    with dialog.desk.sessions() as s:
        queued = s.scalars(select(OutboxMessage).where(OutboxMessage.template == "raw_text")).all()
        assert [m.params["text"] for m in queued] == [r.text for r in answer.replies]
        assert s.get(Receipt, answer.receipt).answered  # type: ignore[union-attr]
    in_time = PassiveReply()
    assert not in_time.engine_must_push() and not in_time.give_up()  # committed first: the adapter answers


def test_an_idempotency_key_header_dedups_as_message_id_does(dialog: Dialog) -> None:
    """DESIGN: the HTTP channel's dedup key is `message_id`, or the `Idempotency-Key` header (it was ignored)."""
    for text in ("/new", "1", "1"):
        dialog.say("zhang.san", text)

    def post(key: str) -> dict[str, object]:
        response = dialog.client.post("/channels/http/messages", headers={"Idempotency-Key": key},
                                      json={"user": "zhang.san", "text": "大厅打印机卡纸"})
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body

    first, again = post("k-78"), post("k-78")
    assert first["duplicate"] is False and again["duplicate"] is True and again["replies"] == first["replies"]
    assert _tickets(dialog.desk) == 1
