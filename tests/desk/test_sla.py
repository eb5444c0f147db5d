"""SLA clocks on business calendars, driven by an injected clock, through the real chat channel and outbox."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from tests.clock import TestClock
from tests.dialog import Dialog
from wuyou.desk import sla
from wuyou.desk.models import OutboxMessage, SlaClock, TicketEvent

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


report = Dialog.report


def clocks(d: Dialog, number: int) -> dict[str, SlaClock]:
    with d.desk.sessions() as s:
        rows = s.scalars(select(SlaClock).where(SlaClock.ticket_id == number).order_by(SlaClock.id)).all()
        return {c.kind: c for c in rows}


def events(d: Dialog, number: int, kind: str) -> list[TicketEvent]:
    with d.desk.sessions() as s:
        return list(s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == number, TicketEvent.kind == kind)))


def outbox_count(d: Dialog, template: str) -> int:
    with d.desk.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.template == template))
                   or 0)


def test_p3_before_spring_festival_with_make_up_saturday(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    # Fri 2026-02-13 17:50, after closing; 02-14 (Sat) is a make-up workday, 02-15..23 the Spring Festival.
    clock.set(at("2026-02-13T17:50"))
    n = report(d, "zhang.san", "1", "打印机卡纸 明天一早要用")
    c = clocks(d, n)
    assert c["response"].due_at == at("2026-02-14T09:30")  # 1 business hour from the Saturday's 08:30 opening
    assert c["resolution"].due_at == at("2026-02-14T16:30")  # 8 business hours
    pushed = d.pushed_text("li.wei")
    assert "响应时限 02-14 09:30" in pushed and "解决时限 02-14 16:30" in pushed

    clock.set(at("2026-02-14T09:10"))
    d.say("li.wei", f"接单 {n}")
    assert clocks(d, n)["response"].met is True
    assert "16:30" in d.pushed_text("zhang.san")  # the reporter is promised the resolution due time

    clock.set(at("2026-02-14T10:00"))
    d.say("li.wei", f"追问 {n} 是哪一台打印机")
    assert clocks(d, n)["resolution"].state == "paused"
    assert "是哪一台打印机" in d.pushed_text("zhang.san")
    clock.set(at("2026-02-14T10:30"))
    d.say("zhang.san", "大厅那台惠普")
    assert clocks(d, n)["resolution"].due_at == at("2026-02-14T17:00")  # moved by the 30-minute pause

    # Warning at 80 % of 8 h = 6 h 24 min of business time: 14:54 plus the pause.
    clock.set(at("2026-02-14T15:23"))
    assert d.desk.sla_round() == 0
    clock.set(at("2026-02-14T15:24"))
    assert d.desk.sla_round() == 1
    assert d.desk.sla_round() == 0
    assert len(events(d, n, "sla_warn")) == 1 and outbox_count(d, "sla_warn") == 1
    assert "还剩 96 分钟" in d.pushed_text("li.wei")

    clock.set(at("2026-02-14T17:01"))
    d.desk.sla_round()
    d.desk.sla_round()
    assert len(events(d, n, "sla_breach")) == 1 and outbox_count(d, "sla_breach") == 1
    assert "超时" in d.pushed_text("zhao.min")
    assert d.pushed("zhang.san") == []  # the reporter is reassured on a response breach only

    # Still unresolved half a target later (4 business hours: 30 min on Saturday, then after the holiday): HQ.
    clock.set(at("2026-02-24T11:59"))
    d.desk.sla_round()
    assert events(d, n, "sla_escalated") == []
    clock.set(at("2026-02-24T12:00"))
    d.desk.sla_round()
    d.desk.sla_round()
    assert len(events(d, n, "sla_escalated")) == 1
    assert "总部" in d.pushed_text("chen.gang")

    d.say("li.wei", f"解决 {n} 更换了搓纸轮")
    resolution = clocks(d, n)["resolution"]
    assert resolution.state == "stopped" and resolution.met is False and resolution.next_check_at is None


def test_unclaimed_p2_warns_the_team_then_escalates_to_the_lead(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(at("2025-03-11T14:02"))  # a Tuesday; JN-002 has no hours of its own: mon-fri 08:30-17:30
    n = report(d, "liu.yang", "2", "POS机屏幕都不亮了 充电也没反应")
    c = clocks(d, n)
    assert c["response"].due_at == at("2025-03-11T14:32")
    assert c["resolution"].due_at == at("2025-03-12T09:02")  # 3 h 28 min today + 32 min tomorrow
    for engineer in ("li.wei", "wang.fang"):
        d.pushed(engineer)
    clock.set(at("2025-03-11T14:26"))
    d.desk.sla_round()
    for engineer in ("li.wei", "wang.fang"):
        warned = d.pushed(engineer)
        assert len(warned) == 1 and "还剩 6 分钟" in warned[0]["text"]
        assert warned[0]["buttons"] == [{"label": "接单", "action": f"/claim {n}"}]
    clock.set(at("2025-03-11T14:32"))
    d.desk.sla_round()
    breach = d.pushed_text("zhao.min")
    assert "响应超时" in breach and "14:02 报修" in breach, breach
    assert "济南终端组在岗各人处理中的单：李伟 0 · 王芳 0" in breach, breach  # whom to give it to (06 row 3)
    assert "赵敏" in d.pushed_text("liu.yang")  # one reassurance to the reporter
    clock.set(at("2025-03-11T14:37"))
    d.say("zhao.min", f"转派 {n} wang.fang")  # rows 8–9: the card says how late the response is
    assigned = d.pushed_text("wang.fang")
    assert "（P2 · 响应已超时 5 分钟）" in assigned and "\n解决时限 03-12 09:02\n回复“接单" in assigned, assigned
    clock.set(at("2025-03-11T14:39"))
    claimed = d.say("wang.fang", f"接单 {n}")
    assert "（响应用时 37 分钟，超时 7 分钟已记录）" in claimed, claimed  # row 11
    response = clocks(d, n)["response"]
    assert response.met is False and response.consumed_seconds == 37 * 60
    # conversations/06 row 11: 80 % of the resolution target is used at 17:14 — 48 working minutes are left until
    # 09:02 tomorrow (not the 948 minutes to tomorrow morning), on business hours.
    d.pushed("wang.fang")
    clock.set(at("2025-03-11T17:14"))
    d.desk.sla_round()
    [warned] = [m["text"] for m in d.pushed("wang.fang") if "时限快到了" in m["text"]]
    assert "还剩 48 分钟（工作时间），时限 03-12 09:02" in warned, warned


def test_the_warning_of_an_assigned_ticket_not_yet_taken_has_the_claim_button(dialog: Dialog,
                                                                              clock: TestClock) -> None:
    d = dialog
    clock.set(at("2025-03-11T14:02"))
    n = report(d, "liu.yang", "2", "POS机屏幕都不亮了 充电也没反应")
    d.say("zhao.min", f"转派 {n} 李伟")  # the lead gives it to him; he has not taken it
    d.pushed("li.wei"), d.pushed("wang.fang")
    clock.set(at("2025-03-11T14:26"))
    d.desk.sla_round()
    [warned] = d.pushed("li.wei")
    assert "还剩 6 分钟" in warned["text"] and warned["buttons"] == [{"label": "接单", "action": f"/claim {n}"}]
    assert d.pushed("wang.fang") == []  # (it is his)
    d.say("li.wei", f"接单 {n}")
    clock.set(at("2025-03-11T17:14"))  # the resolution clock's warning: taken, nothing to claim
    d.desk.sla_round()
    [warned] = [m for m in d.pushed("li.wei") if "时限快到了" in m["text"]]
    assert warned["buttons"] == []


def test_p1_runs_around_the_clock_and_priority_changes_replan(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(at("2026-02-15T03:00"))  # Spring Festival, night: P1 is 7x24
    n = report(d, "zhang.san", "3", "整个网点断网了")
    assert clocks(d, n)["response"].due_at == at("2026-02-15T03:15")
    assert clocks(d, n)["resolution"].due_at == at("2026-02-15T07:00")
    clock.set(at("2026-02-15T03:16"))
    d.desk.sla_round()
    breach = d.pushed_text("chen.gang")  # lead of the network team (HQ)
    assert "响应超时" in breach and "（目标 15 分钟，7×24）" in breach, breach  # not "working hours": P1 is 7×24
    clock.set(at("2026-02-15T03:05"))
    d.say("zhou.hao", f"优先级 {n} P3")
    # P3 counts business hours: the 5 minutes already used count, the rest waits for 02-24 08:30.
    assert clocks(d, n)["response"].due_at == at("2026-02-24T09:25")
    assert sla.DEFAULT_POLICIES["P1"].calendar == "7x24"
    assert "优先级" not in d.pushed_text("wu.lei")  # lowered, nobody holding it: the team is not woken for it


def test_the_engineer_hears_a_priority_change_and_a_raise_reaches_the_team(dialog: Dialog, clock: TestClock) -> None:
    """A lead making a ticket P1 at night moved its due time to the small hours, and nobody was told."""
    d = dialog
    clock.set(at("2025-03-11T23:00"))
    held = report(d, "zhang.san", "1", "打印机卡纸")
    waiting = report(d, "liu.yang", "1", "打印机不出纸")
    d.say("li.wei", f"接单 {held}")
    for person in ("li.wei", "wang.fang"):
        d.pushed(person)
    d.say("zhao.min", f"优先级 {held} P1")
    told = d.pushed_text("li.wei")
    assert f"⚡ #{held} 优先级 P3 → P1（赵敏 调整），解决时限 03-12 03:00" in told, told
    assert f"#{held}" not in d.pushed_text("wang.fang")  # (its engineer's, not the team's)
    d.say("zhao.min", f"优先级 {waiting} P2")  # nobody holds it: the team hears a raise
    assert f"⚡ #{waiting} 优先级 P3 → P2" in d.pushed_text("wang.fang")


def test_an_hq_teams_breach_goes_up_to_the_admins_when_its_lead_is_all_hq_has(dialog: Dialog,
                                                                               clock: TestClock) -> None:
    """陈刚 leads both HQ teams: the first breach of a network ticket is his, the second step goes to the admin
    (it went to him again: nobody new heard of it)."""
    d = dialog
    clock.set(at("2026-02-15T03:00"))
    n = report(d, "zhang.san", "3", "整个网点断网了")
    clock.set(at("2026-02-15T03:16"))
    d.desk.sla_round()
    assert "响应超时" in d.pushed_text("chen.gang")
    clock.set(at("2026-02-15T03:23"))  # half the 15-minute target after the due time
    d.desk.sla_round()
    assert "已升级到总部" in d.pushed_text("admin")
    assert "已升级到总部" not in d.pushed_text("chen.gang")
    assert [e.data["to"] for e in events(d, n, "sla_escalated")] == [["admin"]]


def test_reopen_restarts_both_clocks_with_full_targets(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(at("2025-03-10T09:14"))
    n = report(d, "zhang.san", "1", "打印机卡纸")
    clock.set(at("2025-03-10T09:20"))
    d.say("li.wei", f"接单 {n}")
    clock.set(at("2025-03-10T15:20"))
    d.say("li.wei", f"解决 {n} 更换搓纸轮")
    d.say("zhang.san", "解决了")
    d.say("zhang.san", "5")
    clock.set(at("2025-03-12T10:07"))
    d.say("zhang.san", f"/reopen {n} 又卡纸了")
    c = clocks(d, n)
    assert c["response"].due_at == at("2025-03-12T11:07")
    assert c["resolution"].due_at == at("2025-03-13T09:07")  # 7 h 23 min today + 37 min Thursday
    clock.set(at("2025-03-12T10:16"))
    assert "已接单" in d.say("li.wei", f"接单 {n}")  # the assignee acknowledges
    assert clocks(d, n)["response"].met is True
    clock.set(at("2025-03-12T11:00"))
    d.say("li.wei", f"解决 {n} 换了新的搓纸轮组件")
    d.say("zhang.san", "好了")
    d.say("zhang.san", "5")
    clock.set(at("2025-03-15T11:01"))  # more than 3 days after the resolution: no more reopening
    assert "不能这样操作" in d.say("zhang.san", f"/reopen {n} 还是不行")


def test_the_reporters_status_does_not_promise_a_time_already_past(dialog: Dialog, clock: TestClock) -> None:
    """conversations/06 after row 14: #1036 was due Wed 09:02 (11:42 after a pause); asked at 14:10, 进度 said
    "预计 11:42 前解决" — a promise already broken."""
    d = dialog
    clock.set(at("2025-03-11T14:02"))
    n = report(d, "liu.yang", "2", "屏幕都不亮了 充电也没反应 就这一台")
    clock.set(at("2025-03-11T14:39"))
    d.say("wang.fang", f"接单 {n}")
    assert "预计 03-12 09:02 前解决" in d.say("liu.yang", "进度")
    clock.set(at("2025-03-12T14:10"))
    status = d.say("liu.yang", "进度")
    assert "预计 09:02 前解决" not in status and "原定 09:02 前解决，已经超时了" in status, status


def test_a_warning_due_with_the_breach_says_the_time_is_up(dialog: Dialog, clock: TestClock) -> None:
    """Raised to P1 half an hour after it was reported, an unclaimed ticket is past its 15-minute response at the
    next round: the engineers were warned "已用 80%，还剩 0 分钟" in the same minute as the breach."""
    d = dialog
    clock.set(at("2025-03-11T09:00"))
    n = report(d, "zhang.san", "1", "打印机卡纸")
    d.pushed("li.wei")
    clock.set(at("2025-03-11T09:30"))
    d.say("zhao.min", f"优先级 {n} P1")
    d.pushed("li.wei")
    clock.set(at("2025-03-11T09:31"))
    d.desk.sla_round()
    warned = [m["text"] for m in d.pushed("li.wei") if f"#{n}（P1" in m["text"] and "时限" in m["text"]]
    assert any("响应已超时" in w for w in warned) and not any("还剩 0 分钟" in w for w in warned), warned
    assert len(events(d, n, "sla_warn")) == 1 and len(events(d, n, "sla_breach")) == 1
