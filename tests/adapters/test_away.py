"""Staff away (conversations/04: "if li.wei were on leave"): `请假 … / 销假`. Meanwhile the desk passes them by —
not paged, not auto-assigned, no new-ticket cards — and a reopened ticket of theirs goes to the team's queue."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import event, select

from tests.clock import TestClock
from tests.dialog import Dialog
from wuyou.desk.incidents import oncall
from wuyou.desk.models import AuditEvent, Team

SH = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2025, 3, 10, 10, 0, tzinfo=SH)
PRINTER = "1"  # 终端设备 › 打印机 (jn-terminal: 李伟, 王芳; lead 赵敏)


def test_an_engineer_on_leave_is_passed_by_until_back(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(MONDAY)
    number = d.report("zhang.san", PRINTER, "打印机卡纸 出不了凭条")
    d.say("li.wei", f"接单 {number}")
    d.say("li.wei", f"解决 {number} 更换搓纸轮")
    for person in ("li.wei", "wang.fang", "zhao.min", "zhang.san"):
        d.pushed(person)

    reply = d.say("li.wei", "请假 到 3-12 年假")
    assert "03-13 00:00 前 休假" in reply and "不会呼叫您值班" in reply, reply
    with d.desk.sessions() as s:
        team = s.get(Team, "jn-terminal")
        assert team is not None
        assert [p.id for p in oncall.chain(session=s, team=team, now=clock())] == ["wang.fang", "zhao.min"]
        assert s.scalars(select(AuditEvent.action).where(AuditEvent.target == "person:li.wei")).one() \
            .startswith("person.away until 2025-03-12T16:00")
    assert "（休假：李伟 到 03-13 00:00）" in d.say("zhao.min", "值班 济南终端组")

    # A new ticket's card goes to those present; the one he resolved, reopened, to the team's queue.
    other = d.report("liu.yang", PRINTER, "打印机不进纸")
    assert d.pushed("li.wei") == []
    assert f"#{other}" in d.pushed_text("wang.fang")
    d.pushed("wang.fang")
    answer = d.say("zhang.san", "还没好")
    assert "原来的工程师 李伟 休假中，已交给济南终端组其他同事接单" in answer, answer  # on leave, not gone
    assert d.ticket(number)["assignee"] is None
    assert "原处理人 李伟 休假中（到 03-13 00:00），已回到组内待接单" in d.pushed_text("zhao.min")
    assert "原处理人 李伟 休假中（到 03-13 00:00），请重新接单" in d.pushed_text("wang.fang")
    assert d.pushed("li.wei") == []
    assert "已重开，等待工程师接单" in d.say("zhang.san", "进度")  # nobody has it: not "处理中"

    # Back early: everything includes him again.
    assert "欢迎回来" in d.say("li.wei", "销假")
    assert "没有在休假" in d.say("li.wei", "销假")
    d.say("wang.fang", f"接单 {other}")  # (else the next printer ticket joins its grouped card)
    third = d.report("ma.jing", "1", "济南打印机卡纸")  # (青岛: another team) — then one of Jinan's
    fourth = d.report("liu.yang", PRINTER, "打印机显示脱机")
    pushed = d.pushed_text("li.wei")
    assert f"#{fourth}" in pushed and f"#{third}" not in pushed


def test_only_a_lead_marks_someone_else_away(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(MONDAY)
    assert "没有权限" in d.say("wang.fang", "请假 李伟 1天")  # an engineer: only themselves
    held = d.report("zhang.san", PRINTER, "打印机卡纸")
    d.say("wang.fang", f"接单 {held}")
    d.pushed("wang.fang")
    reply = d.say("zhao.min", "请假 王芳 到 18:00 培训")
    assert "王芳 18:00 前 休假" in reply  # (today: the time alone)
    told = d.pushed_text("wang.fang")  # she hears it from the desk (she was not told)
    assert "赵敏 把您标记为休假，到 18:00（培训）" in told and "{" not in told, told
    assert f"手上还有 1 张没办完的单（#{held}）：回复 1 全部退回组里" in reply, reply
    assert f"已把 1 张单退回组里：#{held}" in d.say("zhao.min", "1")  # the lead hands them back in one go
    assert d.ticket(held)["assignee"] is None and d.ticket(held)["status"] == "new"
    released = next(e for e in d.ticket(held)["timeline"] if e["kind"] == "released")
    assert released["actor"] == "zhao.min" and "王芳 请假" in (released["body"] or "")
    assert "已为 王芳 销假" in d.say("zhao.min", "销假 王芳")
    assert "赵敏 已为您销假" in d.pushed_text("wang.fang")
    assert "用法" in d.say("li.wei", "请假 下周")
    assert "没有权限" in d.say("chen.gang", "请假 李伟 1天")  # a lead, of other teams


def test_absences_through_the_api(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(MONDAY)
    lead = {"Authorization": f"Bearer {d.token('zhao.min')}"}
    marked = d.client.put("/api/v1/people/wang.fang/away", headers=lead,
                          json={"until": "2025-03-12T18:00:00+08:00", "note": "培训"})
    assert marked.status_code == 200, marked.text
    assert marked.json()["until"].startswith("2025-03-12T10:00:00") and marked.json()["note"] == "培训"
    assert [a["person"] for a in d.client.get("/api/v1/away", headers=lead).json()] == ["wang.fang"]
    engineer = {"Authorization": f"Bearer {d.token('li.wei')}"}
    assert d.client.put("/api/v1/people/wang.fang/away", headers=engineer,
                        json={"until": "2025-03-12T18:00:00+08:00"}).status_code == 403
    for bad in ("2025-03-12T18:00:00", "2030-01-01T00:00:00+08:00", "9999-12-31T23:59:00-23:59"):
        assert d.client.put("/api/v1/people/li.wei/away", headers=engineer, json={"until": bad}).status_code == 422
    assert d.client.put("/api/v1/people/zhang.san/away", headers=lead,
                        json={"until": "2025-03-12T18:00:00+08:00"}).status_code == 404  # a reporter
    assert d.client.delete("/api/v1/people/wang.fang/away", headers=lead).json()["until"] is None
    assert d.client.get("/api/v1/away", headers=lead).json() == []


def test_planned_leave_begins_on_its_day(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(MONDAY)
    reply = d.say("li.wei", "请假 3-12 到 3-13 年假")
    assert "03-12 00:00 到 03-14 00:00 休假" in reply, reply

    def chain() -> list[str]:
        with d.desk.sessions() as s:
            team = s.get(Team, "jn-terminal")
            assert team is not None
            return [p.id for p in oncall.chain(session=s, team=team, now=clock())]

    assert chain() == ["li.wei", "wang.fang", "zhao.min"]  # not yet
    assert "已取消 李伟 03-12 00:00 开始的休假" in d.say("li.wei", "销假")  # called off...
    assert "03-12 00:00 到 03-14 00:00" in d.say("li.wei", "请假 3-12 到 3-13 年假")  # ... and asked for again
    clock.set(datetime(2025, 3, 12, 9, 0, tzinfo=SH))
    assert chain() == ["wang.fang", "zhao.min"]
    clock.set(datetime(2025, 3, 14, 0, 0, tzinfo=SH))
    assert chain() == ["li.wei", "wang.fang", "zhao.min"]  # over by itself
    assert "用法" in d.say("li.wei", "请假 3-20 到 3-18")  # the end before the start
    for garbage in ("请假 2-30", "请假 9999-12-31", "请假 0-0", "请假 999天", "请假 到 25:00", "请假 2024-2-29 到 3-1"):
        assert "用法" in d.say("li.wei", garbage), garbage
    lead = {"Authorization": f"Bearer {d.token('zhao.min')}"}
    planned = d.client.put("/api/v1/people/wang.fang/away", headers=lead, json={
        "since": "2025-03-20T00:00:00+08:00", "until": "2025-03-22T00:00:00+08:00", "note": "婚假"}).json()
    assert planned["since"].startswith("2025-03-19T16:00") and planned["until"].startswith("2025-03-21T16:00")


def test_the_on_call_roster(dialog: Dialog, clock: TestClock) -> None:
    """The console's on-call page: each team's order now, who is away, whom the viewer may mark away."""
    d = dialog
    clock.set(MONDAY)
    lead = {"Authorization": f"Bearer {d.token('zhao.min')}"}
    engineer = {"Authorization": f"Bearer {d.token('wang.fang')}"}
    assert d.client.put("/api/v1/people/li.wei/away", headers=lead,
                        json={"until": "2025-03-12T18:00:00+08:00", "note": "年假"}).status_code == 200
    teams = {t["team"]: t for t in d.client.get("/api/v1/oncall/roster", headers=lead).json()}
    jinan = teams["jn-terminal"]
    assert [p["id"] for p in jinan["chain"]] == ["wang.fang", "zhao.min"]  # he is passed over, the lead last
    assert [(a["person"], a["note"]) for a in jinan["away"]] == [("li.wei", "年假")]
    assert {m["id"] for m in jinan["members"]} == {"li.wei", "wang.fang"}  # her team's: she may mark them
    assert teams["hq-network"]["members"] == []  # not hers
    mine = {t["team"]: t for t in d.client.get("/api/v1/oncall/roster", headers=engineer).json()}
    assert [m["id"] for m in mine["jn-terminal"]["members"]] == ["wang.fang"]  # only herself
    reporter = {"Authorization": f"Bearer {d.token('zhang.san')}"}
    assert d.client.get("/api/v1/oncall/roster", headers=reporter).status_code == 403
    d.sign_in("zhao.min")
    page = d.client.get("/console/oncall")
    assert page.status_code == 200 and "oncall.js" in page.text and "现在的呼叫顺序" in page.text


def _chain(d: Dialog, clock: TestClock) -> list[str]:
    with d.desk.sessions() as s:
        team = s.get(Team, "jn-terminal")
        assert team is not None
        return [p.id for p in oncall.chain(session=s, team=team, now=clock())]


def test_two_planned_absences_each_pass_him_by_in_their_time(dialog: Dialog, clock: TestClock) -> None:
    """Next week's leave and a training day later: both kept; the second still holds once the first is over."""
    d = dialog
    clock.set(MONDAY)
    assert "03-12 00:00 到 03-13 00:00 休假" in d.say("li.wei", "请假 3-12 到 3-12 调休")
    assert "03-17 00:00 到 03-19 00:00 休假" in d.say("li.wei", "请假 3-17 到 3-18 培训")
    roster = d.say("zhao.min", "值班 济南终端组")  # the lead sees what is planned in the team
    assert "已安排请假：李伟 03-12 00:00 到 03-13 00:00、李伟 03-17 00:00 到 03-19 00:00" in roster, roster
    assert _chain(d, clock) == ["li.wei", "wang.fang", "zhao.min"]
    clock.set(datetime(2025, 3, 12, 9, 0, tzinfo=SH))
    assert _chain(d, clock) == ["wang.fang", "zhao.min"]
    clock.set(datetime(2025, 3, 13, 9, 0, tzinfo=SH))
    assert _chain(d, clock) == ["li.wei", "wang.fang", "zhao.min"]  # the first over...
    clock.set(datetime(2025, 3, 17, 9, 0, tzinfo=SH))
    assert _chain(d, clock) == ["wang.fang", "zhao.min"]  # ... the second not lost with it
    assert "李伟 到 03-19 00:00" in d.say("zhao.min", "值班 济南终端组")
    clock.set(datetime(2025, 3, 19, 0, 0, tzinfo=SH))
    assert _chain(d, clock) == ["li.wei", "wang.fang", "zhao.min"]


