"""The audit trail: configuration and access changes, and sign-in attempts, with who, what and the outcome —
never a secret; read by admins only."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from tests.adapters.server import wuyou
from tests.dialog import Dialog

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def trail(d: Dialog, **params: Any) -> list[dict[str, Any]]:
    answer = d.client.get("/api/v1/audit", params=params, headers={"Authorization": f"Bearer {d.token('admin')}"})
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, Any]] = answer.json()
    return entries


def test_changes_and_sign_ins_are_recorded_with_their_outcome(dialog: Dialog) -> None:
    d = dialog
    admin = {"Authorization": f"Bearer {d.token('admin')}"}
    rules = d.client.get("/api/v1/routing-rules", headers=admin).json()["items"]
    assert d.client.put("/api/v1/routing-rules", headers=admin, json={"items": rules}).status_code == 200
    bad = {"items": [{"name": "no action", "when": {"keywords": ["x"]}, "then": {}}]}
    assert d.client.put("/api/v1/routing-rules", headers=admin, json=bad).status_code == 422
    wrong = d.client.post("/api/v1/session", json={"person": "li.wei", "password": "hunter2-not-it"})
    assert wrong.status_code == 401
    d.sign_in("li.wei")  # a password set, then the right one
    number = d.report("zhang.san", "1", "打印机卡纸，出不了凭条")
    assert d.client.post(f"/api/v1/tickets/{number}/claim", headers={
        "Authorization": f"Bearer {d.token('li.wei')}"}).status_code == 200

    entries = trail(d)
    seen = [(e["actor"], e["action"], e["status"]) for e in entries]
    assert ("admin", "PUT /api/v1/routing-rules", 200) in seen
    assert ("admin", "PUT /api/v1/routing-rules", 422) in seen  # refused changes are recorded too
    assert ("li.wei", "POST /api/v1/session", 401) in seen and ("li.wei", "POST /api/v1/session", 200) in seen
    assert not any("/claim" in e["action"] for e in entries)  # working a ticket is the ticket's timeline
    assert all(e["request_id"] for e in entries)
    assert "hunter2" not in str(entries) and "correct horse" not in str(entries)
    assert [e["id"] for e in entries] == sorted((e["id"] for e in entries), reverse=True)  # newest first
    older = trail(d, before=entries[0]["id"], limit=1)
    assert [e["id"] for e in older] == [entries[1]["id"]]
    assert {e["actor"] for e in trail(d, actor="li.wei")} == {"li.wei"}
    by_name = trail(d, actor="李伟")  # the console's 操作人 search takes a name too, and shows it
    assert by_name and {(e["actor"], e["actor_name"]) for e in by_name} == {("li.wei", "李伟")}
    lead = {"Authorization": f"Bearer {d.token('li.wei')}"}
    assert d.client.get("/api/v1/audit", headers=lead).status_code == 403


def test_command_line_changes_are_recorded_by_the_user_who_ran_them(tmp_path: Path) -> None:
    env = {"WUYOU_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}", "WUYOU_REDIS_URL": ""}
    assert wuyou("db", "upgrade", env=env).returncode == 0
    assert wuyou("org", "import", str(EXAMPLES / "org.yaml"), env=env).returncode == 0
    assert wuyou("passwd", "xu.ming", "--stdin", env=env, stdin="a long new secret\n").returncode == 0
    made = wuyou("token", "create", "xu.ming", "--name", "reporting", env=env)
    assert made.returncode == 0, made.stderr
    with sqlite3.connect(tmp_path / "w.db") as db:
        rows = db.execute("SELECT actor_id, action, target FROM audit_events ORDER BY id").fetchall()
    assert [(a, t) for _, a, t in rows] == [("cli org import", str(EXAMPLES / "org.yaml")),
                                            ("cli passwd", "xu.ming"), ("cli token create", "xu.ming reporting")]
    assert all(actor.startswith("cli:") for actor, _, _ in rows)
    assert "a long new secret" not in str(rows) and made.stdout.strip() not in str(rows)
