"""kill -9 right after a ticket is created loses neither the ticket nor its notification."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.adapters.server import Server, wuyou
from tests.conftest import shared

pytestmark = pytest.mark.server


def _say(url: str, user: str, message: str) -> str:
    response = httpx.post(f"{url}/channels/http/messages", json={"user": user, "text": message}, timeout=10)
    assert response.status_code == 200, response.text
    return "\n".join(r["text"] for r in response.json()["replies"])


def test_kill_9_after_ticket_creation(tmp_path: Path) -> None:
    db = tmp_path / "wuyou.db"
    env = {"WUYOU_DATABASE_URL": f"sqlite:///{db}"}
    assert wuyou("db", "upgrade", env=env).returncode == 0
    assert wuyou("org", "import", str(shared("org-sample.yaml")), env=env).returncode == 0
    assert wuyou("kb", "import", str(shared("kb-sample/kb")), env=env).returncode == 0

    # No delivery worker in the first server: the notification is still in the outbox when it dies.
    first = Server({**env, "WUYOU_INPROCESS_WORKER": "false"}, tmp_path / "server.log")
    try:
        for message in ("/new", "1", "2"):
            _say(first.url, "zhang.san", message)
        reply = _say(first.url, "zhang.san", "大厅打印机卡纸")
        number = int(re.search(r"#(\d+)", reply).group(1))  # type: ignore[union-attr]
    finally:
        first.kill()

    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM tickets WHERE id = :n"), {"n": number}).scalar() == "new"
        pending = conn.execute(
            text("SELECT person_id FROM outbox WHERE ticket_id = :n AND status = 'pending' ORDER BY person_id"),
            {"n": number},
        ).scalars().all()
    engine.dispose()
    assert pending == ["li.wei", "wang.fang"]

    second = Server(env, tmp_path / "server.log")
    try:
        deadline = time.monotonic() + 15
        messages: list[dict[str, object]] = []
        while time.monotonic() < deadline and not messages:
            messages = httpx.get(f"{second.url}/channels/http/messages", params={"user": "li.wei"}).json()["messages"]
            time.sleep(0.2)
        assert len(messages) == 1 and f"#{number}" in str(messages[0]["text"])
        # The ticket is intact and workable after the crash.
        assert f"已接单 #{number}" in _say(second.url, "li.wei", f"接单 {number}")
    finally:
        second.stop()
