"""`wuyou serve --workers N`: every worker process serves on the port given, and says so in the links it writes."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from tests.adapters.server import Server, wuyou
from tests.conftest import REDIS_URL, redis_store

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_workers_links_name_the_port_served(tmp_path: Path) -> None:
    redis_store()  # (skips, with the reason, when Redis is not reachable)
    env = {"WUYOU_DATABASE_URL": f"sqlite:///{tmp_path / 'wuyou.db'}", "WUYOU_DEMO_DIR": str(EXAMPLES),
           "WUYOU_MEDIA_DIR": str(tmp_path / "media"), "WUYOU_REDIS_URL": REDIS_URL,
           "WUYOU_REDIS_PREFIX": f"wuyou-test-{uuid.uuid4().hex[:8]}:"}
    assert wuyou("db", "upgrade", env=env).returncode == 0
    server = Server(env, tmp_path / "server.log", "--workers", "2")
    try:
        def say(text: str) -> str:
            answer = httpx.post(f"{server.url}/channels/http/messages", json={"user": "wang.lin", "text": text},
                                timeout=30)
            assert answer.status_code == 200, answer.text
            return "\n".join(r["text"] for r in answer.json()["replies"])

        say("/new")
        say("1")
        say("1")
        filed = say("大厅打印机卡纸")
        assert f"{server.url}/tickets/" in filed and ":8000/" not in filed, filed
    finally:
        server.stop()
