"""Reports over a day of known tickets: every figure checked, within the caller's scope, on SQLite and on
PostgreSQL; the API's JSON and CSV."""

from __future__ import annotations

from csv import DictReader
from datetime import UTC, date, datetime
from io import StringIO
from typing import Any

from tests.clock import TestClock
from tests.dialog import Dialog

DAY = date(2026, 11, 23)  # a Monday
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in 济南


def a_day(d: Dialog, clock: TestClock) -> tuple[int, int]:
    clock.set(T0)
    first = d.report("zhang.san", "1", "打印机卡纸，出不了凭条")
    clock.advance(minutes=10)
    d.say("li.wei", f"接单 {first}")
    clock.advance(minutes=50)
    d.say("li.wei", f"解决 {first} 换了搓纸轮")
    zhang = {"Authorization": f"Bearer {d.token('zhang.san')}"}
    assert d.client.post(f"/api/v1/tickets/{first}/rate", headers=zhang, json={"rating": 4}).status_code == 200
    second = d.report("ma.jing", "1", "青岛打印机不进纸")
    # A suggestion that solved it: a deflection (another clerk: 张三 would be asked whether #first is back).
    assert "1. 打印机卡纸的处理方法" in d.say("liu.yang", "打印机卡纸了怎么办")
    d.say("liu.yang", "1")
    d.say("liu.yang", "解决了")
    return first, second


