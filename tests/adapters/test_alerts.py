"""Monitoring alerts declare incidents (conversation 08): a critical alert pages the network on-call,
a duplicate delivery changes nothing, the page escalates after 5 minutes, a recovery is only noted."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from tests.clock import TestClock
from tests.dialog import Dialog
from wuyou.adapters.bootstrap import Desk
from wuyou.desk.incidents.models import Incident, IncidentEvent, Page

SH = ZoneInfo("Asia/Shanghai")
SECRET = "alert-s3cret"
FIRING = {"status": "firing", "labels": {"alertname": "HostDown", "instance": "jn-agg-r1", "ip": "10.37.0.1",
                                         "severity": "critical", "region": "SD-JN", "speciality": "network"},
          "annotations": {"summary": "jn-agg-r1 不可达"}, "startsAt": "2025-03-15T09:38:00+08:00"}


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
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"results": [{"incident": "INC-1", "status": "declared"}]}
    # Alertmanager retries: the same alert (inside its usual envelope) updates the incident, no second one.
    again = post(d, {"alerts": [FIRING]}, token=SECRET)
    assert again.json()["results"] == [{"incident": "INC-1", "status": "updated"}]
    assert count(d, Incident) == 1
    with d.desk.sessions() as s:
        incident = s.get(Incident, 1)
        assert incident is not None
        assert (incident.severity, incident.source, incident.region_code) == ("SEV2", "alert", "SD-JN")
        assert incident.started_at == at("09:38:00") and incident.commander_id == "chen.gang"
    page = d.pushed_text("zhou.hao")
    assert "INC-1 · SEV2" in page and "jn-agg-r1 不可达" in page and "第 1 位" in page

    clock.set(at("09:46:06"))
    d.desk.incidents_round()
    assert "吴磊" in d.pushed_text("zhou.hao")
    assert "周浩 未响应" in d.pushed_text("wu.lei")
    clock.set(at("09:48:10"))
    reply = d.say("wu.lei", "收到")
    assert "已确认 INC-1，您是技术负责人" in reply and "7 分 5 秒" in reply and "2 分 4 秒" in reply, reply
    clock.set(at("09:53:00"))
    assert "INC-1 已由 吴磊 接手" in d.say("zhou.hao", "收到 刚在地铁上没信号")

    clock.set(at("10:03:40"))
    recovered = post(d, {**FIRING, "status": "resolved", "endsAt": "2025-03-15T10:03:30+08:00"})
    assert recovered.json()["results"] == [{"incident": "INC-1", "status": "recovered"}]
    assert "监控恢复" in d.pushed_text("wu.lei")
    with d.desk.sessions() as s:
        incident = s.get(Incident, 1)
        assert incident is not None and incident.status == "active"  # a person confirms the resolution
        kinds = s.scalars(select(IncidentEvent.kind).where(IncidentEvent.incident_id == 1)).all()
        assert "alert_repeat" in kinds and "alert_resolved" in kinds
        assert [p.status for p in s.scalars(select(Page).order_by(Page.id))] == ["missed", "acked"]


def test_forged_malformed_and_ordinary_alerts_change_nothing(d: Dialog) -> None:
    assert post(d, FIRING, token="guess").status_code == 401
    assert d.client.post("/api/v1/alerts", json=FIRING).status_code == 401
    bad = d.client.post("/api/v1/alerts", content=b"{not json", headers={"Authorization": f"Bearer {SECRET}"})
    assert bad.status_code == 422
    assert post(d, {"status": "burning", "labels": {}}).status_code == 422
    warning = {**FIRING, "labels": {**FIRING["labels"], "severity": "warning"}}
    assert post(d, warning).json()["results"] == [{"incident": None, "status": "ignored"}]
    assert count(d, Incident) == 0


def test_without_a_secret_the_endpoint_is_off(sample_desk: Desk) -> None:
    with Dialog(sample_desk) as d:
        answer = d.client.post("/api/v1/alerts", json=FIRING, headers={"Authorization": "Bearer x"})
        assert answer.status_code == 503 and "WUYOU_ALERTS_SECRET" in answer.text
