"""The weekly digest on a generated week: volume against the week before, the recurring problems and the KB gaps
(tickets the matcher has nothing for), delivered once to each lead on Monday morning, as JSON, Markdown and a
page; drafting an article from a gap gives one the matcher then offers for those tickets' wording."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.clock import TestClock
from tests.conftest import shared
from tests.dialog import Dialog
from tests.incident_org import REPORTERS, import_incident_org
from wuyou.adapters.bootstrap import Desk
from wuyou.db import utcnow
from wuyou.desk.models import OutboxMessage
from wuyou.kb import articles, documents

SH = ZoneInfo("Asia/Shanghai")
PRINTER = ["打印机卡纸了", "前台打印机老是卡纸", "打印机又卡纸 一直卡", "打印机卡纸 取不出来", "柜台打印机卡纸"]
FINGERPRINT = ["指纹仪识别不了指纹，柜员授权不了", "指纹仪一直提示采集失败", "授权指纹仪坏了 主管没法授权",
               "指纹仪采集失败 授权不了"]
SINGLES = ["邮箱满了发不出邮件", "VPN连不上", "电脑蓝屏了"]


def at(day: int, hhmm: str) -> datetime:
    return datetime.fromisoformat(f"2026-03-{day:02d}T{hhmm}").replace(tzinfo=SH)


@pytest.fixture
def d(desk: Desk) -> Iterator[Dialog]:
    import_incident_org(desk)
    with desk.sessions() as session:
        articles.upsert(session=session, docs=documents.read_dir(shared("kb-sample/kb")), now=utcnow())
        session.commit()
    with Dialog(desk) as dialog:
        yield dialog


def file(d: Dialog, clock: TestClock, day: int, hhmm: str, reporter: str, leaf: str, text: str) -> int:
    clock.set(at(day, hhmm))
    return d.report(reporter, leaf, text)


def test_a_desk_with_no_tickets_yet_sends_no_digest_of_zeros(d: Dialog, clock: TestClock) -> None:
    clock.set(at(16, "08:05"))  # a Monday, on a desk just set up
    assert d.desk.digests_round() == 0
    file(d, clock, 16, "09:00", REPORTERS[0], "1", "打印机卡纸了")  # this week's: next Monday's digest has it
    assert d.desk.digests_round() == 0
    clock.set(at(23, "08:05"))
    assert d.desk.digests_round() == 3


def test_the_digest_of_a_generated_week(d: Dialog, clock: TestClock) -> None:
    for i, text in enumerate(("打印机卡纸了", "VPN连不上")):  # the week before: 2 tickets
        file(d, clock, 3, f"1{i}:00", REPORTERS[i], "1", text)
    printer = [file(d, clock, 10, f"09:{i}0", REPORTERS[i], "1", t) for i, t in enumerate(PRINTER)]
    fingerprint = [file(d, clock, 11 + i % 2, f"10:{i}0", REPORTERS[-1 - i], "2", t) for i, t in enumerate(FINGERPRINT)]
    singles = [file(d, clock, 13, f"11:{i}0", REPORTERS[i], "4", t) for i, t in enumerate(SINGLES)]
    d.say("sun.li", f"接单 {fingerprint[0]}")  # 青岛终端组: the first fingerprint report is from QD-003
    resolved = d.say("sun.li", f"解决 {fingerprint[0]} 重新插拔指纹仪的 USB 线，重装指纹仪驱动后恢复")
    assert f"#{fingerprint[0]}" in resolved and "解决" in resolved, resolved
    clock.set(at(13, "15:00"))  # its reporter is not happy
    d.say(REPORTERS[-1], "解决了")
    assert "已关闭" in d.say(REPORTERS[-1], "1 修了两次才好")

    # Monday 16 March, before and after 08:00: the week of 9 March goes to each lead and admin once.
    clock.set(at(16, "07:30"))
    assert d.desk.digests_round() == 0
    clock.set(at(16, "08:05"))
    assert d.desk.digests_round() == 3  # zhao.min, chen.gang, admin
    assert d.desk.digests_round() == 0
    with d.desk.sessions() as s:
        (chat,) = s.scalars(select(OutboxMessage).where(OutboxMessage.template == "digest",
                                                        OutboxMessage.person_id == "zhao.min")).all()
    assert chat.params["week"] == "2026-03-09" and chat.params["created"] == 12 and chat.params["before"] == 2

    clock.set(at(16, "09:00"))  # a ticket of that week resolved after it: not open at its end's count
    d.say("zhou.hao", f"接单 {singles[0]}")
    assert "已标记解决" in d.say("zhou.hao", f"解决 {singles[0]} 证书已更新")
    lead = {"Authorization": f"Bearer {d.token('zhao.min')}"}
    digest = d.client.get("/api/v1/digest", headers=lead).json()  # the last full week by default
    assert (digest["week"], digest["created"], digest["created_before"]) == ("2026-03-09", 12, 2)
    assert [b["created"] for b in digest["daily"]] == [0, 5, 2, 2, 3, 0, 0]  # Monday to Sunday
    # A week gone by: its backlog is what was open at its end, not what is open now (one fewer since).
    summary = d.client.get("/api/v1/reports/summary", params={"from": "2026-03-16", "to": "2026-03-16"},
                           headers=lead).json()
    assert digest["backlog"] == digest["daily"][-1]["backlog"] == summary["metrics"]["backlog"] + 1, summary
    this_week = d.client.get("/api/v1/digest", params={"week": "2026-03-16"}, headers=lead).json()
    assert [b["start"] for b in this_week["daily"]] == ["2026-03-16"]  # (the days to come have no figures yet)
    recurring = {frozenset(c["tickets"]) for c in digest["recurring"]}
    assert frozenset(printer) in recurring and frozenset(fingerprint) in recurring
    assert not any(set(c["tickets"]) & set(singles) for c in digest["recurring"])
    assert [sorted(c["tickets"]) for c in digest["gaps"]] == [sorted(fingerprint)]  # the KB covers the printers
    assert [(r["id"], r["rating"], r["comment"], r["engineer"]) for r in digest["low_ratings"]] == [
        (fingerprint[0], 1, "修了两次才好", "孙立")]

    md = d.client.get("/api/v1/digest.md", params={"week": "2026-03-11"}, headers=lead)
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert "知识库缺口" in md.text and "指纹仪" in md.text and "/console/digest?week=2026-03-09" in md.text
    assert "一次解决率" in md.text and "低分评价" in md.text and "修了两次才好" in md.text
    page = d.client.get("/console/digest", params={"week": "2026-03-09"}, headers=lead)
    assert page.status_code == 200 and "起草知识" in page.text and "修了两次才好" in page.text

    # Draft from the gap, publish, and the matcher offers it for those tickets' wording.
    drafted = d.client.post("/api/v1/digest/drafts", json={"tickets": digest["gaps"][0]["tickets"]}, headers=lead)
    assert drafted.status_code == 201, drafted.text
    article = drafted.json()["article"]
    assert article in d.say("zhao.min", f"发布知识 {article}")
    with d.desk.sessions() as s:
        doc = articles.get_doc(session=s, article_id=article)
        assert doc is not None and doc.status == "published" and "重装指纹仪驱动" in doc.steps
        matcher = d.desk.bot.index.matcher(s)
        for text in FINGERPRINT:
            assert article in [m.article_id for m in matcher.suggest(text)], text
    # ... and a reporter writing it that way is offered the new article.
    assert "先试试" in d.say("zhang.san", FINGERPRINT[1])


def test_the_digest_is_for_leads_and_admins(d: Dialog) -> None:
    reporter = {"Authorization": f"Bearer {d.token('zhang.san')}"}
    assert d.client.get("/api/v1/digest", headers=reporter).status_code == 403
    engineer = {"Authorization": f"Bearer {d.token('li.wei')}"}
    assert d.client.post("/api/v1/digest/drafts", json={"tickets": [1]}, headers=engineer).status_code == 403


def test_the_slowest_tickets_are_the_slowest(d: Dialog, clock: TestClock) -> None:
    """Six tickets resolved in the week, the last reported the slowest (two days): it heads the five slowest. On SQLite
    the instants are text, and ordering by their difference put them all level: the first five filed were shown."""
    texts = ["邮箱满了发不出邮件", "VPN连不上", "电脑蓝屏了", "网银盾插上没反应", "叫号机不出号", "门禁刷卡进不去"]
    numbers = [file(d, clock, 10, f"09:{i}0", REPORTERS[i], "4", text) for i, text in enumerate(texts)]
    for i, n in enumerate(numbers[:-1]):
        clock.set(at(10, f"11:{i}0"))  # two hours or so each
        d.say("zhou.hao", f"接单 {n}")
        d.say("zhou.hao", f"解决 {n} 处理好了")
    clock.set(at(12, "09:50"))  # the last one: two days
    d.say("zhou.hao", f"接单 {numbers[-1]}")
    d.say("zhou.hao", f"解决 {numbers[-1]} 处理好了")
    clock.set(at(16, "09:00"))
    admin = {"Authorization": f"Bearer {d.token('admin')}"}
    slowest = d.client.get("/api/v1/digest", params={"week": "2026-03-09"}, headers=admin).json()["slowest"]
    assert [(s["id"], s["hours"]) for s in slowest][:2] == [(numbers[-1], 48.0), (numbers[0], 2.0)], slowest
