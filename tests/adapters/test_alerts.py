"""Monitoring alerts declare incidents (conversation 08): a critical alert pages the network on-call, a
duplicate delivery changes nothing, the page escalates after 5 minutes, a recovery is only noted."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from tests.clock import TestClock
from tests.conftest import shared
from tests.dialog import Dialog
from wuyou.adapters.bootstrap import Desk
from wuyou.desk.incidents import alerts
from wuyou.desk.incidents import service as incident_service
from wuyou.desk.incidents.models import Incident, IncidentEvent, Page
from wuyou.desk.models import OutboxMessage
from wuyou.desk.org import import_org, load_org_file
from wuyou.kb import articles, documents

SH = ZoneInfo("Asia/Shanghai")
SECRET = "alert-s3cret"
LABELS = {"alertname": "HostDown", "instance": "jn-agg-r1", "ip": "10.37.0.1", "severity": "critical",
          "region": "SD-JN", "speciality": "network"}
FIRING = {"status": "firing", "labels": LABELS, "startsAt": "2025-03-15T09:38:00+08:00"}  # as in conversation 08


def at(text: str) -> datetime:
    return datetime.fromisoformat(f"2025-03-15T{text}").replace(tzinfo=SH)


@pytest.fixture
def d(sample_desk: Desk) -> Iterator[Dialog]:
    sample_desk.settings = sample_desk.settings.model_copy(update={"alerts_secret": SecretStr(SECRET)})
    with Dialog(sample_desk) as dialog:
        yield dialog


def post(d: Dialog, body: Any, token: str = SECRET) -> Any:
    return d.client.post("/api/v1/alerts", json=body, headers={"Authorization": f"Bearer {token}"})


def count(d: Dialog, model: Any) -> int:
    with d.desk.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_weekend_alarm_pages_escalates_and_records_recovery(d: Dialog, clock: TestClock) -> None:
    clock.set(at("09:41:05"))
    answer = post(d, FIRING)
    assert (answer.status_code, answer.json()) == (201, {"incident": "INC-1", "status": "declared"}), answer.text
    page = d.pushed_text("zhou.hao")
    assert "INC-1 · SEV2" in page and "jn-agg-r1 不可达" in page and "第 1 位" in page, page
    # What it may affect: the region's branches, those open on a Saturday morning named (JN-002 is closed).
    assert "09:38 起告警 · 可能影响：济南分公司的 2 个网点（泉城路支行 营业中）" in page, page
    room = d.pushed_text("chen.gang")  # the war-room
    assert "可能影响：济南分公司的 2 个网点（泉城路支行 营业中）" in room
    assert "还没有网点报修" in room and "影响 0 个网点" not in room  # no report yet: not "0 branches affected"
    with d.desk.sessions() as s:
        incident = s.get(Incident, 1)
        assert incident is not None
        assert (incident.title, incident.severity, incident.source, incident.region_code, incident.commander_id) \
            == ("jn-agg-r1 不可达", "SEV2", "alert", "SD-JN", "chen.gang")
        assert incident.started_at == at("09:38:00")
        assert incident.comms_id == "zhao.min"  # the alerted region's lead speaks to its branches (not the commander)
        declared = s.scalars(select(IncidentEvent).where(IncidentEvent.kind == "declared")).one()
        assert declared.data["labels"] == LABELS

    # A branch of the region says its network is down: that is the alert's fault, no articles and no questions
    # (conversations/08 rows 4-5); the same words from Qingdao, outside the region, are a report of their own.
    clock.set(at("09:44:00"))
    reply = d.say("zhang.san", "网断了 系统进不去")
    assert "选个分类" in reply  # no article says what it is about: the reporter does
    reply = d.say("zhang.san", "3")  # 网络 › 网点断网
    assert "已知问题" in reply and "INC-1" in reply, reply
    number = int(reply.split("#", 2)[1][:4])
    ticket = d.ticket(number)
    assert ticket["category"] == "网络 › 网点断网" and ticket["priority"] == "P1", ticket
    with d.desk.sessions() as s:
        assert number in [t.id for t in incident_service.linked_tickets(session=s, incident_id=1)]
    assert "已知问题" not in d.say("ma.jing", "网断了 系统进不去")

    # Alertmanager delivers again (in its envelope): the same incident, no second page.
    again = post(d, {"version": "4", "status": "firing", "receiver": "wuyou", "alerts": [FIRING]})
    assert (again.status_code, again.json()) == (200, {"incident": "INC-1", "status": "updated"})
    assert count(d, Incident) == 1 and count(d, Page) == 1
    assert d.pushed("zhou.hao") == []

    clock.set(at("09:46:06"))
    d.desk.incidents_round()
    assert "已转呼 吴磊" in d.pushed_text("zhou.hao")
    assert "周浩 未响应" in d.pushed_text("wu.lei")
    assert "周浩 5 分钟未确认，正在呼叫：吴磊（总部网络组第 2 位）" in d.pushed_text("chen.gang")  # the war-room
    clock.set(at("09:48:10"))
    reply = d.say("wu.lei", "收到")
    assert "已确认 INC-1，您是技术负责人" in reply and "7 分 5 秒" in reply and "2 分 4 秒" in reply, reply
    assert "吴磊 已确认（09:48），任技术负责人。周浩 未响应" in d.pushed_text("chen.gang")  # the war-room (row 9)
    clock.set(at("09:53:00"))
    assert "INC-1 已由 吴磊 接手" in d.say("zhou.hao", "收到 刚在地铁上没信号")
    d.pushed("wu.lei"), d.pushed("chen.gang")  # read what came before the recovery

    clock.set(at("10:03:40"))
    resolved = {**FIRING, "status": "resolved", "endsAt": "2025-03-15T10:03:30+08:00"}
    recovered = post(d, resolved)
    assert (recovered.status_code, recovered.json()) == (200, {"incident": "INC-1", "status": "recovered"})
    for person in ("wu.lei", "chen.gang"):
        text = d.pushed_text(person)
        assert "监控恢复：jn-agg-r1 可达（10:03）" in text and "应急 解决 INC-1" in text, (person, text)
    # Alertmanager repeats a resolved alert with its group: noted once.
    assert post(d, {"alerts": [resolved]}).json() == {"incident": "INC-1", "status": "recovered"}
    assert d.pushed("wu.lei") == []
    with d.desk.sessions() as s:
        incident = s.get(Incident, 1)
        assert incident is not None and incident.status == "active"  # a person confirms the resolution
        kinds = list(s.scalars(select(IncidentEvent.kind).where(IncidentEvent.incident_id == 1)))
        assert kinds.count("alert_repeat") == 1 and kinds.count("alert_resolved") == 1, kinds
        assert [p.status for p in s.scalars(select(Page).order_by(Page.id))] == ["missed", "acked"]

    # The lead's look at it afterwards (conversations/08 row 18): who was paged after whom, how long each took.
    clock.set(at("10:10:00"))
    d.say("wu.lei", "/incident INC-1 resolve 更换光模块，主链路已恢复")
    shown = d.say("chen.gang", "/show INC-1")
    for line in ("09:38 故障开始", "09:46 周浩 未确认 → 呼叫 吴磊（总部网络组 第 2 位）",
                 "09:48 吴磊 确认 · 确认用时 7 分 5 秒（本次呼叫后 2 分 4 秒）", "10:03 监控恢复：jn-agg-r1 可达",
                 "从开始 32 分钟 · 宣布后 29 分钟 · 事后报告：", "/incidents/INC-1/report"):
        assert line in shown, (line, shown)

    # The on-call report (row 18: "周浩: 1 missed page"), in chat and through the API; the most missed first.
    report_text = d.say("chen.gang", "值班 统计 7天")
    assert "· 周浩（总部网络组）：呼叫 1 · 按时确认 0 · 未确认 1 · 确认用时中位 —" in report_text, report_text
    assert "· 吴磊（总部网络组）：呼叫 1 · 按时确认 1 · 未确认 0 · 确认用时中位 2 分 4 秒" in report_text
    assert report_text.index("周浩") < report_text.index("吴磊")
    lead = {"Authorization": f"Bearer {d.token('chen.gang')}"}
    found = d.client.get("/api/v1/reports/oncall?from=2025-03-15&to=2025-03-15", headers=lead).json()
    assert [(r["person"], r["pages"], r["acked"], r["missed"], r["ack_median"]) for r in found["items"]] == [
        ("zhou.hao", 1, 0, 1, None), ("wu.lei", 1, 1, 0, 124.0)]
    csv_text = d.client.get("/api/v1/reports/oncall.csv?from=2025-03-15&to=2025-03-15", headers=lead).text
    assert "zhou.hao,周浩,总部网络组,1,0,1,1,," in csv_text and "wu.lei,吴磊,总部网络组,1,1,0,1,2.1,2.1" in csv_text
    regional = {"Authorization": f"Bearer {d.token('zhao.min')}"}  # Shandong's lead: not HQ's teams
    assert d.client.get("/api/v1/reports/oncall?from=2025-03-15&to=2025-03-15", headers=regional).json()["items"] == []
    assert d.client.get("/api/v1/reports/oncall", headers={
        "Authorization": f"Bearer {d.token('zhang.san')}"}).status_code == 403


def test_the_other_header_a_batch_and_the_next_outage(d: Dialog, clock: TestClock) -> None:
    clock.set(at("09:41:05"))
    warning = {**FIRING, "labels": {**LABELS, "severity": "warning", "alertname": "HighLatency"}}
    sev1 = {"status": "firing", "fingerprint": "a1b2c3d4e5f60718", "startsAt": "2025-03-15T01:40:00.123456789Z",
            "endsAt": "0001-01-01T00:00:00Z", "annotations": {"summary": "核心交换机 CPU 100%"},
            "labels": {"alertname": "CoreSwitchCpu", "severity": "critical", "wuyou_severity": "sev1",
                       "region": "MARS", "speciality": "network"}}
    answer = d.client.post("/api/v1/alerts", json={"alerts": [warning, sev1]},
                           headers={"X-Wuyou-Alert-Token": SECRET})
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"incident": "INC-1", "status": "declared",
                             "results": [{"status": "ignored"}, {"incident": "INC-1", "status": "declared"}]}
    with d.desk.sessions() as s:
        incident = s.get(Incident, 1)
        assert incident is not None
        assert (incident.title, incident.severity, incident.region_code) == ("核心交换机 CPU 100%", "SEV1", None)
    # A region the org does not have is taken as everywhere, and the timeline says so (a typo in the rule?).
    assert "告警的区域“MARS”不在组织架构中，按全部区域处理" in d.say("chen.gang", "/show INC-1")
    assert (answer := post(d, warning)).status_code == 202 and answer.json() == {"status": "ignored"}

    # Resolved by a person; later the same alert starts again: a new outage, a new incident.
    d.say("chen.gang", "/incident INC-1 resolve 重启交换机")
    with d.desk.sessions() as s:
        assert s.scalar(select(Incident.status).where(Incident.id == 1)) == "resolved"
    assert post(d, sev1).json() == {"incident": "INC-1", "status": "updated"}  # the same outage, sent again
    clock.set(at("15:00:00"))
    again = {**sev1, "startsAt": "2025-03-15T14:58:00+08:00"}
    assert post(d, again).json() == {"incident": "INC-2", "status": "declared"}
    assert post(d, again).json() == {"incident": "INC-2", "status": "updated"}


def test_a_duplicate_arriving_while_the_first_is_still_writing(d: Dialog, clock: TestClock) -> None:
    clock.set(at("09:41:05"))
    alert = alerts.Alert(status="firing", labels=LABELS, starts_at=at("09:38:00"))
    with d.desk.sessions() as first:
        _, outcome = alerts.receive(session=first, alert=alert, now=clock(), catalog=d.desk.catalog)
        assert outcome == "declared"
        # The first delivery has written its incident but not committed when the second arrives; the second
        # waits on the unique fingerprint (PostgreSQL) or the write lock (SQLite) and becomes a repeat.
        commit = threading.Timer(0.5, first.commit)
        commit.start()
        answer = post(d, FIRING)
        commit.join()
    assert (answer.status_code, answer.json()) == (200, {"incident": "INC-1", "status": "updated"}), answer.text
    assert count(d, Incident) == 1 and count(d, Page) == 1


def test_forged_and_malformed_alerts_change_nothing(d: Dialog) -> None:
    assert post(d, FIRING, token="guess").status_code == 401
    assert d.client.post("/api/v1/alerts", json=FIRING, headers={"X-Wuyou-Alert-Token": "guess"}).status_code == 401
    assert d.client.post("/api/v1/alerts", json=FIRING).status_code == 401
    bad = d.client.post("/api/v1/alerts", content=b'{"status": "firing", "labels": {',
                        headers={"Authorization": f"Bearer {SECRET}", "Content-Type": "application/json"})
    assert bad.status_code == 422 and "not JSON" in bad.text
    for body in ({"status": "burning", "labels": {}}, {"labels": LABELS}, {"alerts": []}, {"alerts": "x"},
                 {**FIRING, "startsAt": "yesterday"}, {**FIRING, "labels": {"severity": 1}}, "firing"):
        answer = post(d, body)
        assert answer.status_code == 422 and answer.json()["detail"], (body, answer.text)
    # One bad alert in a batch: none of it is taken.
    assert post(d, {"alerts": [FIRING, {"status": "firing"}]}).status_code == 422
    assert count(d, Incident) == count(d, IncidentEvent) == count(d, OutboxMessage) == 0


def test_without_a_secret_the_endpoint_is_off(sample_desk: Desk) -> None:
    with Dialog(sample_desk) as d:
        answer = d.client.post("/api/v1/alerts", json=FIRING, headers={"Authorization": "Bearer x"})
        assert answer.status_code == 503 and "WUYOU_ALERTS_SECRET" in answer.text


def test_a_report_the_kb_places_under_the_alert_is_linked_at_once(desk: Desk, clock: TestClock) -> None:
    """Conversations/08 rows 4-5 word for word, on the demo KB (its article about a branch offline): the report's
    likely category is the alert's speciality and the branch is in its region — no articles, no questions."""
    with desk.sessions() as s:
        import_org(session=s, doc=load_org_file(shared("org-sample.yaml").read_text(encoding="utf-8")))
        articles.upsert(session=s, docs=documents.read_dir(Path(__file__).resolve().parents[2] / "examples" / "kb"),
                        now=clock())
        s.commit()
    desk.settings = desk.settings.model_copy(update={"alerts_secret": SecretStr(SECRET)})
    with Dialog(desk) as d:
        clock.set(at("09:41:05"))
        assert post(d, FIRING).status_code == 201
        clock.set(at("09:44:00"))
        reply = d.say("zhang.san", "网断了 系统进不去 客户在排队")
        assert reply.startswith("已知问题") and "INC-1" in reply, reply
        number = int(reply.split("#", 2)[1][:4])
        assert (d.ticket(number)["category"], d.ticket(number)["priority"]) == ("网络 › 网点断网", "P1")