def test_listing_and_calling_off_planned_leave(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(MONDAY)
    d.say("li.wei", "请假 3-17 到 3-18 培训")
    d.say("li.wei", "请假 3-12 到 3-12 调休")
    listed = d.say("li.wei", "我的请假")
    assert "1. 03-12 00:00 到 03-13 00:00（调休）\n2. 03-17 00:00 到 03-19 00:00（培训）" in listed, listed
    assert "取消请假 N" in listed
    assert d.say("li.wei", "请假 列表") == listed
    assert d.say("li.wei", "/away list") == listed
    assert "没有第 3 项请假（现在共 2 项）" in d.say("li.wei", "取消请假 3")
    cancelled = d.say("li.wei", "取消请假 1")
    assert "已取消 李伟 03-12 00:00 到 03-13 00:00 的请假" in cancelled, cancelled
    assert "仍安排的请假：\n1. 03-17 00:00 到 03-19 00:00（培训）" in cancelled, cancelled
    clock.set(datetime(2025, 3, 12, 9, 0, tzinfo=SH))
    assert _chain(d, clock) == ["li.wei", "wang.fang", "zhao.min"]  # called off: paged as usual

    # The lead sees and changes a member's; another engineer may not.
    assert "李伟 已安排的请假：\n1. 03-17 00:00 到 03-19 00:00（培训）" in d.say("zhao.min", "请假 列表 李伟")
    assert "没有权限" in d.say("wang.fang", "取消请假 李伟 1")
    assert "没有权限" in d.say("wang.fang", "请假 列表 李伟")
    d.pushed("li.wei")
    assert "已取消 李伟 03-17 00:00 到 03-19 00:00 的请假" in d.say("zhao.min", "取消请假 李伟 1")
    assert "赵敏 取消了您 03-17 00:00 到 03-19 00:00 的请假（培训）" in d.pushed_text("li.wei")
    assert "李伟 没有安排请假" in d.say("li.wei", "我的请假")
    assert "用法" in d.say("li.wei", "取消请假")


def test_leave_that_overlaps_is_merged_and_back_keeps_what_is_planned(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(MONDAY)
    d.say("li.wei", "请假 到 3-11 年假")
    merged = d.say("li.wei", "请假 3-11 到 3-12 年假")  # one more day: one absence, not two
    assert "03-13 00:00 前 休假（与已登记的请假 10:00 到 03-12 00:00 有重叠或相接，已合并为一段）" in merged, merged
    d.say("li.wei", "请假 3-20 到 3-20 体检")
    listed = d.say("li.wei", "我的请假")
    assert "1. 10:00 到 03-13 00:00（休假中）（年假）\n2. 03-20 00:00 到 03-21 00:00（体检）" in listed, listed
    back = d.say("li.wei", "销假")
    assert "欢迎回来" in back and "仍安排的请假：\n1. 03-20 00:00 到 03-21 00:00（体检）" in back, back
    assert _chain(d, clock) == ["li.wei", "wang.fang", "zhao.min"]
    d.say("li.wei", "请假 3-25 到 3-25")
    which = d.say("li.wei", "销假")  # not away, two planned: which one? (not a guess)
    assert "现在没有在休假" in which and "2. 03-25 00:00 到 03-26 00:00" in which, which
    clock.set(datetime(2025, 3, 20, 9, 0, tzinfo=SH))
    assert _chain(d, clock) == ["wang.fang", "zhao.min"]  # still planned after 销假 ended the first


def test_several_absences_through_the_api(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(MONDAY)
    lead = {"Authorization": f"Bearer {d.token('zhao.min')}"}
    url = "/api/v1/people/li.wei/absences"
    first = d.client.post(url, headers=lead, json={"since": "2025-03-12T00:00:00+08:00",
                                                   "until": "2025-03-13T00:00:00+08:00", "note": "调休"})
    assert first.status_code == 201, first.text
    second = d.client.post(url, headers=lead, json={"since": "2025-03-17T00:00:00+08:00",
                                                    "until": "2025-03-19T00:00:00+08:00", "note": "培训"}).json()
    assert second["merged"] == []
    listed = d.client.get(url, headers=lead).json()
    assert [(a["since"][:16], a["until"][:16], a["note"]) for a in listed] == [
        ("2025-03-11T16:00", "2025-03-12T16:00", "调休"), ("2025-03-16T16:00", "2025-03-18T16:00", "培训")]
    assert [a["person"] for a in d.client.get("/api/v1/away", headers=lead).json()] == ["li.wei", "li.wei"]
    roster = {t["team"]: t for t in d.client.get("/api/v1/oncall/roster", headers=lead).json()}
    assert [(a["person"], a["note"]) for a in roster["jn-terminal"]["planned"]] == [("li.wei", "调休"),
                                                                                    ("li.wei", "培训")]
    assert roster["jn-terminal"]["away"] == []
    joined = d.client.post(url, headers=lead, json={"since": "2025-03-19T00:00:00+08:00",
                                                    "until": "2025-03-20T00:00:00+08:00"}).json()
    assert joined["id"] == second["id"] and joined["until"].startswith("2025-03-19T16:00")  # adjoins: merged
    assert [m["since"][:16] for m in joined["merged"]] == ["2025-03-16T16:00"]
    engineer = {"Authorization": f"Bearer {d.token('wang.fang')}"}
    assert d.client.post(url, headers=engineer, json={"until": "2025-03-12T18:00:00+08:00"}).status_code == 403
    assert d.client.delete(f"{url}/{first.json()['id']}", headers=engineer).status_code == 403
    assert d.client.get(url, headers=engineer).status_code == 200  # staff see who is away, as GET /away
    reporter = {"Authorization": f"Bearer {d.token('zhang.san')}"}
    assert d.client.get(url, headers=reporter).status_code == 403
    assert d.client.post(url, headers=lead, json={"until": "2025-03-01T00:00:00+08:00"}).status_code == 422
    assert d.client.delete(f"{url}/{first.json()['id']}", headers=lead).status_code == 204
    assert d.client.delete(f"{url}/{first.json()['id']}", headers=lead).status_code == 404
    assert [a["note"] for a in d.client.get(url, headers=lead).json()] == ["培训"]
    # The one-absence PUT replaces only what it overlaps: the training stays.
    assert d.client.put("/api/v1/people/li.wei/away", headers=lead,
                        json={"until": "2025-03-11T18:00:00+08:00", "note": "病假"}).status_code == 200
    assert [a["note"] for a in d.client.get(url, headers=lead).json()] == ["病假", "培训"]
    assert d.client.put("/api/v1/people/li.wei/away", headers=lead,
                        json={"until": "2025-03-10T18:00:00+08:00", "note": "病假"}).status_code == 200
    assert d.client.get(url, headers=lead).json()[0]["until"][:16] == "2025-03-10T10:00"  # shortened
    assert _chain(d, clock) == ["wang.fang", "zhao.min"]
    clock.set(datetime(2025, 3, 10, 18, 0, tzinfo=SH))
    assert _chain(d, clock) == ["li.wei", "wang.fang", "zhao.min"]


def test_the_on_call_chain_reads_the_teams_absences_at_once(dialog: Dialog, clock: TestClock) -> None:
    """Who is away is loaded with the team (one statement), not asked person by person."""
    d = dialog
    clock.set(MONDAY)
    d.say("li.wei", "请假 3-12 到 3-12")
    d.say("wang.fang", "请假 3-17 到 3-18")
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    with d.desk.sessions() as s:
        team = s.get(Team, "jn-terminal")
        assert team is not None
        engine = s.get_bind()
        event.listen(engine, "before_cursor_execute", seen)
        try:
            assert [p.id for p in oncall.chain(session=s, team=team, now=clock())] == [
                "li.wei", "wang.fang", "zhao.min"]
        finally:
            event.remove(engine, "before_cursor_execute", seen)
    # the members' absences in one statement, the lead's (not a member) in another
    assert len([q for q in statements if "FROM absences" in q]) == 2, statements
