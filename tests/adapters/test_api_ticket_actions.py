"""Working tickets through the API: the chat's actions with the chat's notifications and scoping, the
queues, and the live stream of ticket events."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from tests.clock import TestClock
from tests.dialog import Dialog


def bearer(d: Dialog, person: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {d.token(person)}"}


def test_claim_reply_resolve_then_confirm_and_rate_reach_the_reporter_in_chat(dialog: Dialog) -> None:
    d = dialog
    number = d.report("zhang.san", "1", "打印机卡纸，出不了凭条")
    d.pushed("zhang.san")
    li, zhang = bearer(d, "li.wei"), bearer(d, "zhang.san")

    claimed = d.client.post(f"/api/v1/tickets/{number}/claim", headers=li)
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["assignee"] == "li.wei" and claimed.json()["status"] == "claimed"
    again = d.client.post(f"/api/v1/tickets/{number}/claim", headers=bearer(d, "wang.fang"))
    assert again.status_code == 409 and "李伟" in again.json()["detail"]
    assert again.json()["detail"] == "already claimed by 李伟"  # the API's words, for scripts
    shown = d.client.post(f"/api/v1/tickets/{number}/claim", headers={**bearer(d, "wang.fang"), "X-Wuyou-Console": "1"})
    assert shown.json()["detail"] == "这张单已由 李伟 接单。"  # the console: the person's language
    gone = d.client.post("/api/v1/tickets/99999/claim", headers={**li, "X-Wuyou-Console": "1"})
    assert gone.status_code == 404 and gone.json()["detail"] == "没有这张工单，或不是您能处理的。"

    assert d.client.post(f"/api/v1/tickets/{number}/reply", headers=li,
                         json={"text": "十分钟后到，请先别重启"}).status_code == 200
    assert "十分钟后到，请先别重启" in d.pushed_text("zhang.san")
    noted = d.client.post(f"/api/v1/tickets/{number}/notes", headers=li, json={"text": "可能是搓纸轮"}).json()
    assert noted["timeline"][-1]["kind"] == "note"
    assert all(e["kind"] != "note" for e in d.client.get(f"/api/v1/tickets/{number}", headers=zhang).json()
               ["timeline"])  # internal

    resolved = d.client.post(f"/api/v1/tickets/{number}/resolve", headers=li, json={"summary": "更换了搓纸轮"})
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    assert "更换了搓纸轮" in d.pushed_text("zhang.san")
    assert d.client.post(f"/api/v1/tickets/{number}/confirm", headers=zhang).status_code == 200
    rated = d.client.post(f"/api/v1/tickets/{number}/rate", headers=zhang, json={"rating": 5, "comment": "快"})
    assert rated.status_code == 200 and rated.json()["rating"] == 5 and rated.json()["status"] == "closed"
    assert d.client.post(f"/api/v1/tickets/{number}/rate", headers=zhang, json={"rating": 9}).status_code == 422


def test_scope_and_roles_hold_for_every_action(dialog: Dialog) -> None:
    d = dialog
    number = d.report("zhang.san", "1", "打印机卡纸")
    qingdao = bearer(d, "sun.li")  # an engineer of 青岛: 济南's ticket does not exist for him
    for path, body in (("claim", None), ("resolve", {"summary": "x"}), ("notes", {"text": "x"}),
                       ("transfer", {"target": "sun.li"})):
        answer = d.client.post(f"/api/v1/tickets/{number}/{path}", headers=qingdao, json=body)
        assert answer.status_code == 404, (path, answer.text)
    reporter = bearer(d, "zhang.san")
    assert d.client.post(f"/api/v1/tickets/{number}/claim", headers=reporter).status_code == 403
    assert d.client.post(f"/api/v1/tickets/{number}/confirm", headers=bearer(d, "ma.jing")).status_code == 404
    assert d.client.post(f"/api/v1/tickets/{number}/priority", headers=bearer(d, "li.wei"),
                         json={"priority": "P9"}).status_code == 422
    assert d.client.post("/api/v1/tickets/999999/claim", headers=bearer(d, "li.wei")).status_code == 404


def test_a_reporter_opens_a_ticket_through_the_api_and_the_team_hears_of_it(dialog: Dialog) -> None:
    d = dialog
    d.pushed("li.wei")
    made = d.client.post("/api/v1/tickets", headers=bearer(d, "zhang.san"),
                         json={"description": "POS机刷卡没反应", "category": "终端设备/POS机", "urgency": 2})
    assert made.status_code == 201, made.text
    assert made.json()["reporter"] == "zhang.san" and made.json()["status"] == "new"
    assert made.json()["category"] == "终端设备 › POS机" and made.json()["team"] is not None
    assert f"#{made.json()['id']}" in d.pushed_text("li.wei")
    bad = d.client.post("/api/v1/tickets", headers=bearer(d, "zhang.san"),
                        json={"description": "x", "category": "没有/这个"})
    assert bad.status_code == 422


def test_a_retried_create_with_its_idempotency_key_opens_one_ticket(dialog: Dialog) -> None:
    """An HR or monitoring system that timed out retries with the same key: one ticket, one card to the team."""
    d = dialog
    d.pushed("li.wei")
    report = {"description": "POS机刷卡没反应", "category": "终端设备/POS机"}
    key = {**bearer(d, "zhang.san"), "Idempotency-Key": "hr-4711"}
    first = d.client.post("/api/v1/tickets", headers=key, json=report)
    again = d.client.post("/api/v1/tickets", headers=key, json=report)
    assert first.status_code == 201 and again.status_code == 201, again.text
    assert again.json()["id"] == first.json()["id"] and again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert d.pushed_text("li.wei").count(f"#{first.json()['id']}") == 1
    listed = d.client.get("/api/v1/tickets", headers=bearer(d, "zhang.san")).json()
    assert listed["total"] == 1
    # The key used for another body is a mistake of the caller's, said so; another caller's key is their own.
    other = d.client.post("/api/v1/tickets", headers=key, json={**report, "description": "打印机卡纸"})
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["detail"]
    theirs = d.client.post("/api/v1/tickets", headers={**bearer(d, "liu.yang"), "Idempotency-Key": "hr-4711"},
                           json=report)
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]
    fresh = d.client.post("/api/v1/tickets", headers={**bearer(d, "zhang.san"), "Idempotency-Key": "hr-4712"},
                          json=report)
    assert fresh.status_code == 201 and fresh.json()["id"] not in (first.json()["id"], theirs.json()["id"])
    assert "Idempotency-Key" in json.dumps(d.client.get("/openapi.json").json()["paths"]["/api/v1/tickets"]["post"])


def test_queues_show_mine_unclaimed_and_what_is_about_to_breach(dialog: Dialog, clock: TestClock) -> None:
    d = dialog
    clock.set(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))  # Monday 10:00 in 济南
    first = d.report("zhang.san", "1", "打印机卡纸")
    second = d.report("zhang.san", "1", "扫码枪坏了")
    li = bearer(d, "li.wei")
    d.client.post(f"/api/v1/tickets/{first}/claim", headers=li)

    def q() -> dict[str, Any]:
        answer = d.client.get("/api/v1/queues?within=5", headers=li)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    now = q()
    assert [t["id"] for t in now["mine"]["items"]] == [first]
    assert [t["id"] for t in now["unclaimed"]["items"]] == [second]
    assert now["unclaimed"]["items"][0]["response_due"] is not None
    assert now["breaching"]["total"] == 0
    d.say("zhang.san", "转人工")  # the reporter asks for a person: the newest open ticket is flagged
    assert q()["unclaimed"]["items"][0]["tags"] == ["报修人着急"] and q()["mine"]["items"][0]["tags"] == []
    clock.advance(hours=3)
    later = q()
    assert second in [t["id"] for t in later["breaching"]["items"]]
    assert d.client.get("/api/v1/queues", headers=bearer(d, "zhang.san")).status_code == 403
    assert d.client.get("/api/v1/queues", headers=bearer(d, "sun.li")).json()["unclaimed"]["total"] == 0


def events(d: Dialog, person: str, after: int) -> list[dict[str, Any]]:
    with d.client.stream("GET", f"/api/v1/tickets/events?once=1&after={after}",
                         headers=bearer(d, person)) as answer:
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/event-stream")
        body = "".join(answer.iter_text())
    return [json.loads(line[6:]) for line in body.splitlines() if line.startswith("data: ")]


def test_the_stream_sends_ticket_events_within_the_callers_scope(dialog: Dialog) -> None:
    d = dialog
    jinan = d.report("zhang.san", "1", "打印机卡纸")
    qingdao = d.report("ma.jing", "1", "青岛打印机不进纸")
    seen = events(d, "li.wei", 0)
    assert {e["ticket"] for e in seen} == {jinan} and "created" in {e["kind"] for e in seen}
    assert {e["ticket"] for e in events(d, "sun.li", 0)} == {qingdao}
    assert {e["ticket"] for e in events(d, "admin", 0)} == {jinan, qingdao}
    last = max(e["id"] for e in [{"id": 0}])
    d.client.post(f"/api/v1/tickets/{jinan}/claim", headers=bearer(d, "li.wei"))
    newest = events(d, "li.wei", last)[-1]
    assert newest == {"ticket": jinan, "kind": "claimed", "at": newest["at"]}


def test_resolving_through_the_api_with_an_article_named_teaches_it(dialog: Dialog) -> None:
    d = dialog
    number = d.report("zhang.san", "1", "复印机老吃纸 后盖那里塞住了")
    li = bearer(d, "li.wei")
    assert d.client.post(f"/api/v1/tickets/{number}/claim", headers=li).status_code == 200
    resolved = d.client.post(f"/api/v1/tickets/{number}/resolve", headers=li,
                             json={"summary": "按KB-P001处理，取出后盖里的卡纸"})
    assert resolved.status_code == 200, resolved.text
    assert [e["body"] for e in resolved.json()["timeline"] if e["kind"] == "kb_linked"] == ["KB-P001"]
    assert "1. 打印机卡纸的处理方法" in d.say("liu.yang", "复印机老吃纸 后盖那里塞住了 急")


def test_a_transfer_through_the_api_keeps_its_reason(dialog: Dialog) -> None:
    d = dialog
    number = d.report("zhang.san", "2", "POS机屏幕不亮")
    answer = d.client.post(f"/api/v1/tickets/{number}/transfer", headers=bearer(d, "zhao.min"),
                           json={"target": "hq-app", "reason": "终端正常，是收银系统报错"})
    assert answer.status_code == 200, answer.text
    (moved,) = [e for e in d.ticket(number)["timeline"] if e["kind"] == "transferred"]
    assert moved["body"] == "总部应用组：终端正常，是收银系统报错"
    assert moved["data"]["reason"] == "终端正常，是收银系统报错"
    assert "原因：终端正常，是收银系统报错" in d.pushed_text("he.qiming")


def test_the_console_is_told_why_a_transfer_is_refused_in_its_language(dialog: Dialog) -> None:
    d = dialog
    number = d.report("liu.yang", "2", "POS机屏幕不亮")
    console = {**bearer(d, "zhao.min"), "X-Wuyou-Console": "1"}
    for target, said in (("zhang.san", "张三 不是工程师"), ("nosuchteam", "没找到“nosuchteam”"),
                         ("sun.li", "不能转给 孙立：孙立 属于 青岛终端组（青岛分公司），这是济南历下营业厅的单")):
        answer = d.client.post(f"/api/v1/tickets/{number}/transfer", headers=console, json={"target": target})
        assert answer.status_code in (409, 422) and said in answer.json()["detail"], answer.text
    plain = d.client.post(f"/api/v1/tickets/{number}/transfer", headers=bearer(d, "zhao.min"), json={"target": "x"})
    assert "cannot take this ticket: unknown" in plain.json()["detail"]  # (an API client keeps the English)


def test_a_ticket_says_what_it_is_due_by(dialog: Dialog) -> None:
    """The ticket page shows its running clocks' due times (it showed none)."""
    d = dialog
    number = d.report("zhang.san", "1", "打印机卡纸")
    shown = d.ticket(number)
    assert shown["response_due"] and shown["resolution_due"], shown
    d.say("li.wei", f"接单 {number}")
    claimed = d.ticket(number)
    assert claimed["response_due"] is None and claimed["resolution_due"] == shown["resolution_due"]
