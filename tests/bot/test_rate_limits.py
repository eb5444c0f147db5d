"""Per-person and per-branch limits on inbound messages: a polite "please wait" once, then quiet until the
window turns."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.clock import TestClock
from tests.dialog import Dialog
from wuyou.bot.engine import InboundLimits


def test_a_reporter_flooding_the_bot_is_asked_to_wait_once_then_ignored_until_the_minute_turns(
        dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(datetime(2026, 11, 23, 2, 0, 5, tzinfo=UTC))
    d.desk.bot.limits = InboundLimits(person_per_window=5, branch_per_window=100, window_seconds=60)
    for _ in range(5):
        assert d.post("zhang.san", "在吗")["replies"]
    assert "请60秒后再发" in d.say("zhang.san", "在吗")
    assert d.post("zhang.san", "在吗")["replies"] == []  # the flood gets no flood back
    assert d.post("li.wei", "/queue")["replies"]  # others are not affected
    clock.advance(seconds=60)
    assert "打印机" in d.say("zhang.san", "打印机卡纸了")


def test_a_whole_branch_has_a_limit_of_its_own(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(datetime(2026, 11, 23, 2, 0, 5, tzinfo=UTC))
    d.desk.bot.limits = InboundLimits(person_per_window=50, branch_per_window=3, window_seconds=60)
    people = ["zhang.san", "zhang.san", "zhang.san"]
    for person in people:
        assert d.post(person, "在吗")["replies"]
    assert "本网点这一分钟的消息太多了" in d.say("zhang.san", "在吗")
    assert d.post("ma.jing", "在吗")["replies"]  # another branch (青岛) goes on
