"""Announcements end to end: a lead's notice to region SD-JN reaches each person of its branches once, on their
own platform; 收到 is counted per branch on the notice's page and silent branches are reminded; a maintenance
window answers reports about its system instead of opening tickets, and keeps them out of surge detection; a
scheduled notice is corrected, a sent one's window moved; a lead sees the notices that reach their branches."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import func, select

from tests.adapters.fake_wechat import FakeWeChat
from tests.clock import TestClock
from tests.conftest import shared
from tests.dialog import Dialog
from wuyou.adapters.bootstrap import Desk
from wuyou.bot.messages import Chat, Inbound, Sender
from wuyou.desk.incidents.models import FaultReport, Incident, SurgeOffer
from wuyou.desk.models import OutboxMessage, Ticket
from wuyou.desk.org import import_org

SH = ZoneInfo("Asia/Shanghai")
JN_BRANCHES = ["JN-001", "JN-002", "JN-003"]
# Per SD-JN branch: two clerks on WeChat, two on the HTTP channel (besides the sample org's own people).
CLERKS = {b: [(f"{b.lower()}.{i}", "wechat" if i < 2 else "http") for i in range(4)] for b in JN_BRANCHES}
QD_CLERK = "qd-001.9"
BJ_CLERK = "bj-001.1"  # outside 赵敏's regions


def at(hhmm: str) -> datetime:
    return datetime.fromisoformat(f"2026-03-10T{hhmm}").replace(tzinfo=SH)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeWeChat]:
    server = FakeWeChat()
    yield server
    server.close()


@pytest.fixture
def channels_file(tmp_path: Path, fake: FakeWeChat) -> Path:
    path = tmp_path / "channels.yaml"
    path.write_text("wechat:\n  main: {app_id: wx0123456789abcdef, app_secret: s3cret, token: t, "
                    f"aes_key: abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG, api_base: '{fake.url}'}}\n",
                    encoding="utf-8")
    fake.sent.clear()
    return path


@pytest.fixture
def d(desk: Desk) -> Iterator[Dialog]:
    doc = yaml.safe_load(shared("org-sample.yaml").read_text(encoding="utf-8"))
    doc["branches"].append({"code": "JN-003", "name": "济南经十路支行", "region": "SD-JN", "equipment": ["POS机"]})
    doc["regions"][0]["children"].append({"code": "BJ", "name": "北京分公司"})  # outside 赵敏's regions
    doc["branches"].append({"code": "BJ-001", "name": "北京西单支行", "region": "BJ"})
    for branch, clerks in CLERKS.items():
        for pid, platform in clerks:
            doc["people"].append({"id": pid, "name": f"柜员{pid}", "role": "reporter", "branch": branch,
                                  "identities": {platform: f"o-{pid}" if platform == "wechat" else pid}})
    doc["people"].append({"id": QD_CLERK, "name": "青岛柜员", "role": "reporter", "branch": "QD-001",
                          "identities": {"http": QD_CLERK}})
    doc["people"].append({"id": BJ_CLERK, "name": "北京柜员", "role": "reporter", "branch": "BJ-001",
                          "identities": {"http": BJ_CLERK}})
    with desk.sessions() as session:
        import_org(session=session, doc=doc)
        session.commit()
    with Dialog(desk) as dialog:
        yield dialog


def reached(d: Dialog) -> dict[str, str]:
    """Person → platform, for every person of SD-JN's branches (the sample org's zhang.san is on WeChat too)."""
    people = {pid: platform for clerks in CLERKS.values() for pid, platform in clerks}
    return {**people, "zhang.san": "wechat", "liu.yang": "http"}


def say_as(d: Dialog, pid: str, platform: str, text: str) -> str:
    if platform == "http":
        return d.say(pid, text)
    openid = "oJN001zhangsan" if pid == "zhang.san" else f"o-{pid}"
    answer = d.desk.bot.receive(Inbound(platform="wechat", account="main", sender=Sender(openid), text=text,
                                        chat=Chat("direct", openid), dedup_key=f"{pid}:{text}:{d.desk.clock()}"))
    return "\n".join(r.text for r in answer.replies)


def send_notice(d: Dialog, text: str) -> int:
    preview = d.say("zhao.min", text)
    assert "回复 1 确认发送" in preview, preview
    sent = d.say("zhao.min", "1")
    match = re.search(r"公告 #(\d+) 已发出", sent)
    assert match, sent
    return int(match.group(1))


def test_a_notice_to_sd_jn_reaches_everyone_once_and_counts_acknowledgements(d: Dialog, fake: FakeWeChat,
                                                                             clock: TestClock) -> None:
    clock.set(at("09:00"))
    people = reached(d)
    preview = d.say("zhao.min", "公告 SD-JN 重要 今晚 22:00 后请关闭柜面终端，明早开机前不要插卡")
    assert f"{len(JN_BRANCHES)} 个网点的 {len(people)} 人" in preview, preview
    assert d.pushed("zhang.san") == []  # nothing goes out before the sender confirms
    notice = send_notice(d, "公告 SD-JN 重要 今晚 22:00 后请关闭柜面终端，明早开机前不要插卡")
    while d.desk.deliverer.run_once():
        pass
    for pid, platform in people.items():
        if platform == "http":
            texts = [m["text"] for m in d.pushed(pid)]
        else:
            texts = fake.texts_to("oJN001zhangsan" if pid == "zhang.san" else f"o-{pid}")
        assert len(texts) == 1 and "关闭柜面终端" in texts[0] and "收到" in texts[0], (pid, texts)
    assert d.pushed(QD_CLERK) == [] and d.pushed("ma.jing") == []  # QD is not SD-JN
    with d.desk.sessions() as s:  # exactly one notification per person: none twice, nobody else
        rows = s.scalars(select(OutboxMessage.person_id).where(OutboxMessage.template == "notice")).all()
    assert sorted(rows) == sorted(people)

    # Half of them answer 收到, all of them at JN-001 and JN-002's first clerks: JN-003 stays silent but one.
    answering = sorted(people)[: len(people) // 2]
    for pid in answering:
        assert "已确认收到" in say_as(d, pid, people[pid], "收到"), pid
    page = d.client.get(f"/api/v1/notices/{notice}", headers={"Authorization": f"Bearer {d.token('zhao.min')}"})
    assert page.status_code == 200, page.text
    body = page.json()
    assert (body["people"], body["acknowledged"]) == (len(people), len(answering))
    by_branch = {row["code"]: row for row in body["by_branch"]}
    for branch in JN_BRANCHES:
        members = [p for p in people if p.startswith(branch.lower())] + (
            ["zhang.san"] if branch == "JN-001" else ["liu.yang"] if branch == "JN-002" else [])
        assert by_branch[branch]["people"] == len(members)
        assert by_branch[branch]["acknowledged"] == len([p for p in members if p in answering])
    assert body["branches_acknowledged"] == sum(1 for b in JN_BRANCHES if by_branch[b]["acknowledged"])
    # A second 收到 changes nothing; the console page shows the same counts.
    say_as(d, answering[0], people[answering[0]], "收到")
    again = d.client.get(f"/api/v1/notices/{notice}", headers={"Authorization": f"Bearer {d.token('zhao.min')}"})
    assert again.json()["acknowledged"] == len(answering)

    # After four hours the branches where nobody answered are reminded, once; the others are not.
    silent = [b for b in JN_BRANCHES if by_branch[b]["acknowledged"] == 0]
    clock.set(at("13:01"))
    d.desk.notices_round()
    d.desk.notices_round()
    with d.desk.sessions() as s:
        reminded = s.scalars(select(OutboxMessage.person_id).where(OutboxMessage.template == "notice_reminder")).all()
    expected = [p for p in people if any(p.startswith(b.lower()) for b in silent)]
    assert sorted(reminded) == sorted(expected)


def test_a_maintenance_window_answers_reports_instead_of_opening_tickets(d: Dialog, clock: TestClock) -> None:
    clock.set(at("21:00"))
    preview = d.say("zhao.min", "维护通知 核心系统 22:00-23:30 SD-JN 版本升级")
    assert "22:00" in preview and "23:30" in preview, preview
    send_notice(d, "维护通知 核心系统 22:00-23:30 SD-JN 版本升级")

    clock.set(at("22:30"))
    reply = d.say("liu.yang", "核心系统登录不了")
    assert "计划维护" in reply and "23:30" in reply, reply
    # Reports during the window open nothing and do not feed surge detection, from however many branches.
    for clerks in CLERKS.values():
        for pid, platform in clerks:
            if platform == "http":
                assert "计划维护" in d.say(pid, "核心系统登录不了，一直转圈"), pid
    with d.desk.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 0
        assert s.scalar(select(func.count()).select_from(FaultReport)) == 0
        assert s.scalar(select(func.count()).select_from(SurgeOffer)) == 0
        assert s.scalar(select(func.count()).select_from(Incident)) == 0
    # Outside the notice's branches the report goes the usual way, as it does for whoever insists.
    assert "计划维护" not in d.say(QD_CLERK, "核心系统登录不了")
    insisted = d.say("liu.yang", "1")
    assert "计划维护" not in insisted and ("选个分类" in insisted or "先试试" in insisted), insisted

    clock.set(at("23:40"))  # the window is over: the normal flow
    after = d.say("jn-002.2", "核心系统登录不了")
    assert "计划维护" not in after and ("选个分类" in after or "先试试" in after), after


def test_notices_through_the_api_scheduled_scoped_and_checked(d: Dialog, clock: TestClock) -> None:
    clock.set(at("09:00"))
    lead = {"Authorization": f"Bearer {d.token('zhao.min')}"}
    pos = {"body": "POS机固件今晚升级，升级后请重新签到", "kind": "release", "audience": {"categories": ["POS机"]}}
    preview = d.client.post("/api/v1/notices/preview", json=pos, headers=lead)
    assert preview.status_code == 200 and preview.json()["branches"] == 1  # JN-003 declares a POS machine
    later = d.client.post("/api/v1/notices", json={**pos, "send_at": "2026-03-10T18:00:00"}, headers=lead)
    assert later.status_code == 201 and later.json()["status"] == "scheduled", later.text
    d.desk.notices_round()
    assert d.pushed("jn-003.2") == []
    clock.set(at("18:00"))
    d.desk.notices_round()
    (pushed,) = d.pushed("jn-003.2")
    assert pushed["text"].count("重新签到") == 1
    assert d.pushed("jn-001.2") == []
    # A lead sends within their regions only; unknown targets are named.
    outside = d.client.post("/api/v1/notices", json={"body": "x", "audience": {"branches": ["BJ-001"]}},
                            headers=lead)
    assert outside.status_code == 403
    unknown = d.client.post("/api/v1/notices", json={"body": "x", "audience": {"branches": ["XX-999"]}},
                            headers=lead)
    assert unknown.status_code == 422 and "XX-999" in unknown.text
    reporter = d.client.post("/api/v1/notices", json={"body": "x"}, headers={"Authorization":
                                                                             f"Bearer {d.token('liu.yang')}"})
    assert reporter.status_code == 403
    listed = d.client.get("/api/v1/notices", headers=lead).json()
    assert [n["kind"] for n in listed] == ["release"]
    assert listed[0]["author_name"] != listed[0]["author"]  # the console shows the name, not the id


def test_a_reporter_writing_the_word_notice_is_reporting_not_commanding(d: Dialog) -> None:
    reply = d.say("liu.yang", "公告栏的显示屏不亮了")
    assert "工程师用的命令" not in reply, reply


def test_a_notice_scheduled_from_chat_goes_out_at_its_time(d: Dialog, clock: TestClock) -> None:
    clock.set(at("09:00"))
    preview = d.say("zhao.min", "公告 JN-002 定时 18:00 今晚系统升级，下班前请退出业务系统")
    assert "定时发送：18:00" in preview and "1 个网点" in preview, preview
    assert "将于 18:00 发出" in d.say("zhao.min", "1")
    clock.set(at("17:59"))
    d.desk.notices_round()
    assert d.pushed("liu.yang") == []
    clock.set(at("18:00"))
    d.desk.notices_round()
    (pushed,) = d.pushed("liu.yang")
    assert "下班前请退出业务系统" in pushed["text"] and "定时" not in pushed["text"]


def test_cancelling_a_notice_at_its_confirmation_says_it_was_not_sent(d: Dialog, clock: TestClock) -> None:
    clock.set(at("09:00"))
    assert "回复 1 确认发送" in d.say("zhao.min", "公告 JN-002 今晚系统升级，下班前请退出业务系统")
    dropped = d.say("zhao.min", "取消")
    assert "没有发送" in dropped, dropped  # (it said there was nothing to cancel: was it on its way?)
    assert "已发出" not in d.say("zhao.min", "1")  # a late "1" sends nothing either
    d.desk.notices_round()
    assert d.pushed("liu.yang") == []


def test_a_maintenance_window_of_hours_already_past_today_is_the_next_one(d: Dialog, clock: TestClock) -> None:
    clock.set(at("21:00"))
    preview = d.say("zhao.min", "维护通知 核心系统 03:00-05:00 JN-002 数据库升级")
    assert "03-11 03:00" in preview and "03-11 05:00" in preview, preview  # tonight's, not this morning's
    send_notice(d, "维护通知 核心系统 03:00-05:00 JN-002 数据库升级")
    clock.set(datetime(2026, 3, 11, 3, 30, tzinfo=SH))
    assert "计划维护" in d.say("liu.yang", "核心系统登录不了")
    # Through the API a window that is over is refused rather than announced.
    lead = {"Authorization": f"Bearer {d.token('zhao.min')}"}
    over = d.client.post("/api/v1/notices", headers=lead, json={
        "body": "核心系统升级", "audience": {"branches": ["JN-002"]},
        "window": {"system": "核心系统", "starts_at": "2026-03-11T01:00:00", "ends_at": "2026-03-11T02:00:00"}})
    assert over.status_code == 422 and "over" in over.text, over.text


def test_a_maintenance_called_off_or_ended_early_is_told_to_those_it_reached(d: Dialog, clock: TestClock) -> None:
    clock.set(at("15:00"))
    lead = {"Authorization": f"Bearer {d.token('zhao.min')}"}
    called_off = send_notice(d, "维护通知 核心系统 22:00-23:30 JN-002 版本升级")
    ended = send_notice(d, "维护通知 网银 15:00-18:00 JN-002 前置机扩容")
    assert "22:00" in d.pushed_text("liu.yang")
    clock.set(at("16:00"))
    for notice in (called_off, ended):
        assert d.client.post(f"/api/v1/notices/{notice}/cancel", headers=lead).status_code == 200
    told = d.pushed_text("liu.yang")
    assert "22:00–23:30" in told and "核心系统" in told and "取消" in told, told  # (nobody was told: 22:00 stopped)
    assert "网银" in told and "提前结束" in told and "16:00" in told, told
    assert d.client.post(f"/api/v1/notices/{ended}/cancel", headers=lead).status_code == 422  # over already
    twice = d.client.post(f"/api/v1/notices/{called_off}/cancel", headers=lead)
    assert twice.status_code == 422, twice.text  # called off already
    assert d.pushed("liu.yang") == []  # told once
    assert "计划维护" not in d.say("liu.yang", "网银登录不了")


def test_a_maintenance_called_off_is_not_chased_for_acknowledgements(d: Dialog, clock: TestClock) -> None:
    """Called off before it began, an important maintenance notice was still chased until its old start time."""
    clock.set(at("09:00"))
    lead = {"Authorization": f"Bearer {d.token('zhao.min')}"}
    sent = d.client.post("/api/v1/notices", headers=lead, json={
        "kind": "maintenance", "body": "核心系统今晚升级", "important": True, "remind_after_minutes": 60,
        "audience": {"branches": ["JN-002"]},
        "window": {"system": "核心系统", "starts_at": "2026-03-10T22:00:00", "ends_at": "2026-03-10T23:30:00"}})
    assert sent.status_code == 201, sent.text
    clock.set(at("09:30"))
    assert d.client.post(f"/api/v1/notices/{sent.json()['id']}/cancel", headers=lead).status_code == 200
    clock.set(at("10:30"))
    d.desk.notices_round()
    with d.desk.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)
                        .where(OutboxMessage.template == "notice_reminder")) == 0


def test_an_evening_notices_reminder_waits_for_the_branches_to_open(d: Dialog, clock: TestClock) -> None:
    """A notice sent at 19:00 was chased at 23:00, when nobody is at a branch to answer (or read) it."""
    clock.set(at("19:00"))  # Tuesday evening: the branches have closed
    send_notice(d, "公告 SD-JN 重要 明早开门前请先重启叫号机")
    clock.set(at("23:01"))
    d.desk.notices_round()
    with d.desk.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)
                        .where(OutboxMessage.template == "notice_reminder")) == 0
    clock.set(datetime.fromisoformat("2026-03-11T08:31").replace(tzinfo=SH))  # Wednesday: open
    d.desk.notices_round()
    d.desk.notices_round()
    with d.desk.sessions() as s:
        reminded = s.scalars(select(OutboxMessage.person_id).where(OutboxMessage.template == "notice_reminder")).all()
    assert sorted(reminded) == sorted(reached(d)), reminded  # every silent branch's people, once


def test_a_scheduled_notice_is_corrected_and_checked_as_a_new_one(d: Dialog, clock: TestClock) -> None:
    clock.set(at("09:00"))
    lead = {"Authorization": f"Bearer {d.token('zhao.min')}"}
    made = d.client.post("/api/v1/notices", headers=lead, json={
        "body": "今晚系统升级，18:00 后请退出业务系统", "audience": {"branches": ["JN-002"]},
        "send_at": "2026-03-10T18:00:00"})
    assert made.status_code == 201, made.text
    notice = made.json()["id"]
    # Wrong time, wrong branch, wrong words: corrected instead of cancelled and written again.
    fixed = d.client.patch(f"/api/v1/notices/{notice}", headers=lead, json={
        "body": "今晚系统升级推迟，20:00 后请退出业务系统", "audience": {"branches": ["JN-001"]},
        "send_at": "2026-03-10T20:00:00", "important": True})
    assert fixed.status_code == 200, fixed.text
    out = fixed.json()
    assert out["status"] == "scheduled" and out["title"] == "今晚系统升级推迟，20:00 后请退出业务系统"  # (follows)
    assert out["audience"]["branches"] == ["JN-001"] and out["important"]
    assert datetime.fromisoformat(out["send_at"]) == at("20:00")
    # Checked as a new notice is: the lead's regions, known targets, a window in order.
    refusals = [({"audience": {"branches": ["BJ-001"]}}, 403, "BJ-001"),
                ({"audience": {"branches": ["XX-999"]}}, 422, "XX-999"),
                ({"window": {"system": "核心系统", "starts_at": "2026-03-10T23:00:00",
                             "ends_at": "2026-03-10T22:00:00"}}, 422, "ends_at"),
                ({"window": {"starts_at": "2026-03-10T22:00:00", "ends_at": "2026-03-10T23:00:00"}}, 422, "system"),
                ({"body": None}, 422, "null"), ({"kind": "gossip"}, 422, "kind")]
    for change, status, named in refusals:
        refused = d.client.patch(f"/api/v1/notices/{notice}", headers=lead, json=change)
        assert refused.status_code == status and named in refused.text, (change, refused.text)
    windowed = d.client.patch(f"/api/v1/notices/{notice}", headers=lead, json={"window": {
        "system": "核心系统", "starts_at": "2026-03-10T22:00:00", "ends_at": "2026-03-10T23:00:00"}})
    assert windowed.status_code == 200 and windowed.json()["kind"] == "maintenance", windowed.text
    unwindowed = d.client.patch(f"/api/v1/notices/{notice}", headers=lead, json={"window": None, "kind": "general"})
    assert unwindowed.status_code == 200 and unwindowed.json()["window"] is None, unwindowed.text
    other = {"Authorization": f"Bearer {d.token('liu.yang')}"}
    assert d.client.patch(f"/api/v1/notices/{notice}", headers=other, json={"body": "x"}).status_code == 404
    clock.set(at("18:00"))
    d.desk.notices_round()
    assert d.pushed("liu.yang") == [] and d.pushed("jn-001.2") == []  # (JN-002 no longer; JN-001 at 20:00)
    clock.set(at("20:00"))
    d.desk.notices_round()
    (pushed,) = d.pushed("jn-001.2")
    assert "20:00 后请退出业务系统" in pushed["text"] and "18:00" not in pushed["text"], pushed["text"]
    assert d.pushed("liu.yang") == []
    # Sent, it is what the branches read: no more editing.
    late = d.client.patch(f"/api/v1/notices/{notice}", headers=lead, json={"body": "改一下"})
    assert late.status_code == 422 and "cannot be edited" in late.text, late.text


def test_an_overrunning_or_postponed_maintenance_window_is_moved_and_told(d: Dialog, clock: TestClock) -> None:
    clock.set(at("15:00"))
    lead = {"Authorization": f"Bearer {d.token('zhao.min')}"}
    core = send_notice(d, "维护通知 核心系统 22:00-23:30 JN-002 版本升级")
    bank = send_notice(d, "维护通知 网银 18:00-19:00 JN-002 前置机扩容")
    d.pushed("liu.yang")
    # Postponed before it starts: both ends move, and those it reached hear the new times.
    later = d.client.patch(f"/api/v1/notices/{bank}", headers=lead, json={
        "window": {"starts_at": "2026-03-10T20:00:00", "ends_at": "2026-03-10T21:00:00"}})
    assert later.status_code == 200, later.text
    told = d.pushed_text("liu.yang")
    assert "网银" in told and "20:00–21:00" in told and "18:00–19:00" in told, told
    clock.set(at("18:30"))
    assert "计划维护" not in d.say("liu.yang", "网银登录不了")  # (not yet: it was put off)
    d.say("liu.yang", "取消")
    clock.set(at("20:30"))
    assert "计划维护" in d.say("liu.yang", "网银登录不了")
    d.say("liu.yang", "取消")

    # Overrunning: once it has started only its end moves; reports are answered until the new end.
    clock.set(at("22:30"))
    started = d.client.patch(f"/api/v1/notices/{core}", headers=lead, json={
        "window": {"starts_at": "2026-03-10T23:00:00", "ends_at": "2026-03-11T01:00:00"}})
    assert started.status_code == 422 and "started" in started.text, started.text
    for change in ({"body": "改一下"}, {"audience": {"branches": ["JN-001"]}}, {"window": None},
                   {"window": {"system": "网银", "ends_at": "2026-03-11T00:30:00"}}):
        refused = d.client.patch(f"/api/v1/notices/{core}", headers=lead, json=change)
        assert refused.status_code == 422 and "cannot be edited" in refused.text, (change, refused.text)
    longer = d.client.patch(f"/api/v1/notices/{core}", headers=lead,
                            json={"window": {"ends_at": "2026-03-11T00:30:00"}})
    assert longer.status_code == 200, longer.text
    assert datetime.fromisoformat(longer.json()["window"]["ends_at"]) == datetime(2026, 3, 11, 0, 30, tzinfo=SH)
    told = d.pushed_text("liu.yang")
    assert "核心系统" in told and "00:30" in told and "23:30" in told, told
    with d.desk.sessions() as s:  # everyone the notice reached, once for this change
        moved = s.scalars(select(OutboxMessage).where(OutboxMessage.template == "notice_window_moved")).all()
        assert sorted(m.person_id or "" for m in moved if m.params["notice"] == core) == sorted(
            ["liu.yang", *(pid for pid, _ in CLERKS["JN-002"])])
    again = d.client.patch(f"/api/v1/notices/{core}", headers=lead, json={"window": {"ends_at": "2026-03-11T00:30"}})
    assert again.status_code == 200 and d.pushed("liu.yang") == []  # the same times: nothing to tell
    clock.set(at("23:45"))
    reply = d.say("liu.yang", "核心系统登录不了")
    assert "计划维护" in reply and "00:30" in reply, reply
    d.say("liu.yang", "取消")
    # Once it is over (or called off) it stays where it is.
    assert d.client.post(f"/api/v1/notices/{bank}/cancel", headers=lead).status_code == 422
    assert d.client.patch(f"/api/v1/notices/{bank}", headers=lead, json={
        "window": {"ends_at": "2026-03-11T02:00:00"}}).status_code == 422
    clock.set(datetime(2026, 3, 11, 0, 31, tzinfo=SH))
    assert "计划维护" not in d.say("liu.yang", "核心系统登录不了")


def test_a_lead_sees_the_notices_that_reach_their_branches_counted_there(d: Dialog, clock: TestClock) -> None:
    clock.set(at("09:00"))
    hq, lead = ({"Authorization": f"Bearer {d.token(p)}"} for p in ("chen.gang", "zhao.min"))
    everyone = d.client.post("/api/v1/notices", headers=hq, json={"body": "本周五晚全行系统升级"})
    assert "已确认收到" in d.say(BJ_CLERK, "收到") and "已确认收到" in d.say("liu.yang", "收到")
    beijing = d.client.post("/api/v1/notices", headers=hq, json={"body": "北京分公司停电检修",
                                                                  "audience": {"branches": ["BJ-001"]}})
    assert everyone.status_code == beijing.status_code == 201, (everyone.text, beijing.text)
    mine = {"JN-001", "JN-002", "JN-003", "QD-001"}
    listed = d.client.get("/api/v1/notices", headers=lead).json()
    assert [n["id"] for n in listed] == [everyone.json()["id"]]  # the HQ notice that reached their branches only
    page = d.client.get(f"/api/v1/notices/{everyone.json()['id']}", headers=lead).json()
    assert {b["code"] for b in page["by_branch"]} == mine  # (not BJ-001's people and acknowledgement)
    assert page["people"] == listed[0]["people"] == sum(b["people"] for b in page["by_branch"])
    assert page["acknowledged"] == 1 and page["branches"] == len(mine)
    whole = d.client.get(f"/api/v1/notices/{everyone.json()['id']}", headers=hq).json()
    assert {b["code"] for b in whole["by_branch"]} == mine | {"BJ-001"} and whole["acknowledged"] == 2
    assert d.client.get(f"/api/v1/notices/{beijing.json()['id']}", headers=lead).status_code == 404
    # Pages count the notices they see: Beijing's newer one does not leave the first page empty.
    assert [n["id"] for n in d.client.get("/api/v1/notices?limit=1", headers=lead).json()] == [everyone.json()["id"]]
    assert d.client.get("/api/v1/notices?limit=1&offset=1", headers=lead).json() == []
    # Seeing is not changing it: the author, a lead at headquarters or an admin.
    for attempt in (d.client.post(f"/api/v1/notices/{everyone.json()['id']}/cancel", headers=lead),
                    d.client.patch(f"/api/v1/notices/{everyone.json()['id']}", headers=lead, json={"title": "x"})):
        assert attempt.status_code == 403 and "author" in attempt.text, attempt.text
    own = d.client.post("/api/v1/notices", headers=lead, json={
        "body": "济南网点明早盘点", "audience": {"regions": ["SD-JN"]}, "send_at": "2026-03-10T18:00:00"})
    fixed = d.client.patch(f"/api/v1/notices/{own.json()['id']}", headers=hq, json={"title": "济南网点周三早盘点"})
    assert fixed.status_code == 200 and fixed.json()["title"] == "济南网点周三早盘点", fixed.text
    assert d.client.get(f"/api/v1/notices/{beijing.json()['id']}",
                        headers={"Authorization": f"Bearer {d.token('admin')}"}).status_code == 200