def file_outage(d: Dialog, person: str) -> int:
    """A branch's whole network down, filed through the category menu: the ticket's number."""
    assert "选个分类" in d.say(person, "网断了 系统进不去")
    assert "影响大吗" in d.say(person, "3")  # 网络 › 网点断网
    assert "说说情况" in d.say(person, "3")  # 紧急
    reply = d.say(person, "整个网点的电脑都上不了网")
    assert "INC-" not in reply, reply
    return int(reply.split("#", 2)[1][:4])


def test_tickets_filed_before_the_alert_join_its_incident(d: Dialog, clock: TestClock) -> None:
    """A branch of the region said 网断了 two minutes before the router's alert fired: its ticket is the alert's
    fault, linked when the incident is declared, and resolved with it; Qingdao's, outside the region, stays its own,
    and so does one an engineer has taken (the audit's VPN ticket, resolved with the incident's summary)."""
    clock.set(at("09:39:00"))
    jinan, qingdao, taken = (file_outage(d, person) for person in ("zhang.san", "ma.jing", "liu.yang"))
    d.say("zhou.hao", f"接单 {taken}")  # an engineer works this one already: theirs to judge, not linked
    assert d.ticket(taken)["status"] == "claimed"
    d.pushed("zhang.san"), d.pushed("ma.jing"), d.pushed("liu.yang")

    clock.set(at("09:41:05"))
    assert post(d, FIRING).json() == {"incident": "INC-1", "status": "declared"}
    told = d.pushed_text("zhang.san")
    assert f"#{jinan}" in told and "已关联重大事件 INC-1" in told, told
    assert d.pushed("ma.jing") == [] and d.pushed("liu.yang") == []
    with d.desk.sessions() as s:
        assert [t.id for t in incident_service.linked_tickets(session=s, incident_id=1)] == [jinan]
    assert f"#{jinan}" in d.say("chen.gang", "/show INC-1")

    clock.set(at("10:05:00"))
    d.say("chen.gang", "/incident INC-1 resolve 更换光模块")
    assert d.ticket(jinan)["status"] == "resolved"
    assert d.ticket(qingdao)["status"] == "new" and d.ticket(taken)["status"] == "claimed"

    # Its reporter says it is not fixed: reopened to the team's queue, the card and the commander naming INC-1.
    with d.desk.sessions() as s:
        commander = incident_service.get(session=s, incident_id=1).commander_id
    assert commander is not None
    d.pushed(commander), d.pushed("zhou.hao")
    d.say("zhang.san", "还没好 还是上不了网")
    assert d.ticket(jinan)["status"] == "reopened"
    told = d.pushed_text(commander)
    assert f"【INC-1】#{jinan}" in told and "还是上不了网" in told, told
    assert "随重大事件 INC-1 的解决而关闭" in d.pushed_text("zhou.hao")
    assert f"#{jinan}（张三）解决后说还没好" in d.say("chen.gang", "/show INC-1")


