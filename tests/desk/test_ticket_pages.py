"""A P1 ticket out of its team's hours pages the team's on-call order (then the lead) until someone takes it,
through the real chat channel, outbox and worker round, with an injected clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tests.clock import TestClock
from tests.dialog import Dialog
from wuyou.desk.incidents import paging_report
from wuyou.desk.models import Absence, Person, Ticket, TicketEvent, TicketPage

SH = ZoneInfo("Asia/Shanghai")
NETWORK_DOWN = "3"  # 网络 › 网点断网: P1 of 总部网络组 (on call: 周浩, 吴磊; lead 陈刚)

report = Dialog.report


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def pages(d: Dialog, number: int) -> list[tuple[str, str]]:
    with d.desk.sessions() as s:
        return [(p.person_id, p.status) for p in s.scalars(select(TicketPage).where(TicketPage.ticket_id == number)
                                                            .order_by(TicketPage.id))]


def kinds(d: Dialog, number: int) -> list[str]:
    with d.desk.sessions() as s:
        return list(s.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == number)
                              .order_by(TicketEvent.id)))


def test_a_p1_on_a_saturday_night_pages_the_on_call_until_one_takes_it(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(at("2025-03-15T22:00"))  # Saturday night: 总部网络组 works mon-fri
    d.say("zhang.san", "/new")
    d.say("zhang.san", NETWORK_DOWN)
    d.say("zhang.san", "1")
    reply = d.say("zhang.san", "整个网点断网了 ATM也连不上")
    assert "已呼叫值班工程师" in reply, reply  # not "工程师接单后马上通知您" as if someone were at work
    n = int(reply.split("#", 1)[1].split()[0])
    [page] = d.pushed("zhou.hao")  # the page is his card (not the team's card as well)
    assert "🚨 P1" in page["text"] and "值班第 1 位" in page["text"] and "5 分钟内接单" in page["text"], page
    assert [b["action"] for b in page["buttons"]] == [f"/claim {n}", f"/show {n}"]
    assert all("🚨" not in m["text"] for m in d.pushed("wu.lei"))  # the rest of the team sees the usual card
    assert pages(d, n) == [("zhou.hao", "paging")]
    assert "正在呼叫值班工程师" in d.say("zhang.san", "进度")  # (not "等待工程师接单", as if someone were at work)

    clock.set(at("2025-03-15T22:04"))
    d.desk.incidents_round()
    assert d.pushed("wu.lei") == []  # not yet
    clock.set(at("2025-03-15T22:05:01"))
    d.desk.incidents_round()
    [passed] = d.pushed("zhou.hao")
    assert "已转呼 吴磊" in passed["text"] and f"接单 {n}" in passed["text"], passed
    [page] = d.pushed("wu.lei")
    assert "周浩 5 分钟未接单" in page["text"] and "值班第 2 位" in page["text"], page

    clock.set(at("2025-03-15T22:07"))
    taken = d.say("wu.lei", "收到")  # answering the page takes the ticket
    assert f"已接单 #{n}" in taken, taken
    with d.desk.sessions() as s:
        ticket = s.get(Ticket, n)
        assert ticket is not None and ticket.assignee_id == "wu.lei" and ticket.status == "claimed"
    assert pages(d, n) == [("zhou.hao", "missed"), ("wu.lei", "acked")]
    clock.set(at("2025-03-15T22:30"))
    d.desk.incidents_round()
    assert d.pushed("chen.gang") == []  # taken: the lead is not paged
    assert [k for k in kinds(d, n) if k.startswith("page")] == ["paged", "page_passed", "paged"]

    # The on-call report counts ticket pages with the incidents': 周浩 missed one, 吴磊 answered in 119 s.
    with d.desk.sessions() as s:
        rows = {r.person: r for r in paging_report.pagers(session=s, start=at("2025-03-15T00:00"),
                                                          end=at("2025-03-16T00:00"))}
    assert (rows["zhou.hao"].pages, rows["zhou.hao"].missed, rows["zhou.hao"].incidents) == (1, 1, 0)
    assert (rows["wu.lei"].acked, rows["wu.lei"].ack_median) == (1, 119.0)  # (paged at 22:05:01)
    clock.set(at("2025-03-15T22:40"))
    resolved = d.say("wu.lei", f"解决 {n} 重启了汇聚交换机")
    assert "解决用时 40 分钟（7×24）" in resolved, resolved  # (P1 runs 7×24: not 按工作时间)


def test_in_hours_a_p1_goes_to_the_team_and_pages_nobody(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(at("2025-03-11T10:00"))  # a Tuesday morning: the team is at work
    n = report(d, "zhang.san", NETWORK_DOWN, "整个网点断网了")
    assert pages(d, n) == []
    assert any(f"#{n}" in m["text"] and "🚨" not in m["text"] for m in d.pushed("zhou.hao"))
    assert any(f"#{n}" in m["text"] for m in d.pushed("wu.lei"))


def test_nobody_on_the_chain_takes_it_and_the_lead_is_told(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(at("2025-03-16T03:00"))
    n = report(d, "zhang.san", NETWORK_DOWN, "整个网点断网了")
    for minutes in (5, 10, 15):  # 周浩, then 吴磊, then the lead 陈刚: none of them answers
        clock.set(at("2025-03-16T03:00") + timedelta(minutes=minutes, seconds=1))
        d.desk.incidents_round()
    assert [p for p, _ in pages(d, n)] == ["zhou.hao", "wu.lei", "chen.gang"]
    told = d.pushed_text("chen.gang")
    assert "值班第 3 位" in told and "值班链上的人都没有接单" in told, told
    assert kinds(d, n)[-1] == "page_exhausted"
    clock.set(at("2025-03-16T04:00"))
    d.desk.incidents_round()
    assert d.pushed("chen.gang") == []  # told once


def test_a_claim_by_a_colleague_ends_the_page_and_a_raise_to_p1_at_night_pages(dialog: Dialog,
                                                                                clock: TestClock) -> None:
    d = dialog
    clock.set(at("2025-03-15T23:00"))
    n = report(d, "zhang.san", NETWORK_DOWN, "整个网点断网了")
    d.say("wu.lei", f"接单 {n}")  # not the one paged: the page ends, nobody else is paged
    assert pages(d, n) == [("zhou.hao", "cancelled")]
    clock.set(at("2025-03-15T23:10"))
    d.desk.incidents_round()
    got = d.pushed("zhou.hao")
    assert all("已转呼" not in m["text"] for m in got), got
    # The on-call report says why 周浩's page is neither acknowledged nor missed (pages ≠ acked + missed otherwise).
    answered = d.say("chen.gang", "值班 统计 7天")
    assert "周浩（总部网络组）：呼叫 1 · 按时确认 0 · 未确认 0 · 确认用时中位 — · 他人先接或撤回 1" in answered

    # A P3 printer ticket at night pages nobody; the lead raising it to P1 does.
    m = report(d, "zhang.san", "1", "打印机卡纸 明天一早要用")
    with d.desk.sessions() as s:
        ticket = s.get(Ticket, m)
        assert ticket is not None and ticket.priority != "P1" and ticket.team_code == "jn-terminal"
    assert pages(d, m) == []
    d.pushed("li.wei"), d.pushed("wang.fang")
    d.say("zhao.min", f"优先级 {m} P1")
    assert pages(d, m) == [("li.wei", "paging")]
    [page] = d.pushed("li.wei")
    assert "🚨 P1" in page["text"] and "济南终端组" in page["text"], page
    assert any("优先级" in x["text"] for x in d.pushed("wang.fang"))  # the rest of the team hears of the raise
    clock.set(at("2025-03-15T23:12"))
    assert "已接单" not in d.say("zhou.hao", "收到")  # nothing of his to answer any more: no claim
    assert pages(d, n) == [("zhou.hao", "cancelled")]
    for minutes in (5, 10):  # 李伟, 王芳 do not answer: the chain ends without the lead who raised it (赵敏)
        clock.set(at("2025-03-15T23:12") + timedelta(minutes=minutes))
        d.desk.incidents_round()
    assert [p for p, _ in pages(d, m)] == ["li.wei", "wang.fang"]


def test_a_p1_given_back_at_night_pages_the_next_on_call_not_the_one_who_gave_it_back(dialog: Dialog,
                                                                                         clock: TestClock) -> None:
    d = dialog
    clock.set(at("2025-03-15T22:00"))
    n = report(d, "zhang.san", NETWORK_DOWN, "整个网点断网了")
    d.say("zhou.hao", f"接单 {n}")
    assert pages(d, n) == [("zhou.hao", "acked")]
    d.pushed("wu.lei")
    d.say("zhou.hao", f"退单 {n} 我在外地，处理不了")
    assert pages(d, n) == [("zhou.hao", "acked"), ("wu.lei", "paging")]
    [page] = d.pushed("wu.lei")  # his page, not the team's "given back" card as well
    assert "🚨 P1" in page["text"] and "值班第 1 位" in page["text"], page


def test_someone_marked_away_while_the_chain_runs_is_passed_by(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(at("2025-03-15T22:00"))
    n = report(d, "zhang.san", NETWORK_DOWN, "整个网点断网了")
    assert pages(d, n) == [("zhou.hao", "paging")]
    clock.set(at("2025-03-15T22:03"))  # 吴磊 falls ill: the HR system marks him away
    admin = {"Authorization": f"Bearer {d.token('admin')}"}
    response = d.client.put("/api/v1/people/wu.lei/away", headers=admin,
                            json={"until": "2025-03-18T00:00:00+08:00", "note": "病假"})
    assert response.status_code == 200, response.text
    d.pushed("wu.lei")
    clock.set(at("2025-03-15T22:05:01"))
    d.desk.incidents_round()
    assert pages(d, n) == [("zhou.hao", "missed"), ("chen.gang", "paging")]  # not 吴磊, on sick leave
    assert all("🚨" not in m["text"] for m in d.pushed("wu.lei"))
    assert "已转呼 陈刚" in d.pushed_text("zhou.hao")


def test_a_second_p1_of_the_same_fault_is_paged_too(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(at("2025-03-15T22:00"))
    n = report(d, "zhang.san", NETWORK_DOWN, "整个网点断网了")
    clock.set(at("2025-03-15T22:06"))  # 周浩 has not answered; 吴磊 has his page (the usual card before it)
    d.desk.incidents_round()
    d.say("liu.yang", "/new")
    d.say("liu.yang", NETWORK_DOWN)
    d.say("liu.yang", "1")
    reply = d.say("liu.yang", "营业厅网络全断")
    m = int(reply.split("#", 1)[1].split()[0])
    assert "已呼叫值班工程师" in reply, reply
    assert pages(d, m) == [("zhou.hao", "paging")]  # its own page (the grouped card still waits for the team)
    d.pushed("wu.lei")
    clock.set(at("2025-03-15T22:07"))
    assert f"已接单 #{n}" in d.say("wu.lei", "收到")
    clock.set(at("2025-03-15T22:11:01"))  # nobody took the second: it goes on down its chain, unlike the first
    d.desk.incidents_round()
    assert pages(d, m) == [("zhou.hao", "missed"), ("wu.lei", "paging")]
    assert f"接单 {m}" in d.pushed_text("wu.lei")


def test_the_one_paged_is_told_when_the_page_is_over_without_them(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(at("2025-03-15T22:00"))
    n = report(d, "zhang.san", NETWORK_DOWN, "整个网点断网了")
    d.pushed("zhou.hao")
    clock.set(at("2025-03-15T22:02"))
    d.say("chen.gang", f"优先级 {n} P3")  # the lead judges it can wait for Monday: the page ends now, and 周浩 hears it
    assert pages(d, n) == [("zhou.hao", "cancelled")]
    [off] = d.pushed("zhou.hao")
    assert "值班呼叫已结束" in off["text"] and "陈刚 把优先级改为 P3" in off["text"], off

    # The lead, last in the chain, is paged; a member takes it meanwhile: the lead (told of no claim of the team's
    # members) hears the page is over.
    m = report(d, "liu.yang", NETWORK_DOWN, "营业厅网络全断")
    for minutes in (5, 10):
        clock.set(at("2025-03-15T22:02") + timedelta(minutes=minutes, seconds=1))
        d.desk.incidents_round()
    assert pages(d, m)[-1] == ("chen.gang", "paging")
    d.pushed("chen.gang")
    d.say("zhou.hao", f"接单 {m}")
    assert pages(d, m)[-1] == ("chen.gang", "cancelled")
    assert "周浩 已接单" in d.pushed_text("chen.gang")
    assert "值班呼叫已结束" not in d.pushed_text("wu.lei")  # (the team's claim notice told him)


def test_a_page_ends_when_its_ticket_becomes_a_major_incidents(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(at("2025-03-15T22:00"))
    n = report(d, "zhang.san", NETWORK_DOWN, "整个网点断网了")
    clock.set(at("2025-03-15T22:02"))
    assert "INC-1" in d.say("chen.gang", f"应急 宣布 济南网点断网 SEV2 #{n}")  # the incident pages its own
    d.pushed("wu.lei")
    clock.set(at("2025-03-15T22:05:01"))
    d.desk.incidents_round()
    assert pages(d, n) == [("zhou.hao", "cancelled")]  # not passed on to 吴磊 beside the incident's page
    assert all("🚨 P1" not in m["text"] for m in d.pushed("wu.lei"))


def test_a_p1_reopened_at_night_into_the_queue_pages_the_on_call(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(at("2025-03-15T22:00"))
    n = report(d, "zhang.san", NETWORK_DOWN, "整个网点断网了")
    d.say("zhou.hao", "收到")
    clock.set(at("2025-03-15T22:30"))
    d.say("zhou.hao", f"解决 {n} 重启了汇聚交换机")
    d.say("chen.gang", "请假 周浩 到 03-17")  # 周浩 goes home ill
    d.pushed("wu.lei")
    clock.set(at("2025-03-15T23:00"))
    d.say("zhang.san", "还是不行 又断了")  # reopened: 周浩 is away, so it is back in the team's queue
    with d.desk.sessions() as s:
        ticket = s.get(Ticket, n)
        assert ticket is not None and ticket.status == "reopened" and ticket.assignee_id is None
    assert pages(d, n)[-1] == ("wu.lei", "paging")
    [page] = d.pushed("wu.lei")
    assert "🚨 P1" in page["text"], page
    clock.set(at("2025-03-15T23:01"))
    assert f"已接单 #{n}" in d.say("wu.lei", "收到")


def test_a_p1_still_waiting_when_the_team_goes_home_pages_the_on_call_once(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(at("2025-03-14T17:20"))  # a Friday, in hours: the team's card, no page
    n = report(d, "zhang.san", NETWORK_DOWN, "整个网点断网了")
    d.desk.incidents_round()
    assert pages(d, n) == []
    clock.set(at("2025-03-14T17:31"))  # nobody took it, and the team's hours are over
    d.desk.incidents_round()
    assert pages(d, n) == [("zhou.hao", "paging")]
    assert any("🚨 P1" in m["text"] for m in d.pushed("zhou.hao"))
    for minutes in (5, 10, 15):  # nobody answers: the chain runs out, the lead is told …
        clock.set(at("2025-03-14T17:31") + timedelta(minutes=minutes, seconds=1))
        d.desk.incidents_round()
    clock.set(at("2025-03-14T18:30"))
    d.desk.incidents_round()
    assert [p for p, _ in pages(d, n)] == ["zhou.hao", "wu.lei", "chen.gang"]  # … and it is not paged all over again


def test_with_the_lead_on_leave_the_team_hears_that_nobody_took_it(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(at("2025-03-16T03:00"))
    with d.desk.sessions() as s:
        lead = s.get(Person, "chen.gang")
        assert lead is not None
        lead.absences.append(Absence(starts_at=at("2025-03-14T00:00"), ends_at=at("2025-03-20T00:00"),
                                     created_at=at("2025-03-14T00:00")))
        s.commit()
    n = report(d, "zhang.san", NETWORK_DOWN, "整个网点断网了")
    for minutes in (5, 10):  # 周浩, then 吴磊 (the lead, away, is passed by): nobody answers
        clock.set(at("2025-03-16T03:00") + timedelta(minutes=minutes, seconds=1))
        d.desk.incidents_round()
    assert [p for p, _ in pages(d, n)] == ["zhou.hao", "wu.lei"]
    assert all("都没有接单" not in m["text"] for m in d.pushed("chen.gang"))  # (away: it went to the team)
    assert "值班链上的人都没有接单" in d.pushed_text("zhou.hao")
