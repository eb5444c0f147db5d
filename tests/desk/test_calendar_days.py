"""The desk's own calendar days: a closure or a make-up workday set by an admin moves every running SLA clock but
7×24, is listed over the statutory days it overrides, and fills a year the calendar package has not published."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tests.clock import TestClock
from tests.dialog import Dialog
from wuyou.desk import calendar_days
from wuyou.desk.models import SlaClock, TicketEvent

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def due(d: Dialog, number: int) -> dict[str, datetime | None]:
    with d.desk.sessions() as s:
        return {c.kind: c.due_at for c in s.scalars(select(SlaClock).where(SlaClock.ticket_id == number,
                                                                            SlaClock.state == "running"))}


def test_a_closure_moves_running_clocks_and_giving_it_back_moves_them_again(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    admin = {"Authorization": f"Bearer {d.token('admin')}"}
    clock.set(at("2026-12-11T17:00"))  # a Friday, half an hour before JN-001 closes (Saturdays 09:00-16:00)
    n = d.report("zhang.san", "1", "打印机卡纸 明天要用")
    assert due(d, n)["response"] == at("2026-12-12T09:30")  # 30 minutes left on Friday, 30 on Saturday
    made = d.client.post("/api/v1/calendar/days", headers=admin,
                         json={"day": "2026-12-12", "kind": "holiday", "name": "公司年会"})
    assert made.status_code == 200, made.text
    assert made.json()["moved"] == 1 and made.json()["days"][0]["source"] == "desk"
    assert due(d, n)["response"] == at("2026-12-14T09:00")  # Saturday is closed now: Monday
    with d.desk.sessions() as s:
        moved = s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == n,
                                                    TicketEvent.kind == "sla_recalculated")).one()
        assert moved.data["response"] == at("2026-12-14T09:00").isoformat() and not moved.public
    listed = d.client.get("/api/v1/calendar?year=2026", headers=admin).json()
    assert {"date": "2026-12-12", "kind": "holiday", "name": "公司年会", "holiday": "", "source": "desk",
            "by": "admin", "region": "", "region_name": ""} in listed
    shown = d.say("li.wei", f"查看 {n}")
    assert "SLA 按服务台日历重算时限" in shown and "12-14 09:00" in shown, shown

    trail = d.client.get("/api/v1/audit", headers=admin).json()  # the audit trail says which day, not only the call
    assert any(e["action"] == "POST /api/v1/calendar/days" and e["target"] == "2026-12-12 holiday 公司年会"
               for e in trail), trail
    gone = d.client.delete("/api/v1/calendar/days/2026-12-12", headers=admin)
    assert gone.status_code == 200 and gone.json() == {"removed": 1, "moved": 1}
    assert due(d, n)["response"] == at("2026-12-12T09:30")
    assert d.client.delete("/api/v1/calendar/days/2026-12-12", headers=admin).status_code == 404


def test_a_year_not_published_yet_takes_its_holidays_by_hand(dialog: Dialog, clock: TestClock) -> None:
    """2027's Spring Festival is not in the calendar package: entered as a range, the clocks skip it; a make-up
    Saturday opens with workday hours."""
    d = dialog
    admin = {"Authorization": f"Bearer {d.token('admin')}"}
    assert calendar_days.statutory_days(2027) == []  # (the package has no 2027 yet)
    clock.set(at("2026-12-20T10:00"))
    assert d.client.get("/api/v1/calendar?year=2027", headers=admin).json() == []
    for body in ({"day": "2027-02-06", "until": "2027-02-13", "kind": "holiday", "name": "2027 春节"},
                 {"day": "2027-02-14", "kind": "workday", "name": "春节调休"}):
        assert d.client.post("/api/v1/calendar/days", headers=admin, json=body).status_code == 200
    listed = d.client.get("/api/v1/calendar?year=2027", headers=admin).json()
    assert [x["date"] for x in listed] == [f"2027-02-{n:02d}" for n in range(6, 15)]
    clock.set(at("2027-02-05T17:00"))  # Friday before the festival, half an hour before closing
    n = d.report("zhang.san", "1", "打印机卡纸")
    assert due(d, n)["response"] == at("2027-02-14T09:00")  # the make-up Sunday (workday hours from 08:30)


def test_bad_days_are_refused_and_only_an_admin_sets_them(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    admin = {"Authorization": f"Bearer {d.token('admin')}"}
    clock.set(at("2026-12-07T10:00"))
    for body, said in (({"day": "2026-12-20", "until": "2026-12-10", "kind": "holiday"}, "before it begins"),
                       ({"day": "2026-12-01", "until": "2027-03-01", "kind": "holiday"}, "at most 62"),
                       ({"day": "2030-01-01", "kind": "holiday"}, "only days from 2025 to 2028"),
                       ({"day": "2026-12-20", "kind": "closed"}, "holiday or workday")):
        bad = d.client.post("/api/v1/calendar/days", headers=admin, json=body)
        assert bad.status_code == 422 and said in bad.json()["detail"], (body, bad.text)
    console = {**admin, "X-Wuyou-Console": "1"}  # the console is told in the admin's language
    said = d.client.post("/api/v1/calendar/days", headers=console, json={"day": "2026-12-20", "until": "2026-12-10",
                                                                         "kind": "holiday"}).json()["detail"]
    assert said == "结束日期（2026-12-10）早于开始日期（2026-12-20）", said
    lead = {"Authorization": f"Bearer {d.token('zhao.min')}"}
    assert d.client.post("/api/v1/calendar/days", headers=lead,
                         json={"day": "2026-12-20", "kind": "holiday"}).status_code == 403
    with d.desk.sessions() as s:
        assert calendar_days.year_days(session=s, year=2026)[0]["source"] == "statutory"  # nothing was written


def test_a_7x24_clock_ignores_the_desk_days(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    admin = {"Authorization": f"Bearer {d.token('admin')}"}
    clock.set(at("2026-12-11T17:00"))
    n = d.report("zhang.san", "1", "打印机卡纸")
    d.say("li.wei", f"优先级 {n} P1")
    before = due(d, n)
    made = d.client.post("/api/v1/calendar/days", headers=admin, json={"day": "2026-12-12", "kind": "holiday"})
    assert made.json()["moved"] == 0 and due(d, n) == before
    assert date(2026, 12, 12).isoformat() in {x["date"] for x in d.client.get("/api/v1/calendar?year=2026",
                                                                              headers=admin).json()}


def test_a_regions_closure_moves_only_its_branches_clocks_and_the_nearest_word_wins(dialog: Dialog,
                                                                                       clock: TestClock) -> None:
    """A typhoon closes Jinan's branches (SD-JN) for three days: Jinan's clocks skip them, Qingdao's do not; a desk-wide
    closure with Qingdao open that day (its own make-up workday) leaves Qingdao's clock where it was."""
    d = dialog
    admin = {"Authorization": f"Bearer {d.token('admin')}"}
    clock.set(at("2026-12-11T17:00"))  # Friday: JN-001 is open on Saturdays, QD-001 is not
    jn = d.report("zhang.san", "1", "打印机卡纸")
    qd = d.report("ma.jing", "1", "打印机卡纸")
    assert due(d, jn)["response"] == at("2026-12-12T09:30") and due(d, qd)["response"] == at("2026-12-14T09:00")
    made = d.client.post("/api/v1/calendar/days", headers=admin, json={
        "day": "2026-12-12", "until": "2026-12-14", "kind": "holiday", "name": "台风停业", "region": "SD-JN"})
    assert made.status_code == 200, made.text
    assert made.json()["moved"] == 1 and made.json()["days"][0]["region_name"] == "济南分公司"
    assert due(d, jn)["response"] == at("2026-12-15T09:00") and due(d, qd)["response"] == at("2026-12-14T09:00")

    for body in ({"day": "2026-12-14", "kind": "holiday", "name": "全行年会"},
                 {"day": "2026-12-14", "kind": "workday", "name": "青岛照常营业", "region": "SD-QD"}):
        assert d.client.post("/api/v1/calendar/days", headers=admin, json=body).status_code == 200
    assert due(d, qd)["response"] == at("2026-12-14T09:00")  # Qingdao's own word on the 14th is nearer
    listed = [x for x in d.client.get("/api/v1/calendar?year=2026", headers=admin).json() if x["date"] == "2026-12-14"]
    assert [(x["region"], x["region_name"], x["kind"]) for x in listed] == [
        ("", "", "holiday"), ("SD-JN", "济南分公司", "holiday"), ("SD-QD", "青岛分公司", "workday")]

    gone = d.client.delete("/api/v1/calendar/days/2026-12-12?until=2026-12-14&region=SD-JN", headers=admin)
    assert gone.json()["removed"] == 3, gone.text
    assert due(d, jn)["response"] == at("2026-12-12T09:30")  # Saturday is Jinan's again (the desk closes Monday only)
    assert d.client.delete("/api/v1/calendar/days/2026-12-12?region=SD-JN", headers=admin).status_code == 404
    console = {**admin, "X-Wuyou-Console": "1"}
    bad = d.client.post("/api/v1/calendar/days", headers=console,
                        json={"day": "2026-12-20", "kind": "holiday", "region": "SD-XX"})
    assert bad.status_code == 422 and bad.json()["detail"] == "没有地区“SD-XX”", bad.text
