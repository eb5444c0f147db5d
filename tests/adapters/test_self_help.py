"""The same problem again after the reporter solved it with an article (conversations/02): the offer says so, and
the ticket — if it comes to one — carries it for the engineer."""

from __future__ import annotations

import re

from tests.clock import TestClock
from tests.dialog import Dialog


def test_an_article_that_helped_before_is_recalled_and_the_ticket_carries_it(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    assert "张三您好，先试试这些办法" in d.say("zhang.san", "打印机卡纸了")
    d.say("zhang.san", "1")
    assert "不用报修" in d.say("zhang.san", "解决了")
    clock.advance(days=3)
    again = d.say("zhang.san", "打印机又卡纸了 上周五弄好了今天又卡 急死了")
    assert "又遇到了呀" in again and "您按第 1 条处理过" in again and "1. 打印机卡纸的处理方法" in again, again
    assert "先试试这些办法" in d.say("liu.yang", "打印机卡纸了")  # someone it did not help: the usual words
    d.say("zhang.san", "0")
    d.say("zhang.san", "1")
    d.say("zhang.san", "2")
    created = d.say("zhang.san", "大厅那台惠普 一打印就卡 纸都皱了")
    number = int(re.search(r"#(\d+)", created).group(1))  # type: ignore[union-attr]
    [event] = [e for e in d.ticket(number)["timeline"] if e["kind"] == "created"]
    assert event["data"]["self_helped"]["article"] == "KB-P001"
    card = d.pushed_text("li.wei")
    assert f"#{number}" in card and "按 KB-P001 自助处理过一次" in card, card


def test_an_article_that_helped_long_ago_is_not_recalled(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    d.say("zhang.san", "打印机卡纸了")
    d.say("zhang.san", "1")
    d.say("zhang.san", "解决了")
    clock.advance(days=31)
    assert "先试试这些办法" in d.say("zhang.san", "打印机又卡纸了")
