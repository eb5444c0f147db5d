"""A problem back after its resolution (conversations/04): before any article, the reporter is asked whether it is
that ticket's problem again — 1 reopens it to the same engineer (within the reopen window) or files a new ticket
linked to it (after the window, for weeks), 2 reports a new problem."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tests.clock import TestClock
from tests.dialog import Dialog
from wuyou.adapters.bootstrap import Desk
from wuyou.desk.incidents.models import FaultReport
from wuyou.desk.models import Person


def _resolved(d: Dialog, clock: TestClock) -> int:
    clock.set(datetime(2025, 3, 10, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))  # a Monday: in working hours, 2 days on
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
    clock.advance(minutes=2)
    answer = d.say("zhang.san", "1")
    assert f"#{number} 已重新打开" in answer and "李伟" in answer and "前解决" in answer, answer
    ticket = d.ticket(number)
    assert ticket["status"] == "reopened" and ticket["assignee"] == "li.wei"
    assert [e["body"] for e in ticket["timeline"] if e["kind"] == "reopened"] == ["打印机又卡纸了！！周一刚修的"]
    [card] = d.pushed("li.wei")  # to the same engineer: what they did last time, the new SLA times, 收到
    assert f"🔁 #{number} 被 张三 重新打开（第 1 次）" in card["text"] and "更换搓纸轮" in card["text"], card
    assert "响应时限" in card["text"] and "{" not in card["text"], card
    assert [b["label"] for b in card["buttons"]] == ["收到", "查看"], card
    assert d.pushed("zhao.min") == []  # a first reopen to an engineer still on the team: the lead is not bothered
    clock.advance(minutes=9)
    acknowledged = d.press("li.wei", card["buttons"][0]["action"])  # 收到 acknowledges: claimed again
    assert f"#{number}（响应用时 9 分钟）" in acknowledged, acknowledged  # since the reopen
    claimed = [e for e in d.ticket(number)["timeline"] if e["kind"] == "claimed"][-1]
    assert claimed["data"]["response_minutes"] == 9  # since the reopen, not since the first report
    assert "李伟" in d.pushed_text("zhang.san")
    assert f"#{number} · P3 · 已接单（重开 1 次） · 李伟" in d.say("li.wei", f"查看 {number}")


def test_a_typed_shoudao_to_the_reopened_tickets_card_takes_it_back(dialog: Dialog, clock: TestClock) -> None:
    """On WeCom an engineer answers the reopen card by typing 收到 as often as by pressing it: the same thing (it
    said "好的 👌" and left the response clock running, the reporter never told)."""
    d = dialog
    number = _resolved(d, clock)
    d.say("zhang.san", "打印机又卡纸了！！周一刚修的")
    d.say("zhang.san", "1")
    d.pushed("li.wei")
    d.pushed("zhang.san")
    clock.advance(minutes=9)
    answer = d.say("li.wei", "收到")
    assert f"已接单 #{number}（响应用时 9 分钟）" in answer, answer
    ticket = d.ticket(number)
    assert ticket["status"] == "claimed" and ticket["assignee"] == "li.wei"
    assert "李伟" in d.pushed_text("zhang.san")
    assert d.say("li.wei", "收到") == "好的 👌"  # nothing left to take: as before


def test_a_second_reopen_tells_the_lead_and_an_engineer_gone_hands_it_back_to_the_team(
        dialog: Dialog, clock: TestClock, desk: Desk) -> None:
    d = dialog
    number = _resolved(d, clock)
    d.say("zhang.san", "打印机又卡纸了！！周一刚修的")
    d.say("zhang.san", "1")
    d.say("li.wei", f"解决 {number} 更换纸盒")
    d.say("zhang.san", "还不行")  # the second reopen (conversations/07 row 17: 回复“还不行”重新打开)
    told = d.pushed_text("zhao.min")
    assert f"#{number} 被 张三 重新打开（第 2 次" in told and "反复出现" in told and "更换纸盒" in told, told
    d.say("li.wei", f"接单 {number}")
    d.say("li.wei", f"解决 {number} 更换定影组件")
    with desk.sessions() as session:  # 李伟 leaves the desk
        engineer = session.get(Person, "li.wei")
        assert engineer is not None
        engineer.active = False
        session.commit()
    d.pushed("wang.fang")
    answer = d.say("zhang.san", "没解决")
    assert "原来的工程师现在不在济南终端组" in answer, answer
    ticket = d.ticket(number)
    assert ticket["status"] == "reopened" and ticket["assignee"] is None
    queue = d.pushed_text("wang.fang")
    assert f"#{number}" in queue and "原处理人 李伟 已不在本组" in queue and "更换定影组件" in queue, queue
    assert "已回到组内待接单" in d.pushed_text("zhao.min")
    assert f"#{number}" in d.say("wang.fang", "待办")


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
    clock.advance(days=29)  # a month after the resolution: long enough ago to be a new problem
    assert f"#{number}" not in d.say("zhang.san", "打印机又卡纸了！！")


def test_past_the_reopen_window_the_problem_back_is_a_new_ticket_linked_to_the_old(
        dialog: Dialog, clock: TestClock, desk: Desk) -> None:
    d = dialog
    number = _resolved(d, clock)
    clock.advance(days=5)  # a week after the resolution: #number can no longer be reopened
    asked = d.say("zhang.san", "打印机又卡纸了！！上周刚修的")
    assert f"#{number}" in asked and "更换搓纸轮" in asked and "重开期限" in asked, asked
    assert f"1. 是，新报修（关联 #{number}）" in asked and "重新打开" not in asked.split("\n")[-2], asked
    assert "打印机卡纸的处理方法" not in asked
    answer = d.say("zhang.san", "1")  # no articles, no questions: #number's category and urgency
    assert f"（关联 #{number}）" in answer and "已报修" in answer, answer
    new = int(answer.split("工单号 #", 1)[1].split("（", 1)[0])
    earlier, ticket = d.ticket(number), d.ticket(new)
    assert ticket["follows"] == number and earlier["followed_by"] == [new]
    assert earlier["status"] == "closed"
    assert ticket["status"] == "new" and ticket["category"] == earlier["category"]
    assert ticket["urgency"] == earlier["urgency"] and ticket["description"] == "打印机又卡纸了！！上周刚修的"
    assert [e["body"] for e in ticket["timeline"] if e["kind"] == "follows"] == [f"#{number}"]
    assert [e["body"] for e in earlier["timeline"] if e["kind"] == "followed_up"] == [f"#{new}"]
    told = d.pushed_text("li.wei")  # the earlier ticket's engineer hears of it with the team
    assert f"#{new}" in told and f"🔁 #{number} 的问题又出现了" in told and "更换搓纸轮" in told, told
    assert f"打印机又卡纸了 上周刚修的（关联 #{number}）" in d.say("zhang.san", "进度")
    with desk.sessions() as session:  # a report like any other for surge detection, tied to its ticket
        report = session.scalars(select(FaultReport).where(FaultReport.ticket_id == new)).one()
        assert report.text == "打印机又卡纸了！！上周刚修的" and report.category_id is not None


def test_past_the_reopen_window_a_new_problem_after_all_goes_the_usual_way(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    number = _resolved(d, clock)
    clock.advance(days=10)
    assert "重开期限" in d.say("zhang.san", "打印机又卡纸了 纸卡在里面")
    assert "1. 打印机卡纸的处理方法" in d.say("zhang.san", "2")
    assert d.ticket(number)["followed_by"] == []


def test_the_device_alone_said_to_be_back_is_asked_about(dialog: Dialog, clock: TestClock) -> None:
    """"打印机又不行了" shares only the device with the resolved ticket's words, but says the fault is back: asked
    whether it is that problem (it went straight to the articles); 电脑又不行了 is another thing."""
    d = dialog
    number = _resolved(d, clock)
    asked = d.say("zhang.san", "打印机又不行了")
    assert f"#{number}" in asked and "又出现了" in asked, asked
    d.say("zhang.san", "取消")
    assert f"#{number}" not in d.say("zhang.san", "电脑又不行了")


def test_still_broken_with_no_fault_named_is_asked_about_the_ticket_resolved_last(dialog: Dialog,
                                                                                   clock: TestClock) -> None:
    """"还没好 又卡了" and "还不行" after a confirmed and rated ticket name no fault of their own: they are about it
    (they were offered the articles of whatever the matcher made of 卡 or 不行)."""
    d = dialog
    number = _resolved(d, clock)
    for said in ("还没好 又卡了", "还不行"):
        asked = d.say("zhang.san", said)
        assert f"#{number}" in asked and "又出现了" in asked and "处理方法" not in asked, (said, asked)
        d.say("zhang.san", "取消")
    d.say("zhang.san", "还不行")
    assert f"#{number} 已重新打开" in d.say("zhang.san", "1")
    assert d.ticket(number)["status"] == "reopened"
