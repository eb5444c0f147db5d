"""Queue care by the worker: unclaimed reminders, auto-release of idle claims, auto-close of unanswered
resolutions — each once per due moment, through the outbox."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tests.clock import TestClock
from tests.dialog import Dialog

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