def test_an_alert_firing_again_after_its_recovery_is_told_to_the_war_room(d: Dialog, clock: TestClock) -> None:
    clock.set(at("09:41:05"))
    post(d, FIRING)
    clock.set(at("10:03:40"))
    post(d, {**FIRING, "status": "resolved", "endsAt": "2025-03-15T10:03:30+08:00"})
    assert "监控恢复" in d.pushed_text("chen.gang")
    clock.set(at("10:08:00"))
    again = post(d, {**FIRING, "startsAt": "2025-03-15T10:07:30+08:00"})
    assert again.json() == {"incident": "INC-1", "status": "updated"}  # open still: the same outage, not a new one
    text = d.pushed_text("chen.gang")
    assert "【INC-1】监控再次告警：jn-agg-r1 不可达（10:07）" in text and "请勿解决" in text, text
    post(d, {**FIRING, "startsAt": "2025-03-15T10:07:30+08:00"})  # and the repeats of it go on the timeline only
    assert d.pushed("chen.gang") == []


def test_a_report_said_to_be_the_alerts_is_filed_in_its_speciality(d: Dialog, clock: TestClock) -> None:
    """conversations/08 row 4 in other words: "客户在排队" brings up the queue-system article, 0 offers INC-1 with
    the categories, and "是" filed the ticket uncategorised, P3, in the branch's terminal team — while the network
    on-call worked the router. It is the alert's: 网络 › 网点断网, P1, the network team."""
    clock.set(at("09:41:05"))
    assert post(d, FIRING).status_code == 201
    clock.set(at("09:44:00"))
    d.say("zhang.san", "网断了 系统进不去 客户在排队")
    assert "INC-1" in d.say("zhang.san", "0")
    reply = d.say("zhang.san", "是")
    assert "已知问题" in reply and "INC-1" in reply, reply
    number = int(reply.split("#", 1)[1].split("。")[0])
    ticket = d.ticket(number)
    assert (ticket["category"], ticket["team"], ticket["priority"]) == ("网络 › 网点断网", "hq-network", "P1"), ticket
