"""A problem back within days of its resolution (conversations/04): before any article, the reporter is asked
whether it is that ticket's problem again — 1 reopens it to the same engineer, 2 reports a new problem."""

from __future__ import annotations

from tests.clock import TestClock
from tests.dialog import Dialog


def _resolved(d: Dialog, clock: TestClock) -> int:
    number = d.report("zhang.san", "1", "打印机卡纸 出不了凭条")
    d.say("li.wei", f"接单 {number}")
    d.say("li.wei", f"解决 {number} 更换搓纸轮")
    d.say("zhang.san", "解决了")
    d.say("zhang.san", "5")
    assert d.ticket(number)["status"] == "closed"
    d.pushed("li.wei")
    clock.advance(days=2)
    return number


def test_the_same_problem_again_reopens_the_ticket(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    number = _resolved(d, clock)
    asked = d.say("zhang.san", "打印机又卡纸了！！周一刚修的")
    assert f"#{number}" in asked and "更换搓纸轮" in asked and "李伟" in asked, asked
    assert "打印机卡纸的处理方法" not in asked  # not the article again
    answer = d.say("zhang.san", "1")
    assert f"#{number} 已重新打开" in answer and "李伟" in answer, answer
    ticket = d.ticket(number)
    assert ticket["status"] == "reopened" and ticket["assignee"] == "li.wei"
    assert [e["body"] for e in ticket["timeline"] if e["kind"] == "reopened"] == ["打印机又卡纸了！！周一刚修的"]
    assert f"#{number}" in d.pushed_text("li.wei")


def test_a_new_problem_after_all_goes_the_usual_way(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    number = _resolved(d, clock)
    assert f"#{number}" in d.say("zhang.san", "打印机又卡纸了 纸卡在里面")
    assert "1. 打印机卡纸的处理方法" in d.say("zhang.san", "2")  # the KB's answer for it, as for any report
    assert d.ticket(number)["status"] == "closed"


def test_another_problem_or_an_old_ticket_is_not_asked_about(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    number = _resolved(d, clock)
    assert f"#{number}" not in d.say("zhang.san", "VPN连不上 一直提示认证失败")
    d.say("zhang.san", "/cancel")
    clock.advance(days=2)  # four days after the resolution: it can no longer be reopened
    assert f"#{number}" not in d.say("zhang.san", "打印机又卡纸了！！")
