"""A process too busy to get a database connection does not take the message: it is refused for redelivery
(`Unavailable`), never answered with an apology that drops it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from wuyou.adapters.bootstrap import Desk
from wuyou.bot.engine import Engine, Unavailable
from wuyou.bot.messages import Chat, Inbound, Sender
from wuyou.db import make_engine, make_session_factory
from wuyou.desk.incidents.models import FaultReport


def test_a_message_that_finds_no_free_connection_is_not_taken_and_is_taken_once_later(sample_desk: Desk) -> None:
    desk = sample_desk
    # The same desk, on a pool of one connection that waits 0.2 s for it.
    tiny = make_engine(desk.db.url.render_as_string(hide_password=False), pool_size=1, max_overflow=0,
                       pool_timeout=0.2)
    bot = desk.bot
    busy = Engine(session_factory=make_session_factory(tiny), store=bot.store, index=bot.index, catalog=bot.catalog,
                  clock=bot.clock, tz=bot.tz, public_url=bot.public_url, media=bot.media, surge=bot.surge,
                  limits=bot.limits)
    message = Inbound(platform="http", account="default", sender=Sender(platform_user_id="zhang.san"),
                      text="打印机卡纸了", chat=Chat(kind="direct", id="zhang.san"), dedup_key="m-1")
    try:
        with tiny.connect(), pytest.raises(Unavailable):  # every connection of the pool is in use
            busy.receive(message)
        with desk.sessions() as s:
            assert s.scalar(select(func.count()).select_from(FaultReport)) == 0  # nothing was taken
        answer = busy.receive(message)  # delivered again, with a connection free
        assert not answer.duplicate and "先试试" in answer.replies[0].text
        assert busy.receive(message).duplicate
        with desk.sessions() as s:
            assert s.scalar(select(func.count()).select_from(FaultReport)) == 1
    finally:
        tiny.dispose()