def get(d: Dialog, person: str, path: str) -> Any:
    answer = d.client.get(path, headers={"Authorization": f"Bearer {d.token(person)}"})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_summary_counts_a_known_day(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    a_day(d, clock)
    m = get(d, "admin", f"/api/v1/reports/summary?from={DAY}&to={DAY}")["metrics"]
    assert (m["created"], m["resolved"], m["backlog"]) == (2, 1, 1)
    assert m["first_response_median"] == 600 and m["resolution_median"] == 3600
    assert m["reopen_rate"] == 0 and m["csat_average"] == 4 and m["csat_count"] == 1 and m["csat_good"] == 1
    assert m["suggestion_sessions"] == 1 and m["deflection_rate"] == 1
    assert m["sla_response_met"] == 1 and m["sla_resolution_met"] == 1
    jinan = get(d, "li.wei", f"/api/v1/reports/summary?from={DAY}&to={DAY}")["metrics"]
    assert (jinan["created"], jinan["backlog"]) == (1, 0)  # 青岛's ticket is not his to see
    before = get(d, "admin", "/api/v1/reports/summary?from=2026-11-01&to=2026-11-22")["metrics"]
    assert before["created"] == 0 and before["first_response_median"] is None


def test_breakdowns_and_the_trend(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    a_day(d, clock)
    regions = get(d, "admin", f"/api/v1/reports/breakdown?by=region&from={DAY}&to={DAY}")["items"]
    assert {(r["key"], r["metrics"]["created"]) for r in regions} == {("SD-JN", 1), ("SD-QD", 1)}
    # KB deflection where the sessions were: 刘洋's, solved by an article, in Jinan's region
    assert {r["key"]: (r["metrics"]["suggestion_sessions"], r["metrics"]["deflection_rate"]) for r in regions} == {
        "SD-JN": (1, 1.0), "SD-QD": (0, None)}
    branches = get(d, "admin", f"/api/v1/reports/breakdown?by=branch&from={DAY}&to={DAY}")["items"]
    jn002 = next(r for r in branches if r["key"] == "JN-002")  # no ticket there: its row is its sessions
    assert jn002["label"] == "济南历下营业厅" and jn002["metrics"]["created"] == 0
    assert (jn002["metrics"]["suggestion_sessions"], jn002["metrics"]["deflection_rate"]) == (1, 1.0)
    channels = get(d, "admin", f"/api/v1/reports/breakdown?by=channel&from={DAY}&to={DAY}")["items"]
    assert [(r["key"], r["metrics"]["suggestion_sessions"]) for r in channels] == [("http", 1)]
    engineers = get(d, "admin", f"/api/v1/reports/breakdown?by=engineer&from={DAY}&to={DAY}")["items"]
    li = next(r for r in engineers if r["key"] == "li.wei")
    assert li["label"] == "李伟" and li["metrics"]["resolution_median"] == 3600
    trend = get(d, "admin", f"/api/v1/reports/trend?from={DAY}&to=2026-11-24")
    assert trend["interval"] == "day"
    # (to tomorrow: a day to come has no figures — it showed today's backlog)
    assert [(b["start"], b["created"], b["resolved"], b["backlog"]) for b in trend["items"]] == [
        ("2026-11-23", 2, 1, 1)]


def test_low_ratings_are_counted_beside_the_average(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    _, second = a_day(d, clock)
    d.say("sun.li", f"接单 {second}")
    clock.advance(minutes=5)
    d.say("sun.li", f"解决 {second} 清理了进纸轮")
    ma = {"Authorization": f"Bearer {d.token('ma.jing')}"}
    assert d.client.post(f"/api/v1/tickets/{second}/rate", headers=ma, json={"rating": 1}).status_code == 200
    m = get(d, "admin", f"/api/v1/reports/summary?from={DAY}&to={DAY}")["metrics"]
    assert (m["csat_count"], m["csat_average"], m["csat_low"]) == (2, 2.5, 1)
    engineers = get(d, "admin", f"/api/v1/reports/breakdown?by=engineer&from={DAY}&to={DAY}")["items"]
    assert {r["key"]: r["metrics"]["csat_low"] for r in engineers} == {"li.wei": 0, "sun.li": 1}
    admin = {"Authorization": f"Bearer {d.token('admin')}"}
    sheet = d.client.get(f"/api/v1/reports/breakdown.csv?by=engineer&from={DAY}&to={DAY}", headers=admin).text
    lines = sheet.lstrip("\ufeff").splitlines()
    assert "低分(1–2) low ratings" in lines[0] and any(line.startswith("sun.li,") and ",1," in line
                                                       for line in lines[1:])


def test_csv_export_and_bad_requests(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    a_day(d, clock)
    admin = {"Authorization": f"Bearer {d.token('admin')}"}
    sheet = d.client.get(f"/api/v1/reports/breakdown.csv?by=team&from={DAY}&to={DAY}", headers=admin)
    assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("text/csv")
    assert "attachment" in sheet.headers["content-disposition"]
    text = sheet.content.decode("utf-8")
    assert text.startswith("\ufeff") and "新建 created" in text.splitlines()[0]
    # The times are the JSON's medians, in minutes, and say so (they were headed 平均, average); both SLA verdicts.
    rows = list(DictReader(StringIO(text.lstrip("\ufeff"))))
    teams = {r["key"]: r["metrics"] for r in get(d, "admin", f"/api/v1/reports/breakdown?by=team&from={DAY}&to={DAY}")
             ["items"]}
    for row in rows:
        metrics = teams[row["team"]]
        for column, field in (("首次响应中位数(分钟) response median min", "first_response_median"),
                              ("解决用时中位数(分钟) resolution median min", "resolution_median")):
            expected = "" if metrics[field] is None else f"{metrics[field] / 60:.1f}"
            assert row[column] == expected, (column, row)
        met = metrics["sla_response_met"]
        assert row["响应SLA达标% response SLA met"] == ("" if met is None else f"{met * 100:.1f}")
    assert any(row["响应SLA达标% response SLA met"] for row in rows) and "平均" not in text.splitlines()[0]
    trend = d.client.get(f"/api/v1/reports/trend.csv?from={DAY}&to={DAY}", headers=admin).content.decode()
    assert trend.splitlines()[1] == "2026-11-23,2,1,1"
    reporter = {"Authorization": f"Bearer {d.token('zhang.san')}"}
    assert d.client.get("/api/v1/reports/summary", headers=reporter).status_code == 403
    assert d.client.get("/api/v1/reports/summary?from=2026-12-01&to=2026-11-01", headers=admin).status_code == 422
    assert d.client.get("/api/v1/reports/breakdown?by=planet", headers=admin).status_code == 422
    assert d.client.get("/api/v1/reports/summary").status_code == 401


def test_the_last_sla_verdict_counts_and_a_cancelled_ticket_leaves_the_backlog(dialog: Dialog,
                                                                                 clock: TestClock) -> None:
    d = dialog
    clock.set(T0)
    first = d.report("zhang.san", "1", "打印机卡纸，出不了凭条")
    second = d.report("ma.jing", "1", "青岛打印机不进纸")
    clock.advance(minutes=5)
    qd = {"Authorization": f"Bearer {d.token('ma.jing')}"}
    assert d.client.post(f"/api/v1/tickets/{second}/cancel", headers=qd, json={"reason": "自己修好了"}
                         ).status_code == 200
    clock.advance(minutes=5)
    d.say("li.wei", f"接单 {first}")
    clock.advance(minutes=50)
    d.say("li.wei", f"解决 {first} 换了搓纸轮")  # in time: 1 h of an 8 h target
    zhang = {"Authorization": f"Bearer {d.token('zhang.san')}"}
    assert d.client.post(f"/api/v1/tickets/{first}/reopen", headers=zhang, json={"reason": "又卡了"}
                         ).status_code == 200
    clock.advance(days=2)  # Wednesday 11:00: well past the restarted 8 business hours
    d.say("li.wei", f"解决 {first} 换了整个进纸组件")
    m = get(d, "admin", f"/api/v1/reports/summary?from={DAY}&to=2026-11-25")["metrics"]
    assert (m["created"], m["resolved"], m["backlog"]) == (2, 1, 0)
    assert m["sla_resolution_met"] == 0 and m["reopen_rate"] == 1  # the verdict of the last clock
    by_team = get(d, "admin", f"/api/v1/reports/breakdown?by=team&from={DAY}&to={DAY}")["items"]
    assert sum(r["metrics"]["created"] for r in by_team) == 2
    assert next(r for r in by_team if r["metrics"]["resolved"])["metrics"]["sla_resolution_met"] == 0
    trend = get(d, "admin", f"/api/v1/reports/trend?from={DAY}&to=2026-11-25")["items"]
    assert [(b["created"], b["resolved"], b["backlog"]) for b in trend] == [(2, 0, 1), (0, 0, 1), (0, 1, 0)]
    jinan = get(d, "li.wei", f"/api/v1/reports/trend?from={DAY}&to=2026-11-25")["items"]  # his region only
    assert [(b["created"], b["resolved"], b["backlog"]) for b in jinan] == [(1, 0, 1), (0, 0, 1), (0, 1, 0)]
    weeks = get(d, "li.wei", "/api/v1/reports/trend?from=2026-11-16&to=2026-11-29&interval=week")["items"]
    assert [(b["start"], b["created"], b["resolved"], b["backlog"]) for b in weeks] == [
        ("2026-11-16", 0, 0, 0), ("2026-11-23", 1, 1, 0)]


def test_first_contact_resolution(dialog: Dialog, clock: TestClock) -> None:
    """Resolved by whoever first took it, never transferred or given back, the reporter never asked back, never
    reopened: the first of these four tickets only."""
    d = dialog
    clock.set(T0)
    plain = d.report("zhang.san", "1", "打印机卡纸，出不了凭条")
    asked = d.report("zhang.san", "2", "POS机刷卡没反应")
    handed = d.report("zhang.san", "1", "打印机不进纸")
    back = d.report("zhang.san", "1", "打印机有异响")
    for number in (plain, asked, handed, back):
        d.say("li.wei", f"接单 {number}")
    d.say("li.wei", f"追问 {asked} 哪台POS机？")
    d.say("zhang.san", "1号柜台那台")
    d.say("li.wei", f"转派 {handed} 王芳")
    d.say("wang.fang", f"接单 {handed}")
    for number, engineer in ((plain, "li.wei"), (asked, "li.wei"), (handed, "wang.fang"), (back, "li.wei")):
        clock.advance(minutes=5)
        d.say(engineer, f"解决 {number} 处理好了")
    assert "重新打开" in d.say("zhang.san", f"/reopen {back} 还是响")  # reopened …
    clock.advance(minutes=5)
    d.say("li.wei", f"接单 {back}")
    d.say("li.wei", f"解决 {back} 换了打印头")  # … and resolved again: not at first contact
    m = get(d, "admin", f"/api/v1/reports/summary?from={DAY}&to={DAY}")["metrics"]
    assert m["resolved"] == 4 and m["first_contact_rate"] == 0.25, m
    (li,) = [r for r in get(d, "admin", f"/api/v1/reports/breakdown?by=engineer&from={DAY}&to={DAY}")["items"]
             if r["key"] == "li.wei"]
    assert li["metrics"]["first_contact_rate"] == 1 / 3
    csv = d.client.get(f"/api/v1/reports/breakdown.csv?by=engineer&from={DAY}&to={DAY}",
                       headers={"Authorization": f"Bearer {d.token('admin')}"}).text
    assert "一次解决率% first-contact resolution" in csv and ",33.3," in csv


def test_a_range_that_cannot_be_is_refused_in_the_consoles_words(dialog: Dialog) -> None:
    d = dialog
    admin = {"Authorization": f"Bearer {d.token('admin')}"}
    backwards = "/api/v1/reports/summary?from=2026-11-23&to=2026-11-01"
    assert d.client.get(backwards, headers=admin).json()["detail"] == "`from` is after `to`"  # the API: English
    console = {**admin, "X-Wuyou-Console": "1"}
    said = d.client.get(backwards, headers=console).json()["detail"]
    assert said == "开始日期（2026-11-23）晚于结束日期（2026-11-01）", said
    long = d.client.get("/api/v1/reports/summary?from=2020-01-01&to=2026-11-01", headers=console)
    assert long.status_code == 422 and "一次最多看" in long.json()["detail"]



def test_the_first_response_stays_the_first_claim_through_a_reopen_and_a_transfer(dialog: Dialog,
                                                                                   clock: TestClock) -> None:
    """The reports read the first claim: a reopen (the ticket back with its engineer, to take again) and a transfer
    cleared the claim, and the first response became a later claim's, hours later, or vanished meanwhile."""
    d = dialog
    clock.set(T0)
    n = d.report("zhang.san", "1", "打印机卡纸，出不了凭条")
    clock.advance(minutes=10)
    d.say("li.wei", f"接单 {n}")
    clock.advance(minutes=50)
    d.say("li.wei", f"解决 {n} 换了搓纸轮")
    assert "已重新打开" in d.say("zhang.san", "还是不行")  # back with 李伟, not taken yet
    clock.advance(hours=2)
    m = get(d, "admin", f"/api/v1/reports/summary?from={DAY}&to={DAY}")["metrics"]
    assert m["first_response_median"] == 600, m
    d.say("li.wei", f"接单 {n}")
    d.say("li.wei", f"转派 {n} 济南终端组")  # back to the queue: the claim is cleared again
    clock.advance(hours=1)
    d.say("wang.fang", f"接单 {n}")
    m = get(d, "admin", f"/api/v1/reports/summary?from={DAY}&to={DAY}")["metrics"]
    assert m["first_response_median"] == 600, m
    assert m["sla_response_met"] == 1, m  # the first response's verdict (the later claims' clocks ran out)
    admin = {"Authorization": f"Bearer {d.token('admin')}"}
    rows = d.client.get("/api/v1/tickets.csv", headers=admin).content.decode("utf-8-sig").splitlines()
    header = rows[0].split(",")
    row = next(r.split(",") for r in rows[1:] if r.startswith(f"{n},"))
    assert row[header.index("first_claimed_at")] == "2026-11-23 10:10", row  # (济南 time)
    assert row[header.index("claimed_at")] == "2026-11-23 14:00", row


def test_a_breakdowns_times_are_medians_as_they_are_called(dialog: Dialog, clock: TestClock) -> None:
    """Three tickets of one team taken after 10, 20 and 90 minutes: its row's first response is 20 minutes, the
    median its name, the CSV's header and the console say (it was the average, 40, under those names)."""
    d = dialog
    clock.set(T0)
    numbers = [d.report("zhang.san", "1", text) for text in ("打印机卡纸，出不了凭条", "打印机不进纸", "打印机有异响")]
    for n, minutes in zip(numbers, (10, 20, 90), strict=True):
        clock.set(T0)
        clock.advance(minutes=minutes)
        d.say("li.wei", f"接单 {n}")
        clock.advance(minutes=60)
        d.say("li.wei", f"解决 {n} 处理好了")
    (team,) = get(d, "admin", f"/api/v1/reports/breakdown?by=team&from={DAY}&to={DAY}")["items"]
    m = team["metrics"]
    assert (m["first_response_median"], m["first_response_p90"]) == (1200, 4560), m  # p90: 20 + 0.8 × 70 minutes
    assert (m["resolution_median"], m["resolution_p90"]) == (4800, 8160), m
    summary = get(d, "admin", f"/api/v1/reports/summary?from={DAY}&to={DAY}")["metrics"]
    assert summary["first_response_median"] == m["first_response_median"]  # one team: the whole desk's figure
    sheet = d.client.get(f"/api/v1/reports/breakdown.csv?by=team&from={DAY}&to={DAY}",
                         headers={"Authorization": f"Bearer {d.token('admin')}"}).content.decode("utf-8-sig")
    (row,) = DictReader(StringIO(sheet))
    assert (row["首次响应中位数(分钟) response median min"], row["解决用时中位数(分钟) resolution median min"]) == (
        "20.0", "80.0"), row


def test_articles_followed_by_a_ticket_filed_with_baozhang_are_no_deflection(dialog: Dialog, clock: TestClock) -> None:
    """Offered articles, the reporter files a ticket with 报障 instead of answering them: the KB did not deflect it.
    Their session stayed open and counted as "ended without a ticket" a day later (deflection 100%)."""
    d = dialog
    clock.set(T0)
    assert "1. 打印机卡纸的处理方法" in d.say("liu.yang", "打印机卡纸了怎么办")
    n = d.report("liu.yang", "1", "打印机卡纸 按文章做了也不行")
    clock.advance(days=2)
    m = get(d, "admin", f"/api/v1/reports/summary?from={DAY}&to={DAY}")["metrics"]
    assert (m["suggestion_sessions"], m["deflection_rate"]) == (1, 0), m
    branches = get(d, "admin", f"/api/v1/reports/breakdown?by=branch&from={DAY}&to={DAY}")["items"]
    assert [(r["key"], r["metrics"]["created"], r["metrics"]["deflection_rate"]) for r in branches] == [
        ("JN-002", 1, 0)], (n, branches)
