"""Tickets on hold (issue-less: what a service desk's engineers need when a fault waits on a vendor, spare parts
or a booked visit): why and until when, the reporter told, the resolution clock paused, the hold ending by
itself with a reminder — through the HTTP channel, with the worker's rounds run by hand."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tests.clock import TestClock
from tests.dialog import Dialog

SH = ZoneInfo("Asia/Shanghai")
PRINTER = "1"
report = Dialog.report


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def test_on_hold_until_a_time_told_paused_and_back_by_itself(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(at("2025-03-11T09:00"))  # a Tuesday; JN-001 opens mon-fri 08:30-17:30, sat 09:00-16:00
    n = report(d, "zhang.san", PRINTER, "大厅打印机一打就卡纸")
    d.say("li.wei", f"接单 {n}")
    before = d.say("li.wei", f"查看 {n}")
    assert "解决时限" in before
    d.pushed("zhang.san")
    clock.set(at("2025-03-11T10:00"))

    reply = d.say("li.wei", f"挂起 {n} 等厂商上门换搓纸轮 到 明天 14:00")
    assert f"#{n} 已挂起到 03-12 14:00" in reply and "张三" in reply and "恢复处理" in reply, reply
    told = d.pushed_text("zhang.san")
    assert "暂缓处理：等厂商上门换搓纸轮" in told and "03-12 14:00" in told and "李伟" in told, told
    ticket = d.ticket(n)
    assert ticket["status"] == "on_hold"
    assert [e["kind"] for e in ticket["timeline"]][-2:] == ["sla_pause", "held"]
    status = d.say("zhang.san", "进度")
    assert "暂缓处理" in status and "挂起：等厂商上门换搓纸轮，预计 03-12 14:00 继续" in status, status
    assert "挂起到 03-12 14:00（等厂商上门换搓纸轮）" in d.say("li.wei", "我的")
    shown = d.say("li.wei", f"查看 {n}")
    assert "解决计时暂停（挂起到 03-12 14:00）" in shown, shown
    assert "挂起 李伟：等厂商上门换搓纸轮（到 03-12 14:00）" in shown, shown  # who, and what

    chased = d.say("zhang.san", "能不能快点啊 等半天了")
    assert "已帮您催了 李伟" in chased and "暂缓处理中（等厂商上门换搓纸轮），预计 03-12 14:00 继续" in chased, chased
    assert "解决计时已暂停（挂起到 03-12 14:00：等厂商上门换搓纸轮）" in d.pushed_text("li.wei")
    # What the reporter adds reaches the engineer, and the ticket stays on hold.
    d.say("zhang.san", f"补充 {n} 厂商说明天下午到")
    assert "厂商说明天下午到" in d.pushed_text("li.wei")
    assert d.ticket(n)["status"] == "on_hold"

    clock.set(at("2025-03-12T13:59"))
    d.desk.housekeeping_round()
    assert d.pushed("li.wei") == []
    clock.set(at("2025-03-12T14:00"))
    d.desk.housekeeping_round()
    d.desk.housekeeping_round()
    reminded = d.pushed("li.wei")
    assert len(reminded) == 1 and "挂起到时间了（等厂商上门换搓纸轮）" in reminded[0]["text"], reminded
    assert f"/show {n}" in str(reminded[0]["buttons"])
    assert "挂起到时间了" not in d.pushed_text("zhao.min")  # the engineer is here: their lead is not bothered
    ticket = d.ticket(n)
    assert ticket["status"] == "in_progress"
    assert [e["kind"] for e in ticket["timeline"]][-2:] == ["sla_resume", "hold_ended"]
    resumed = [e for e in ticket["timeline"] if e["kind"] == "sla_resume"][-1]
    # An hour of the 8-hour resolution target was used before the hold: 7 hours from 14:00 on the 12th.
    assert resumed["data"]["due"].startswith("2025-03-13T"), resumed
    assert d.pushed("zhang.san") == []  # the engineer decides what the reporter hears next


def test_without_a_time_until_the_branch_opens_and_ended_early(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(at("2025-03-14T16:00"))  # Friday: the branch opens next on Saturday at 09:00
    n = report(d, "zhang.san", PRINTER, "打印机卡纸")
    d.say("li.wei", f"接单 {n}")
    d.pushed("li.wei")
    assert "请写上原因" in d.say("li.wei", f"挂起 {n}")
    reply = d.say("li.wei", f"挂起 {n} 等备件")
    assert "已挂起到 03-15 09:00" in reply and f"挂起 {n} 原因 到 周三 14:00" in reply, reply
    moved = d.say("li.wei", f"{n} 挂起 备件周一到 到 周一")  # in the engineer's own order of words
    assert "已挂起到 03-17 08:30" in moved, moved  # a day alone: when that day's hours open
    assert "备件周一到" in d.pushed_text("zhang.san")
    assert "最多挂起 90 天" in d.say("li.wei", f"挂起 {n} 等总行审批 到 2025-09-01")
    assert "时间已经过了" in d.say("li.wei", f"挂起 {n} 等厂商 到 2025-03-01")
    assert "没有权限" in d.say("wang.fang", f"挂起 {n} 等厂商")  # only the one who holds it, or a lead

    clock.set(at("2025-03-15T10:00"))
    assert "已恢复处理" in d.say("li.wei", f"{n} 恢复处理")
    assert "恢复处理了" in d.pushed_text("zhang.san")
    assert d.ticket(n)["status"] == "in_progress"
    assert "“处理中”状态，不能这样操作" in d.say("li.wei", f"恢复处理 {n}")
    clock.set(at("2025-03-17T09:00"))
    d.desk.housekeeping_round()  # the hold ended early: nothing left to end
    assert d.pushed("li.wei") == []


def test_a_ticket_given_back_while_paused_runs_its_clock_again(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(at("2025-03-11T09:00"))
    held = report(d, "zhang.san", PRINTER, "打印机卡纸")
    asked = report(d, "liu.yang", PRINTER, "打印机不进纸")
    for n in (held, asked):
        d.say("li.wei", f"接单 {n}")
    clock.set(at("2025-03-11T10:00"))
    d.say("li.wei", f"挂起 {held} 等厂商 到 明天 10:00")
    d.say("li.wei", f"追问 {asked} 哪台打印机")
    for n in (held, asked):
        assert "解决计时暂停" in d.say("li.wei", f"查看 {n}")
        clock.set(at("2025-03-11T11:00"))
        d.say("li.wei", f"退单 {n} 换人处理")
        shown = d.say("wang.fang", f"查看 {n}")
        assert "解决计时暂停" not in shown and "解决时限" in shown, shown
        assert d.ticket(n)["timeline"][-2]["kind"] == "sla_resume"
    clock.set(at("2025-03-12T10:00"))
    d.desk.housekeeping_round()
    assert d.ticket(held)["status"] == "new"  # given back: no hold left to end


def test_the_api_holds_until_a_moment_and_resumes(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(at("2025-03-11T09:00"))
    n = report(d, "zhang.san", PRINTER, "打印机卡纸")
    li = {"Authorization": f"Bearer {d.token('li.wei')}"}
    assert d.client.post(f"/api/v1/tickets/{n}/claim", headers=li).status_code == 200
    d.pushed("zhang.san")

    missing = d.client.post(f"/api/v1/tickets/{n}/hold", headers=li, json={"until": "2025-03-12T14:00:00+08:00"})
    assert missing.status_code == 422  # no reason: the reporter would be told nothing
    naive = d.client.post(f"/api/v1/tickets/{n}/hold", headers=li,
                          json={"reason": "等厂商", "until": "2025-03-12T14:00"})
    assert naive.status_code == 422  # a moment without its zone means nothing certain
    past = d.client.post(f"/api/v1/tickets/{n}/hold", headers=li,
                         json={"reason": "等厂商", "until": "2025-03-10T14:00:00+08:00"})
    assert past.status_code == 409 and past.json()["detail"].endswith("give a time still to come (hold_past)")
    too_long = d.client.post(f"/api/v1/tickets/{n}/hold", headers=li,
                             json={"reason": "等厂商", "until": "2025-09-12T14:00:00+08:00"})
    assert too_long.status_code == 409 and "at most 90 days" in too_long.json()["detail"], too_long.text
    assert d.client.post(f"/api/v1/tickets/{n}/merge", headers=li, json={"into": n}).json()["detail"] == (
        "a ticket cannot be merged into itself (same)")
    held = d.client.post(f"/api/v1/tickets/{n}/hold", headers=li,
                         json={"reason": "等厂商上门", "until": "2025-03-12T06:00:00Z"})
    assert held.status_code == 200, held.text
    body = held.json()
    assert body["status"] == "on_hold" and body["hold_reason"] == "等厂商上门"
    assert datetime.fromisoformat(body["hold_until"]) == at("2025-03-12T14:00")
    assert "03-12 14:00" in d.pushed_text("zhang.san")
    zhang = {"Authorization": f"Bearer {d.token('zhang.san')}"}
    assert d.client.post(f"/api/v1/tickets/{n}/hold", headers=zhang, json={"reason": "x"}).status_code == 403

    resumed = d.client.post(f"/api/v1/tickets/{n}/resume", headers=li)
    assert resumed.status_code == 200 and resumed.json()["status"] == "in_progress"
    assert resumed.json()["hold_until"] is None
    again = d.client.post(f"/api/v1/tickets/{n}/resume", headers=li)
    assert again.status_code == 409
    listed = d.client.get("/api/v1/tickets", headers=li, params={"status": "on_hold"}).json()
    assert listed["total"] == 0


def test_a_question_asked_during_a_hold_is_waited_for_from_then(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(at("2025-03-10T09:00"))  # Monday
    n = report(d, "zhang.san", PRINTER, "打印机卡纸")
    d.say("li.wei", f"接单 {n}")
    d.say("li.wei", f"挂起 {n} 等厂商 到 2025-03-14 09:00")
    clock.set(at("2025-03-12T10:00"))
    d.say("li.wei", f"追问 {n} 厂商说要机器序列号，麻烦拍一下机身背面")
    assert d.ticket(n)["status"] == "waiting"
    d.pushed("zhang.san")
    d.desk.housekeeping_round()  # asked just now: not reminded, and far from resolved for want of an answer
    assert d.pushed("zhang.san") == [] and d.ticket(n)["status"] == "waiting"
    clock.set(at("2025-03-13T10:00"))
    d.desk.housekeeping_round()
    assert "还在等您回复" in d.pushed_text("zhang.san")
    clock.set(at("2025-03-14T09:00"))
    d.desk.housekeeping_round()  # the hold's old time is gone with it
    assert d.ticket(n)["status"] == "waiting" and "挂起到时间了" not in d.pushed_text("li.wei")


def test_a_policy_can_let_the_clock_run_on_hold(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    admin = {"Authorization": f"Bearer {d.token('admin')}"}
    wrong = [{"name": "P3", "priority": "P3", "response": "1h", "resolution": "8h", "on_hold": "stop"}]
    assert d.client.put("/api/v1/sla-policies", headers=admin, json={"items": wrong}).status_code == 422
    runs = [{"name": "P3 厂商也计时", "priority": "P3", "response": "1h", "resolution": "8h", "on_hold": "run"}]
    assert d.client.put("/api/v1/sla-policies", headers=admin, json={"items": runs}).status_code == 200
    assert d.client.get("/api/v1/sla-policies", headers=admin).json()["items"][0]["on_hold"] == "run"
    clock.set(at("2025-03-11T09:00"))
    n = report(d, "zhang.san", PRINTER, "打印机卡纸")
    d.say("li.wei", f"接单 {n}")
    clock.set(at("2025-03-11T10:00"))
    d.say("li.wei", f"追问 {n} 哪一台")  # a question pauses it, whatever the policy
    clock.set(at("2025-03-11T11:00"))
    held = d.say("li.wei", f"挂起 {n} 等厂商 到 明天 10:00")
    # 1 of the 8 hours used before the question (an hour ago); the rest from now, in 08:30-17:30: 09:00 tomorrow.
    assert "按 SLA 策略挂起照常计时，解决时限 03-12 09:00" in held, held
    kinds = [e["kind"] for e in d.ticket(n)["timeline"]]
    assert kinds[-4:] == ["sla_pause", "asked", "sla_resume", "held"], kinds
    assert "解决时限 03-12 09:00" in d.say("li.wei", f"查看 {n}")


def test_the_lead_hears_a_hold_end_when_its_engineer_is_away(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(at("2025-03-11T09:00"))
    n = report(d, "zhang.san", PRINTER, "打印机卡纸")
    d.say("li.wei", f"接单 {n}")
    d.say("li.wei", f"挂起 {n} 等厂商 到 明天 14:00")
    away = d.say("li.wei", "请假 到 03-14")
    assert "03-15 00:00 前 休假" in away, away
    d.pushed("zhao.min")
    clock.set(at("2025-03-12T14:00"))
    d.desk.housekeeping_round()
    assert "挂起到时间了" in d.pushed_text("zhao.min")  # the lead of 济南终端组, for someone to take it up


def test_tomorrow_said_after_midnight_is_answered_as_today(dialog: Dialog, clock: TestClock) -> None:
    """At 00:57 明天 is the day about to begin: the answer says so, with the date, not a bare 14:00."""
    d = dialog
    clock.set(at("2025-03-11T00:57"))
    n = report(d, "zhang.san", PRINTER, "打印机卡纸")
    d.say("li.wei", f"接单 {n}")
    reply = d.say("li.wei", f"挂起 {n} 等厂商 到 明天 14:00")
    assert "已挂起到 今天 14:00（已过零点，“明天”按今天算）" in reply, reply
