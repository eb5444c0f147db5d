"""A staff member's own API tokens: made from a console sign-in (shown once), listed, used, revoked; a token makes
no token, reporters have none, and each change is on the audit trail."""

from __future__ import annotations

from tests.dialog import Dialog

CONSOLE = {"X-Wuyou-Console": "1"}


def test_an_engineer_makes_uses_and_revokes_a_token(dialog: Dialog) -> None:
    d = dialog
    d.sign_in("li.wei")
    made = d.client.post("/api/v1/me/tokens", headers=CONSOLE, json={"name": "  报表脚本 "})
    assert made.status_code == 201, made.text
    token, token_id = made.json()["token"], made.json()["id"]
    assert token.startswith("wy_") and made.json()["name"] == "报表脚本"
    bearer = {"Authorization": f"Bearer {token}"}
    assert d.client.get("/api/v1/tickets", headers=bearer).status_code == 200
    listed = d.client.get("/api/v1/me/tokens").json()
    assert [(t["id"], t["name"]) for t in listed] == [(token_id, "报表脚本")]  # the console sign-in is not listed
    assert listed[0]["last_used_at"] is not None and "token" not in listed[0]

    again = d.client.post("/api/v1/me/tokens", headers=CONSOLE, json={"name": "报表脚本"})
    assert again.status_code == 422 and "您已经有一个叫“报表脚本”的令牌了" in again.json()["detail"]
    by_token = d.client.post("/api/v1/me/tokens", headers=bearer, json={"name": "another"})
    assert by_token.status_code == 403 and "console" in by_token.json()["detail"]

    theirs = d.token("wang.fang")
    assert d.client.delete(f"/api/v1/me/tokens/{token_id}",
                           headers={"Authorization": f"Bearer {theirs}"}).status_code == 404  # not theirs
    assert d.client.delete(f"/api/v1/me/tokens/{token_id}", headers=CONSOLE).status_code == 204
    assert d.client.get("/api/v1/tickets", headers=bearer).status_code == 401
    assert d.client.delete(f"/api/v1/me/tokens/{token_id}", headers=CONSOLE).status_code == 404
    assert d.client.get("/api/v1/me/tokens").json() == []

    trail = d.client.get("/api/v1/audit?actor=li.wei", headers={"Authorization": f"Bearer {d.token('admin')}"})
    actions = [e["action"] for e in trail.json()]
    assert "POST /api/v1/me/tokens" in actions and f"DELETE /api/v1/me/tokens/{token_id}" in actions, actions
    assert "报表脚本" in [e["target"] for e in trail.json() if e["action"] == "POST /api/v1/me/tokens"]


def test_a_reporter_has_no_tokens_and_the_page_is_for_staff(dialog: Dialog) -> None:
    d = dialog
    d.sign_in("zhang.san")
    refused = d.client.post("/api/v1/me/tokens", headers=CONSOLE, json={"name": "mine"})
    assert refused.status_code == 403 and "staff" in refused.json()["detail"]
    d.sign_in("li.wei")
    page = d.client.get("/console/tokens")
    assert page.status_code == 200 and "API 令牌" in page.text and "只显示这一次" in page.text
    for n in range(20):
        assert d.client.post("/api/v1/me/tokens", headers=CONSOLE, json={"name": f"job {n}"}).status_code == 201
    full = d.client.post("/api/v1/me/tokens", headers=CONSOLE, json={"name": "job 20"})
    assert full.status_code == 422 and "最多同时持有 20 个令牌" in full.json()["detail"]
