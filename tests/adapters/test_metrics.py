"""`/metrics` (Prometheus) and `/readyz`."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import create_engine

from tests.dialog import Dialog
from wuyou.adapters.app import create_app
from wuyou.adapters.bootstrap import Desk
from wuyou.store import MemoryStore


def value(text: str, name: str) -> float:
    """A sample's value in the Prometheus text format (0 when absent)."""
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


def test_metrics_count_messages_tickets_and_the_outbox(dialog: Dialog) -> None:
    d = dialog
    before = d.client.get("/metrics").text
    number = d.report("zhang.san", "1", "打印机卡纸")
    d.say("li.wei", f"接单 {number}")
    page = d.client.get("/metrics")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/plain")
    after = page.text
    sent = 'wuyou_messages_total{platform="http"}'
    assert value(after, sent) - value(before, sent) == 5  # four to report, one to claim
    assert value(after, 'wuyou_tickets{status="claimed"}') == 1
    assert value(after, "wuyou_tickets_created_total") == 1
    assert value(after, 'wuyou_outbox_messages{status="pending"}') >= 1  # nobody delivered yet
    assert value(after, "wuyou_outbox_lag_seconds") >= 0
    d.pushed("zhang.san")  # delivers
    delivered = d.client.get("/metrics").text
    assert value(delivered, 'wuyou_outbox_messages{status="pending"}') == 0
    assert value(delivered, 'wuyou_deliveries_total{platform="http"}') >= 1


def test_metrics_need_the_token_when_one_is_set(desk: Desk) -> None:
    """With WUYOU_METRICS_TOKEN set, a scrape without it (or with another) is refused; readiness stays open."""
    desk.settings = desk.settings.model_copy(update={"metrics_token": SecretStr("scrape-secret")})
    client = TestClient(create_app(desk, run_worker=False))
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic scrape-secret"}):
        refused = client.get("/metrics", headers=headers)
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer", headers
        assert "wuyou_" not in refused.text
    scraped = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
    assert scraped.status_code == 200 and "wuyou_tickets_created_total" in scraped.text
    assert client.get("/readyz").status_code == 200


def test_readyz_says_which_part_is_down(dialog: Dialog) -> None:
    d = dialog
    ready = d.client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ok", "database": "ok", "store": "ok"}


class SilentStore(MemoryStore):
    """A state store whose server stopped answering."""

    def ping(self) -> bool:
        return False


def test_readyz_stays_ready_but_degraded_when_the_store_does_not_answer(desk: Desk) -> None:
    """Messages do not need Redis, and every process shares it: taking them all out of the load balancer
    because Redis is down would stop the desk for nothing."""
    desk.bot.store = SilentStore()
    answer = TestClient(create_app(desk, run_worker=False)).get("/readyz")
    assert answer.status_code == 200 and answer.json()["status"] == "degraded"
    assert answer.json()["store"].startswith("error") and answer.json()["database"] == "ok"


def test_readyz_is_503_when_the_database_does_not_answer(desk: Desk) -> None:
    desk.db.dispose()
    desk.sessions.configure(bind=create_engine("sqlite:////nonexistent-dir/wuyou.db"))
    answer = TestClient(create_app(desk, run_worker=False)).get("/readyz")
    assert answer.status_code == 503 and answer.json()["status"] == "unavailable"
    assert answer.json()["database"].startswith("error")
