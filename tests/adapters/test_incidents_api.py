"""The incidents API and the live war-room page: scoping, declaring from the console, actions with the chat's
permissions, and the timeline as server-sent events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.dialog import Dialog
from wuyou.adapters.bootstrap import Desk


@pytest.fixture
def d(sample_desk: Desk) -> Iterator[Dialog]:
    with Dialog(sample_desk) as dialog:
        yield dialog


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def file_ticket(d: Dialog, user: str, text: str) -> int:
    return d.report(user, "6", text)  # 业务系统 › 医保接口


def test_declare_from_the_console_work_it_and_respect_scope(d: Dialog) -> None:
    n1 = file_ticket(d, "zhang.san", "医保结算失败 提示交易超时")
    n2 = file_ticket(d, "liu.yang", "医保刷不了了")
    lead, engineer, reporter, other = (d.token(p) for p in ("chen.gang", "he.qiming", "zhang.san", "ma.jing"))
    assert d.client.post("/api/v1/incidents", json={"title": "x"}, headers=auth(reporter)).status_code == 403
    made = d.client.post("/api/v1/incidents", json={"title": "医保结算失败", "severity": "SEV2", "tickets": [n1, n2],
                                                    "specialities": ["network"]}, headers=auth(lead))
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["id"] == "INC-1" and body["tickets"] == [n1, n2] and body["roles"]["commander"] == "chen.gang"
    assert {p["person"] for p in body["pages"]} == {"he.qiming", "zhou.hao"}
    assert "INC-1" in d.pushed_text("zhang.san")

    act = d.client.post("/api/v1/incidents/INC-1/actions", json={"action": "join"}, headers=auth(engineer))
    assert act.status_code == 200 and act.json()["roles"]["tech_lead"] == "he.qiming"
    update = d.client.post("/api/v1/incidents/INC-1/actions", json={"action": "update", "text": "证书过期，正在更换"},
                           headers=auth(engineer))
    assert update.status_code == 200
    assert "证书过期，正在更换" in d.pushed_text("liu.yang")
    outsider = d.token("sun.li")
    refused = d.client.post("/api/v1/incidents/INC-1/actions", json={"action": "resolve", "text": "好了"},
                            headers=auth(outsider))
    assert refused.status_code == 403
    assert d.client.post("/api/v1/incidents/INC-1/actions", json={"action": "update"},
                         headers=auth(engineer)).status_code == 422
    assert d.client.post("/api/v1/incidents/INC-1/actions", json={"action": "resolve", "text": "x"},
                         headers=auth(reporter)).status_code == 403

    # A reporter sees the incident of their own branch, and not another branch's.
    assert d.client.get("/api/v1/incidents/INC-1", headers=auth(reporter)).status_code == 200
    assert d.client.get("/api/v1/incidents/INC-1", headers=auth(other)).status_code == 404
    assert d.client.get("/api/v1/incidents", headers=auth(other)).json()["total"] == 0
    assert "timeline" not in d.client.get("/api/v1/incidents/INC-1", headers=auth(reporter)).json()
    listed = d.client.get("/api/v1/incidents?status=active", headers=auth(lead)).json()
    assert [i["id"] for i in listed["items"]] == ["INC-1"]

    done = d.client.post("/api/v1/incidents/INC-1/actions", json={"action": "resolve", "text": "已更换证书"},
                         headers=auth(engineer))
    assert done.status_code == 200 and done.json()["status"] == "resolved"
    assert d.client.post("/api/v1/incidents/INC-1/actions", json={"action": "update", "text": "again"},
                         headers=auth(engineer)).status_code == 409
    assert d.ticket(n1)["status"] == "resolved"
    markdown = d.client.get("/api/v1/incidents/INC-1/report.md", headers=auth(lead))
    assert markdown.status_code == 200 and "# INC-1 事后报告" in markdown.text


def _events(d: Dialog, url: str, **headers: str) -> list[dict[str, Any]]:
    with d.client.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        text = "".join(response.iter_text())
    out = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "data" in fields:
            out.append({"id": int(fields["id"]), **json.loads(fields["data"])})
    return out


def test_the_war_room_page_streams_the_timeline(d: Dialog) -> None:
    assert "已宣布 INC-1" in d.say("chen.gang", "应急 宣布 医保结算失败 SEV2")
    d.say("chen.gang", "应急 记录 INC-1 正在联系医保局")
    page = d.client.get("/incidents/INC-1")
    assert page.status_code == 200 and "EventSource('/incidents/INC-1/events" in page.text
    assert "正在联系医保局" in page.text
    everything = _events(d, "/incidents/INC-1/events?once=1")
    kinds = [e["kind"] for e in everything]
    assert kinds[0] == "declared" and "note" in kinds
    assert any("正在联系医保局" in e["text"] for e in everything)
    later = _events(d, "/incidents/INC-1/events?once=1", **{"Last-Event-ID": str(everything[-2]["id"])})
    assert [e["id"] for e in later] == [everything[-1]["id"]]
    assert d.client.get("/incidents/INC-9/events?once=1").status_code == 404
