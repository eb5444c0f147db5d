"""The incidents API and the live war-room page: who may read and act, declaring from the console (tickets
linked, on-call paged, reporters told), actions on the timeline with their notices, and the timeline as
server-sent events, from a bounded `?once=1` read to a real server streaming to a real client.

The org is the one of tests/bot/test_incidents.py: org-sample plus six branches with a clerk each, and
`page: [network]` on 医保接口 (an incident of the insurance interface also pages the network on-call)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest
import uvicorn

from tests.adapters.server import free_port
from tests.dialog import Dialog
from tests.incident_org import import_incident_org
from wuyou.adapters import incident_pages
from wuyou.adapters.app import create_app
from wuyou.adapters.bootstrap import Desk


@pytest.fixture
def org_desk(desk: Desk) -> Desk:
    return import_incident_org(desk)


@pytest.fixture
def d(org_desk: Desk) -> Iterator[Dialog]:
    with Dialog(org_desk) as dialog:
        yield dialog


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def file_ticket(d: Dialog, user: str, text: str) -> int:
    return d.report(user, "6", text)  # 业务系统 › 医保接口


def declare(d: Dialog, lead: str, **body: Any) -> dict[str, Any]:
    made = d.client.post("/api/v1/incidents", json={"title": "医保结算失败", **body}, headers=auth(lead))
    assert made.status_code == 201, made.text
    result: dict[str, Any] = made.json()
    return result


def act(d: Dialog, token: str, **body: Any) -> httpx.Response:
    return d.client.post("/api/v1/incidents/INC-1/actions", json=body, headers=auth(token))


def test_declaring_from_the_console_links_the_tickets_pages_on_call_and_tells_the_reporters(d: Dialog) -> None:
    n1 = file_ticket(d, "zhang.san", "医保结算失败 提示交易超时")
    n2 = file_ticket(d, "r.qd-002", "醫保結算失敗，提示證書驗證錯誤")
    lead = d.token("chen.gang")
    made = d.client.post("/api/v1/incidents", json={"title": "医保结算失败", "severity": "SEV2",
                                                    "tickets": [n1, n2]}, headers=auth(lead))
    assert made.status_code == 201, made.text
    assert made.headers["location"] == "/api/v1/incidents/INC-1"
    body = made.json()
    assert body["id"] == "INC-1" and body["source"] == "console" and body["status"] == "active"
    assert [t["id"] for t in body["tickets"]] == [n1, n2]
    assert [b["code"] for b in body["branches"]] == ["JN-001", "QD-002"]
    assert body["roles"]["commander"] == {"id": "chen.gang", "name": "陈刚"}
    # 医保接口's own speciality (application) and its `page: [network]`: both on-call heads are paged.
    assert {(p["person"]["id"], p["speciality"]) for p in body["pages"]} == {
        ("he.qiming", "application"), ("zhou.hao", "network")}
    assert [e["kind"] for e in body["timeline"]][:1] == ["declared"]
    assert body["timeline"][0]["text"].startswith("从控制台宣布")
    assert body["links"]["board"].endswith("/incidents/INC-1")
    for engineer in ("he.qiming", "zhou.hao"):
        assert "INC-1" in d.pushed_text(engineer)
    for user, number in (("zhang.san", n1), ("r.qd-002", n2)):
        notices = [m["text"] for m in d.pushed(user) if "INC-1" in m["text"]]
        assert len(notices) == 1 and f"#{number}" in notices[0], (user, notices)

    # Refusals that say why: an unknown speciality, a ticket outside the caller's region, no title.
    wrong = d.client.post("/api/v1/incidents", json={"title": "x", "specialities": ["plumbing"]}, headers=auth(lead))
    assert wrong.status_code == 422 and "plumbing" in wrong.json()["detail"] and "network" in wrong.json()["detail"]
    outside = d.client.post("/api/v1/incidents", json={"title": "x", "tickets": [n1]}, headers=auth(d.token("sun.li")))
    assert outside.status_code == 404 and f"ticket {n1}" in outside.json()["detail"]
    assert d.client.post("/api/v1/incidents", json={"title": "  "}, headers=auth(lead)).status_code == 422
    listed = d.client.get("/api/v1/incidents", headers=auth(lead)).json()
    assert listed["total"] == 1, "nothing was declared by the refused requests"


def test_a_reporter_reads_only_their_branchs_incident_and_never_acts(d: Dialog) -> None:
    n1 = file_ticket(d, "zhang.san", "医保结算失败 提示交易超时")
    n2 = file_ticket(d, "liu.yang", "医保刷不了了")
    lead = d.token("chen.gang")
    declare(d, lead, tickets=[n1, n2])
    assert act(d, lead, action="update", text="证书过期，正在更换").status_code == 200
    assert act(d, lead, action="note", text="内部：联系医保局王工").status_code == 200
    mine, other = d.token("zhang.san"), d.token("ma.jing")

    seen = d.client.get("/api/v1/incidents/INC-1", headers=auth(mine))
    assert seen.status_code == 200
    view = seen.json()
    assert [t["id"] for t in view["tickets"]] == [n1], "only the reporter's own branch's tickets"
    assert [e["kind"] for e in view["timeline"]] == ["declared", "update"], "what reporters were told, no notes"
    assert view["tasks"] == [] and view["pages"] == []
    assert d.client.get("/api/v1/incidents", headers=auth(mine)).json()["total"] == 1
    # The post-incident report carries the internal notes: staff only.
    refused = d.client.get("/api/v1/incidents/INC-1/report.md", headers=auth(mine))
    assert refused.status_code == 403 and "联系医保局" not in refused.text

    # Another branch's reporter: the incident does not exist for them.
    for path in ("/api/v1/incidents/INC-1", "/api/v1/incidents/1", "/api/v1/incidents/INC-1/report.md"):
        assert d.client.get(path, headers=auth(other)).status_code == 404, path
    assert d.client.get("/api/v1/incidents", headers=auth(other)).json() == {
        "items": [], "total": 0, "limit": 50, "offset": 0}

    # Reading is all a reporter's token does.
    for token in (mine, other):
        refused = act(d, token, action="note", text="我也来说两句")
        assert refused.status_code == 403 and "staff only" in refused.json()["detail"]
    assert d.client.post("/api/v1/incidents", json={"title": "x"}, headers=auth(mine)).status_code == 403
    assert d.client.get("/api/v1/incidents").status_code == 401
    assert d.client.get("/api/v1/incidents/INC-9", headers=auth(lead)).status_code == 404


def test_staff_of_another_region_may_join_and_note_but_not_page_themselves_into_a_role(d: Dialog) -> None:
    """An incident resolves its linked tickets: someone who does not serve its branches must not get there by
    paging themselves in and answering their own page."""
    n1 = file_ticket(d, "zhang.san", "医保结算失败 提示交易超时")  # 济南 JN-001
    lead, sun, li = (d.token(p) for p in ("chen.gang", "sun.li", "li.wei"))  # sun.li: 青岛 only; li.wei: 济南
    declare(d, lead, tickets=[n1], specialities=["terminal"])
    for target in ("sun.li", "孙丽", "terminal", "hq-network"):
        refused = act(d, sun, action="page", target=target)
        assert refused.status_code == 403, (target, refused.text)
    joined = act(d, sun, action="join")
    assert joined.status_code == 200 and joined.json()["incident"]["roles"]["tech_lead"] is None
    assert act(d, sun, action="note", text="青岛也在观察").status_code == 200
    assert act(d, sun, action="page", target="sun.li").status_code == 403, "joining makes no one a responder"
    assert act(d, sun, action="resolve", text="好了").status_code == 403
    assert d.ticket(n1)["status"] != "resolved"
    # Someone serving the branch may call a colleague of another region in; answering that page counts.
    assert act(d, li, action="page", target="li.wei").status_code == 404, "paging oneself is joining"
    assert act(d, li, action="page", target="sun.li").status_code == 200
    assert act(d, sun, action="join").status_code == 200
    assert act(d, sun, action="page", target="hq-network").status_code == 200
    # The commander, never paged, joins: told they joined (not that 孙立 "took it over" from them)
    joined = act(d, lead, action="join").json()["message"]
    assert "已加入" in joined and "接手" not in joined, joined


def test_staff_of_another_region_read_the_incident_but_not_the_tickets_they_may_not_read(d: Dialog) -> None:
    """The incident is every engineer's to see (anyone may be paged into it), its tickets only where `GET
    /tickets/N` would answer: 青岛's engineer got 济南's titles and reporters here, and a 404 for each of them."""
    n1 = file_ticket(d, "zhang.san", "医保结算失败 提示交易超时")  # 济南 JN-001
    n2 = file_ticket(d, "liu.yang", "社保卡结算一直转圈 最后失败")  # 济南 JN-002: alike, not linked
    n3 = file_ticket(d, "ma.jing", "医保结算失败 一直转圈")  # 青岛 QD-001
    lead, sun = d.token("chen.gang"), d.token("sun.li")
    made = declare(d, lead, tickets=[n1, n3])
    assert [t["id"] for t in made["tickets"]] == [n1, n3] and [t["id"] for t in made["unlinked_alike"]] == [n2]
    seen = d.client.get("/api/v1/incidents/INC-1", headers=auth(sun))
    assert seen.status_code == 200
    assert [t["id"] for t in seen.json()["tickets"]] == [n3]
    assert seen.json()["unlinked_alike"] == []
    for number in (n1, n2):
        assert d.client.get(f"/api/v1/tickets/{number}", headers=auth(sun)).status_code == 404
    assert [t["id"] for t in d.client.get("/api/v1/incidents/INC-1", headers=auth(d.token("zhang.san")))
            .json()["tickets"]] == [n1]
    # The console's board and the post-incident report list what the API lists (they listed every ticket) …
    board = d.client.get("/incidents/INC-1", headers=auth(sun)).text
    assert f"tickets/{n3}" in board and f"tickets/{n1}" not in board and f"tickets/{n2}" not in board
    record = d.client.get("/incidents/INC-1/report.md", headers=auth(sun)).text
    assert f"- #{n3}" in record and f"- #{n1}" not in record and "2 张工单" in record and "另 1 张工单" in record
    # … and someone in the incident (joined, paged, a role) reads every ticket of it: the war-room works them all.
    assert act(d, sun, action="join").status_code == 200
    assert [t["id"] for t in d.client.get("/api/v1/incidents/INC-1", headers=auth(sun)).json()["tickets"]] == [n1, n3]
    assert f"- #{n1}" in d.client.get("/incidents/INC-1/report.md", headers=auth(sun)).text


def test_tickets_of_the_same_category_are_suggested_and_linked(d: Dialog) -> None:
    n1 = file_ticket(d, "zhang.san", "医保结算失败 提示交易超时")
    n2 = file_ticket(d, "liu.yang", "社保卡结算一直转圈 最后失败")
    lead, sun = d.token("chen.gang"), d.token("sun.li")
    made = declare(d, lead, tickets=[n1])
    assert [t["id"] for t in made["unlinked_alike"]] == [n2]
    refused = act(d, sun, action="link", tickets=[n2])  # not a ticket 青岛's engineer may work on
    assert refused.status_code == 404 and f"ticket {n2}" in refused.json()["detail"]
    linked = act(d, lead, action="link", tickets=[n2])
    assert linked.status_code == 200 and "已把 1 张工单关联到 INC-1" in linked.json()["message"]
    detail = linked.json()["incident"]
    assert [t["id"] for t in detail["tickets"]] == [n1, n2] and detail["unlinked_alike"] == []
    assert act(d, lead, action="link", tickets=[]).status_code == 422


def test_actions_go_on_the_timeline_notify_and_follow_the_chats_rules(d: Dialog) -> None:
    numbers = [file_ticket(d, user, text) for user, text in (
        ("zhang.san", "医保结算失败 提示交易超时"), ("liu.yang", "医保刷不了了"), ("r.jn-003", "医保结算报错 -1"))]
    lead, he, zhou, sun = (d.token(p) for p in ("chen.gang", "he.qiming", "zhou.hao", "sun.li"))
    declare(d, lead, tickets=numbers)
    for user in ("zhang.san", "liu.yang", "r.jn-003", "he.qiming", "zhou.hao", "zhao.min"):
        d.pushed(user)

    joined = act(d, he, action="join")
    assert joined.status_code == 200, joined.text
    assert "何启明 确认" in joined.json()["message"]
    assert joined.json()["incident"]["roles"]["tech_lead"]["id"] == "he.qiming"

    update = act(d, he, action="update", text="定位为接口证书过期")
    assert update.status_code == 200, update.text
    assert update.json()["message"] == "已通报：作战室 + 3 位报修人（3 个网点）"
    assert update.json()["incident"]["timeline"][-1]["kind"] == "update"
    for user in ("zhang.san", "liu.yang", "r.jn-003"):
        updates = [m["text"] for m in d.pushed(user) if "定位为接口证书过期" in m["text"]]
        assert len(updates) == 1, (user, updates)
    assert "定位为接口证书过期" in d.pushed_text("zhao.min")  # communications sits in the war-room

    # 周浩 was paged but holds no role: he may note, not broadcast; the 403 names who may.
    refused = act(d, zhou, action="update", text="网络侧正常")
    assert refused.status_code == 403
    assert "陈刚" in refused.json()["detail"] and "何启明" in refused.json()["detail"]
    noted = act(d, zhou, action="note", text="网络侧正常，到前置机没丢包")
    assert noted.status_code == 200 and noted.json()["message"] == "已发到 INC-1 作战室"
    assert "网络侧正常，到前置机没丢包" in d.pushed_text("he.qiming")

    assert act(d, lead, action="role", role="comms", person="zhou.hao").json()["message"] == "INC-1 通报：周浩"
    assert act(d, lead, action="role", role="comms", person="zhang.san").status_code == 422
    assert act(d, lead, action="role", role="comms", person="nobody").status_code == 404
    task = act(d, lead, action="task", text="联系医保局确认证书", owner="wu.lei", due="2030-01-01T12:00:00")
    assert task.status_code == 200, task.text
    tasks = task.json()["incident"]["tasks"]
    assert tasks[0]["owner"]["id"] == "wu.lei" and tasks[0]["due_at"].startswith("2030-01-01T04:00:00")
    assert "联系医保局确认证书" in d.pushed_text("wu.lei")
    assert act(d, sun, action="task_done", task=tasks[0]["id"]).status_code == 200
    assert act(d, sun, action="task_done", task=999).status_code == 404
    assert act(d, lead, action="sev", severity="SEV1").json()["incident"]["severity"] == "SEV1"
    assert act(d, lead, action="sev", severity="SEV9").status_code == 422
    assert act(d, he, action="update").status_code == 422
    assert act(d, he, action="explode").status_code == 422

    resolved = act(d, he, action="resolve", text="已更换证书")
    assert resolved.status_code == 200, resolved.text
    assert "3 张关联工单已同步解决" in resolved.json()["message"]
    assert {d.ticket(n)["status"] for n in numbers} == {"resolved"}
    assert "INC-1 已恢复" in d.pushed_text("liu.yang")
    late = act(d, he, action="update", text="again")
    assert late.status_code == 409 and late.json()["detail"] == "INC-1 is resolved: cannot update"
    assert act(d, lead, action="close").json()["incident"]["status"] == "closed"

    kinds = [e["kind"] for e in d.client.get("/api/v1/incidents/INC-1", headers=auth(lead)).json()["timeline"]]
    for kind in ("declared", "acked", "update", "note", "role", "task", "task_done", "severity", "resolved",
                 "closed"):
        assert kind in kinds, kind
    listed = d.client.get("/api/v1/incidents?status=active&status=mitigated", headers=auth(lead)).json()
    assert listed["total"] == 0
    assert [i["id"] for i in d.client.get("/api/v1/incidents?status=closed&severity=SEV1",
                                          headers=auth(lead)).json()["items"]] == ["INC-1"]
    markdown = d.client.get("/api/v1/incidents/INC-1/report.md", headers=auth(lead))
    assert markdown.status_code == 200 and markdown.text.startswith("# INC-1 事后报告")
    assert "已更换证书" in markdown.text
    # The record says states and roles in words, not the desk's codes (状态：closed, （responder）, 张三，resolved).
    assert "状态：已关闭" in markdown.text and "（指挥" in markdown.text, markdown.text
    for code in ("状态：closed", "responder", "，resolved）", "，closed）", "| acked |", "| missed |"):
        assert code not in markdown.text, (code, markdown.text)


def test_the_openapi_spec_describes_the_incidents_api(d: Dialog) -> None:
    spec = d.client.get("/openapi.json").json()
    paths = spec["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/incidents"])
    schema = paths["/api/v1/incidents/{ref}/actions"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert schema["discriminator"]["propertyName"] == "action" and len(schema["oneOf"]) == 14
    detail = spec["components"]["schemas"]["IncidentDetail"]["properties"]
    assert {"roles", "durations", "tickets", "branches", "timeline", "tasks", "pages"} <= set(detail)
    assert "/incidents/{ref}/events" not in paths  # a page, not part of the API


# --- the live timeline -------------------------------------------------------------------------------------------


def parse(text: str) -> list[dict[str, Any]]:
    """Event-stream blocks as dicts: `id`, `event`, `data` (decoded), `comment`, `retry`."""
    out: list[dict[str, Any]] = []
    for block in text.split("\n\n"):
        fields: dict[str, Any] = {}
        for line in block.splitlines():
            name, _, value = line.partition(":")
            fields[name or "comment"] = value.removeprefix(" ")
        if fields:
            if "data" in fields:
                fields["data"] = json.loads(fields["data"])
            out.append(fields)
    return out


def stream(d: Dialog, url: str, **headers: str) -> list[dict[str, Any]]:
    with d.client.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        return parse("".join(response.iter_text()))


def test_the_event_stream_sends_the_timeline_after_a_given_id(d: Dialog) -> None:
    assert "已宣布 INC-1" in d.say("chen.gang", "应急 宣布 医保结算失败 SEV2")
    d.say("chen.gang", "应急 记录 INC-1 正在联系医保局")
    assert d.client.get("/incidents/INC-1", follow_redirects=False).status_code == 303  # to the sign-in page
    assert d.client.get("/incidents/INC-1/events?once=1", follow_redirects=False).status_code == 303
    d.sign_in("chen.gang")
    board = d.client.get("/incidents/INC-1")
    assert board.status_code == 200 and "EventSource('/incidents/' + ref + '/events?after=" in board.text
    assert "正在联系医保局" in board.text and "/api/v1/incidents/' + ref + '/actions" in board.text

    blocks = stream(d, "/incidents/INC-1/events?once=1")
    assert blocks[0] == {"retry": "3000"}
    entries = [b for b in blocks if "data" in b]
    assert [int(b["id"]) for b in entries] == [b["data"]["id"] for b in entries]
    assert [b["data"]["kind"] for b in entries] == ["declared", "announced", "note"]
    assert entries[-1]["data"]["text"] == "陈刚：正在联系医保局" and entries[-1]["data"]["actor"] == "陈刚"
    ids = [b["data"]["id"] for b in entries]

    after = [b["data"]["id"] for b in stream(d, f"/incidents/INC-1/events?once=1&after={ids[0]}") if "data" in b]
    assert after == ids[1:]
    # A reconnecting browser sends Last-Event-ID with the page's original URL: the header wins.
    resumed = stream(d, f"/incidents/INC-1/events?once=1&after={ids[0]}", **{"Last-Event-ID": str(ids[1])})
    assert [b["data"]["id"] for b in resumed if "data" in b] == ids[2:]
    assert [b for b in stream(d, f"/incidents/INC-1/events?once=1&after={ids[-1]}") if "data" in b] == []
    assert d.client.get("/incidents/INC-9/events?once=1").status_code == 404
    assert d.client.get("/incidents/nonsense/events").status_code == 404


def test_the_stream_of_a_closed_incident_ends_by_itself(d: Dialog) -> None:
    d.say("chen.gang", "应急 宣布 医保结算失败 SEV2")
    d.say("chen.gang", "应急 解决 INC-1 已更换证书")
    d.say("chen.gang", "应急 关闭 INC-1")
    d.sign_in("chen.gang")
    blocks = stream(d, "/incidents/INC-1/events")  # no ?once: it ends because the incident is closed
    assert [b["data"]["kind"] for b in blocks if "id" in b][-2:] == ["resolved", "closed"]
    assert blocks[-1] == {"event": "end", "data": {}}


def test_the_stream_waits_for_new_entries_with_heartbeats_and_stops_when_the_client_leaves(d: Dialog) -> None:
    d.say("chen.gang", "应急 宣布 医保结算失败 SEV2")
    left = False

    async def gone() -> bool:
        return left

    async def main() -> list[str]:
        nonlocal left
        got: list[str] = []
        chunks = incident_pages.timeline_stream(d.desk, 1, 0, gone=gone, poll=0.01, heartbeat=0.05)
        with anyio.fail_after(10):
            async for chunk in chunks:
                got.append(chunk)
                if chunk.startswith(": heartbeat") and not any("正在联系" in c for c in got):
                    await anyio.to_thread.run_sync(d.say, "he.qiming", "应急 记录 INC-1 正在联系医保局")
                if "正在联系医保局" in chunk:
                    left = True
        return got

    got = anyio.run(main)
    assert got[0] == "retry: 3000\n\n"
    texts = [b["data"]["text"] for b in parse("".join(got)) if "data" in b]
    assert texts[-1] == "何启明：正在联系医保局"
    heartbeat = next(i for i, c in enumerate(got) if c.startswith(":"))
    assert heartbeat > 2 and "正在联系" not in "".join(got[:heartbeat])  # silence first, then the new entry


@pytest.fixture
def live(org_desk: Desk) -> Iterator[tuple[str, uvicorn.Server]]:
    """The app on a real server on loopback, as a browser's EventSource meets it."""
    server = uvicorn.Server(uvicorn.Config(create_app(org_desk, run_worker=False), host="127.0.0.1",
                                           port=free_port(), log_level="warning", timeout_graceful_shutdown=5))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{server.config.port}", server
    server.should_exit = True
    thread.join(10)


def test_a_real_client_sees_a_command_appear_live(d: Dialog, live: tuple[str, uvicorn.Server]) -> None:
    url, server = live
    d.say("chen.gang", "应急 宣布 医保结算失败 SEV2")
    token = d.token("chen.gang")
    with (httpx.Client(base_url=url, timeout=10) as browser, httpx.Client(base_url=url, timeout=10) as console,
          browser.stream("GET", "/incidents/INC-1/events", headers=auth(token)) as response):
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        seen: list[str] = []
        while not any('"announced"' in line for line in seen):
            seen.append(next(lines))
        # The page is open and waiting; the event loop still serves everybody else.
        assert console.get("/healthz").status_code == 200
        sent = time.monotonic()
        posted = console.post("/api/v1/incidents/INC-1/actions", headers=auth(token),
                              json={"action": "update", "text": "证书过期，正在更换"})
        assert posted.status_code == 200, posted.text
        while not any("证书过期，正在更换" in line for line in seen):
            seen.append(next(lines))
        assert time.monotonic() - sent < 5
        entry = json.loads(seen[-1].removeprefix("data: "))
        assert seen[-2] == f"id: {entry['id']}" and entry["kind"] == "update"
    # The browser left: the stream notices within a poll and the server has nothing left running.
    deadline = time.monotonic() + 5
    while server.server_state.tasks and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not server.server_state.tasks


def test_a_ticket_linked_by_mistake_is_unlinked_from_the_board(d: Dialog) -> None:
    n1 = file_ticket(d, "zhang.san", "医保结算失败 提示交易超时")
    n2 = file_ticket(d, "liu.yang", "医保卡读不出来")
    lead = d.token("chen.gang")
    declare(d, lead, tickets=[n1, n2])
    gone = act(d, lead, action="unlink", tickets=[n2])
    assert gone.status_code == 200 and f"#{n2}" in gone.json()["message"], gone.text
    assert [t["id"] for t in gone.json()["incident"]["tickets"]] == [n1]
    assert act(d, lead, action="unlink", tickets=[999999]).status_code == 404
