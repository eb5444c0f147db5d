"""Queue care by the worker: unclaimed reminders, auto-release of idle claims, auto-close of unanswered
resolutions — each once per due moment, through the outbox."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tests.clock import TestClock
from tests.dialog import Dialog
from wuyou.desk.models import Person

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


report = Dialog.report


def test_unclaimed_tickets_are_recalled_every_half_hour(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(at("2025-03-11T10:00"))
    n = report(d, "zhang.san", "1", "打印机卡纸")
    d.pushed("li.wei")
    clock.set(at("2025-03-11T10:29"))
    d.desk.housekeeping_round()
    assert d.pushed("li.wei") == []
    clock.set(at("2025-03-11T10:30"))
    d.desk.housekeeping_round()
    d.desk.housekeeping_round()
    reminded = d.pushed("li.wei")
    assert len(reminded) == 1 and "30 分钟没人接单" in reminded[0]["text"]
    assert f"/claim {n}" in str(reminded[0]["buttons"])
    clock.set(at("2025-03-11T11:00"))
    d.desk.housekeeping_round()
    assert "60 分钟" in d.pushed_text("wang.fang")  # and again, once per interval
    d.say("li.wei", f"接单 {n}")
    clock.set(at("2025-03-11T12:00"))
    d.desk.housekeeping_round()
    assert "没人接单" not in d.pushed_text("wang.fang")


def test_unclaimed_reminders_are_few_and_in_working_hours(dialog: Dialog, clock: TestClock) -> None:
    """Three reminders (then the SLA's breach has it go to the lead), none at night for a ticket of working hours."""
    d = dialog
    clock.set(at("2025-03-11T16:50"))  # Tuesday; JN-001's terminal team works until 17:30
    report(d, "zhang.san", "1", "打印机卡纸")
    d.pushed("li.wei")
    for moment in ("17:20", "17:50", "18:20", "23:00"):
        clock.set(at(f"2025-03-11T{moment}"))
        d.desk.housekeeping_round()
    assert len([m for m in d.pushed("li.wei") if "没人接单" in m["text"]]) == 1  # 17:20 only: after 17:30 none
    for moment in ("08:30", "09:00", "09:30", "10:00", "10:30", "11:00"):
        clock.set(at(f"2025-03-12T{moment}"))
        d.desk.housekeeping_round()
    assert len([m for m in d.pushed("li.wei") if "没人接单" in m["text"]]) == 2  # three in all


def test_idle_claims_are_released_and_worked_ones_are_not(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(at("2025-03-11T09:00"))
    idle = report(d, "zhang.san", "1", "打印机卡纸")
    worked = report(d, "liu.yang", "1", "打印机不出纸")
    d.say("li.wei", f"接单 {idle}")
    d.say("li.wei", f"接单 {worked}")
    d.say("li.wei", f"备注 {worked} 在查")
    d.pushed("li.wei")
    d.pushed("wang.fang")
    d.pushed("zhao.min")
    clock.set(at("2025-03-11T13:00"))
    d.desk.housekeeping_round()
    d.desk.housekeeping_round()
    assert d.ticket(idle)["status"] == "new" and d.ticket(idle)["assignee"] is None
    assert d.ticket(worked)["status"] == "in_progress" and d.ticket(worked)["assignee"] == "li.wei"
    for person in ("li.wei", "wang.fang", "zhao.min"):
        told = d.pushed(person)
        assert len(told) == 1 and "自动退回" in told[0]["text"] and f"#{idle}" in told[0]["text"]
    # Its reporter last heard "李伟 has it": told that the team finds another engineer (not that it idled).
    reporter = d.pushed_text("zhang.san")
    assert f"#{idle} 由" in reporter and "重新安排工程师" in reporter and "李伟" in reporter, reporter


def test_an_idle_claim_counts_business_hours_and_is_released_only_in_them(dialog: Dialog, clock: TestClock) -> None:
    """Claimed at 14:43, idle: at 18:45 (four hours by the wall clock, JN-001 closed since 17:30) it stays the
    engineer's overnight; four business hours are up at 09:43 the next morning (2 h 47 min on Tuesday), and it goes
    back then."""
    d = dialog
    clock.set(at("2025-03-11T14:40"))  # a Tuesday
    n = report(d, "zhang.san", "1", "打印机卡纸")
    clock.set(at("2025-03-11T14:43"))
    d.say("li.wei", f"接单 {n}")
    for moment in ("2025-03-11T18:45", "2025-03-11T23:00", "2025-03-12T08:40", "2025-03-12T09:42"):
        clock.set(at(moment))
        d.desk.housekeeping_round()
        assert d.ticket(n)["assignee"] == "li.wei", moment
    assert "自动退回" not in d.pushed_text("li.wei")
    clock.set(at("2025-03-12T09:44"))
    d.desk.housekeeping_round()
    assert d.ticket(n)["status"] == "new" and d.ticket(n)["assignee"] is None
    assert "自动退回" in d.pushed_text("li.wei")


def test_the_tickets_of_a_retired_engineer_go_back_to_the_team(dialog: Dialog, clock: TestClock) -> None:
    """王芳 leaves the desk (`active: false`): her tickets stayed hers, out of every queue, nobody told."""
    d = dialog
    clock.set(at("2025-03-11T09:00"))
    held = report(d, "zhang.san", "1", "打印机卡纸")
    d.say("wang.fang", f"接单 {held}")
    kept = report(d, "liu.yang", "1", "打印机不出纸")
    d.say("li.wei", f"接单 {kept}")
    for person in ("li.wei", "wang.fang", "zhao.min"):
        d.pushed(person)
    with d.desk.sessions() as s:
        leaver = s.get(Person, "wang.fang")
        assert leaver is not None
        leaver.active = False
        s.commit()
    clock.set(at("2025-03-11T09:05"))
    d.desk.housekeeping_round()
    assert d.ticket(held)["status"] == "new" and d.ticket(held)["assignee"] is None
    assert d.ticket(kept)["assignee"] == "li.wei"  # (an active engineer's: untouched)
    for person in ("li.wei", "zhao.min"):
        told = d.pushed_text(person)
        assert f"↩️ #{held}" in told and "王芳 已停用，退回本组待接单" in told, (person, told)
    assert f"#{held}" in d.say("li.wei", "待办")  # in the team's queue again
    d.desk.housekeeping_round()
    assert d.pushed("li.wei") == []  # once


def test_unanswered_resolutions_close_after_three_days(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(at("2025-03-10T09:00"))
    n = report(d, "zhang.san", "1", "打印机卡纸")
    d.say("li.wei", f"接单 {n}")
    clock.set(at("2025-03-10T10:00"))
    d.say("li.wei", f"解决 {n} 清理了卡纸")
    d.pushed("zhang.san")
    clock.set(at("2025-03-13T09:59"))
    d.desk.housekeeping_round()
    assert d.ticket(n)["status"] == "resolved"
    clock.set(at("2025-03-13T10:00"))
    d.desk.housekeeping_round()
    ticket = d.ticket(n)
    assert ticket["status"] == "closed"
    assert ticket["timeline"][-1]["kind"] == "auto_closed" and ticket["timeline"][-1]["data"]["unconfirmed"]
    assert "自动关闭" in d.pushed_text("zhang.san")
    assert "不能这样操作" in d.say("zhang.san", f"/reopen {n} 又坏了")  # the reopen window has passed too


def test_an_unanswered_question_is_asked_again_once_then_the_ticket_is_resolved(dialog: Dialog,
                                                                                 clock: TestClock) -> None:
    d = dialog
    clock.set(at("2025-03-10T09:00"))
    n = report(d, "zhang.san", "1", "打印机卡纸")
    d.say("li.wei", f"接单 {n}")
    clock.set(at("2025-03-10T10:00"))
    d.say("li.wei", f"追问 {n} 是哪一台打印机")
    d.pushed("zhang.san")
    d.pushed("li.wei")
    clock.set(at("2025-03-11T09:59"))
    d.desk.housekeeping_round()
    assert d.pushed("zhang.san") == []
    clock.set(at("2025-03-11T10:00"))
    d.desk.housekeeping_round()
    again = d.pushed("zhang.san")
    assert len(again) == 1, again
    text = again[0]["text"]
    assert f"#{n}" in text and "还在等您回复" in text and "李伟" in text and "是哪一台打印机" in text
    assert "03-13 10:00 前没有回复" in text
    clock.set(at("2025-03-12T10:00"))
    d.desk.housekeeping_round()  # once only
    assert d.pushed("zhang.san") == [] and d.ticket(n)["status"] == "waiting"
    assert d.ticket(n)["timeline"][-1]["kind"] == "waiting_reminded"
    clock.set(at("2025-03-13T10:00"))
    d.desk.housekeeping_round()
    d.desk.housekeeping_round()
    ticket = d.ticket(n)
    assert ticket["status"] == "resolved" and ticket["timeline"][-1]["kind"] == "auto_resolved"
    told = d.pushed("zhang.san")
    assert len(told) == 1 and "3 天没有收到您的回复" in told[0]["text"]
    assert f"/reopen {n}" in str(told[0]["buttons"])
    assert "已自动解决" in d.pushed_text("li.wei")
    verdicts = [e for e in ticket["timeline"] if e["kind"] in ("sla_met", "sla_missed")
                and e["data"]["clock"] == "resolution"]
    assert [e["kind"] for e in verdicts] == ["sla_met"], verdicts  # paused by the question: 1 hour of its target
    reopened = d.say("zhang.san", "还没好 是柜台那台")
    assert f"#{n}" in reopened
    assert d.ticket(n)["status"] == "reopened"


def test_a_question_asked_at_the_end_of_the_week_is_asked_again_when_the_branch_opens(dialog: Dialog,
                                                                                      clock: TestClock) -> None:
    d = dialog
    clock.set(at("2025-03-14T16:00"))  # Friday; the branch's hours: mon-fri 08:30-17:30, sat 09:00-16:00
    n = report(d, "zhang.san", "1", "打印机卡纸")
    d.say("li.wei", f"接单 {n}")
    clock.set(at("2025-03-14T17:00"))
    d.say("li.wei", f"追问 {n} 是哪一台打印机")
    d.pushed("zhang.san")
    for moment in ("2025-03-15T17:00", "2025-03-16T12:00", "2025-03-17T08:29"):
        clock.set(at(moment))
        d.desk.housekeeping_round()
        assert d.pushed("zhang.san") == [], moment
    clock.set(at("2025-03-17T08:30"))
    d.desk.housekeeping_round()
    assert "还在等您回复" in d.pushed_text("zhang.san")
    d.say("zhang.san", "柜台那台 HP")  # the answer: back to work, never resolved for want of one
    clock.set(at("2025-03-18T09:00"))
    d.desk.housekeeping_round()
    assert d.ticket(n)["status"] == "in_progress"


def test_a_question_asked_before_the_national_day_holiday_waits_for_the_branch_to_open(dialog: Dialog,
                                                                                       clock: TestClock) -> None:
    d = dialog
    clock.set(at("2025-09-30T09:00"))  # the day before the 1–8 October holiday
    n = report(d, "zhang.san", "1", "打印机卡纸")
    d.say("li.wei", f"接单 {n}")
    clock.set(at("2025-09-30T10:00"))
    d.say("li.wei", f"追问 {n} 是哪一台打印机")
    d.pushed("zhang.san")
    for moment in ("2025-10-01T10:00", "2025-10-03T10:00", "2025-10-08T12:00"):
        clock.set(at(moment))
        d.desk.housekeeping_round()
        assert d.pushed("zhang.san") == [] and d.ticket(n)["status"] == "waiting", moment
    clock.set(at("2025-10-09T08:30"))
    d.desk.housekeeping_round()
    reminded = d.pushed_text("zhang.san")
    assert "还在等您回复" in reminded and "10-11 08:30 前没有回复" in reminded, reminded
    clock.set(at("2025-10-09T10:00"))
    d.desk.housekeeping_round()  # three days have passed, but the reporter has only just been reminded
    assert d.ticket(n)["status"] == "waiting"
    clock.set(at("2025-10-11T08:30"))  # a make-up workday
    d.desk.housekeeping_round()
    assert d.ticket(n)["status"] == "resolved"
