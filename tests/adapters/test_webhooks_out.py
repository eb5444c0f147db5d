"""Outgoing webhooks to a real receiver on 127.0.0.1: each ticket event once, in order, signed; retried with
backoff while the receiver fails, then delivered exactly once; dead after the last attempt; admins only."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.clock import TestClock
from tests.dialog import Dialog
from wuyou.adapters.bootstrap import Desk
from wuyou.desk.webhooks import service


class Receiver:
    """An HTTP endpoint that records what it gets and answers `status`."""

    def __init__(self) -> None:
        self.got: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[str]:
        return [h["x-wuyou-event"] for h, _ in self.got]


@pytest.fixture
def dialog(sample_desk: Desk) -> Iterator[Dialog]:
    """The receiver lives on 127.0.0.1: this desk allows webhooks to private addresses (off by default)."""
    sample_desk.settings = sample_desk.settings.model_copy(update={"webhooks_allow_private": True})
    with Dialog(sample_desk) as d:
        yield d


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.server.shutdown()


def send(d: Dialog) -> int:
    assert d.desk.webhooks is not None
    return d.desk.webhooks.run_once()


def test_ticket_events_arrive_once_each_in_order_and_signed(dialog: Dialog, receiver: Receiver) -> None:
    d = dialog
    admin = {"Authorization": f"Bearer {d.token('admin')}"}
    made = d.client.post("/api/v1/webhooks", headers=admin,
                         json={"name": "ITSM", "url": receiver.url, "events": ["ticket.*"]})
    assert made.status_code == 201, made.text
    secret = made.json()["secret"]
    assert "secret" not in d.client.get("/api/v1/webhooks", headers=admin).json()[0]
    number = d.report("zhang.san", "1", "打印机卡纸")
    d.say("li.wei", f"接单 {number}")
    d.say("li.wei", f"备注 {number} 可能是搓纸轮")
    d.say("li.wei", f"解决 {number} 换了搓纸轮")
    d.say("chen.gang", "应急 宣布 医保结算失败 SEV2")  # an incident event: not subscribed
    while send(d):
        pass
    kinds = receiver.events()
    assert kinds[0] == "ticket.created" and "ticket.claimed" in kinds and kinds[-1].startswith("ticket.")
    assert "ticket.resolved" in kinds and not any(k.startswith("incident.") for k in kinds)
    assert len(kinds) == len(set(zip(kinds, [h["x-wuyou-delivery"] for h, _ in receiver.got], strict=True)))
    for headers, body in receiver.got:
        assert service.verify(secret, headers["x-wuyou-signature"], body, now=int(time.time()))
        assert not service.verify(secret, headers["x-wuyou-signature"], body + b" ", now=int(time.time()))
    note = next(json.loads(b) for h, b in receiver.got if h["x-wuyou-event"] == "ticket.note")
    assert note["body"] is None and note["public"] is False  # an internal note's text stays inside
    assert note["ticket"]["id"] == number
    assert send(d) == 0  # nothing twice


def test_ticket_events_carry_their_facts_as_docs_webhooks_md_promises(dialog: Dialog, receiver: Receiver) -> None:
    """`ticket.held` tells until when (`data.until`), an SLA entry which clock: a dashboard needs no second call.
    The facts were missing from every ticket event (incident events had them)."""
    d = dialog
    admin = {"Authorization": f"Bearer {d.token('admin')}"}
    assert d.client.post("/api/v1/webhooks", headers=admin,
                         json={"name": "dash", "url": receiver.url, "events": ["ticket.*"]}).status_code == 201
    number = d.report("zhang.san", "1", "打印机卡纸")
    d.say("li.wei", f"接单 {number}")
    held = d.client.post(f"/api/v1/tickets/{number}/hold", headers={"Authorization": f"Bearer {d.token('li.wei')}"},
                         json={"reason": "等厂商上门"})  # until the branch opens next
    assert held.status_code == 200, held.text
    while send(d):
        pass
    got = {h["x-wuyou-event"]: json.loads(b) for h, b in receiver.got}
    until = datetime.fromisoformat(got["ticket.held"]["data"]["until"])
    assert until == datetime.fromisoformat(d.ticket(number)["hold_until"]) and until.tzinfo is not None
    assert got["ticket.held"]["body"] == "等厂商上门"
    assert got["ticket.sla_start"]["data"]["policy"] and got["ticket.sla_start"]["body"] is None
    assert all(isinstance(payload["data"], dict) for payload in got.values())


def test_a_failing_receiver_is_retried_with_backoff_then_gets_it_once(dialog: Dialog, receiver: Receiver,
                                                                        clock: TestClock) -> None:
    d = dialog
    admin = {"Authorization": f"Bearer {d.token('admin')}"}
    hook = d.client.post("/api/v1/webhooks", headers=admin,
                         json={"name": "x", "url": receiver.url, "events": ["ticket.created"]}).json()
    clock.set(clock())
    receiver.status = 503
    d.report("zhang.san", "1", "打印机卡纸")
    assert send(d) == 1 and send(d) == 0  # failed, and not due again at once
    clock.advance(seconds=31)
    assert send(d) == 1
    receiver.status = 200
    clock.advance(seconds=121)
    assert send(d) == 1
    assert receiver.events() == ["ticket.created"] * 3
    listed = d.client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=admin).json()["items"]
    assert listed[0]["status"] == "delivered" and listed[0]["attempts"] == 3
    again = d.client.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{listed[0]['id']}/redeliver", headers=admin)
    assert again.status_code == 200 and send(d) == 1 and len(receiver.got) == 4


def test_dead_after_the_last_attempt_and_admins_only(dialog: Dialog, receiver: Receiver, clock: TestClock) -> None:
    d = dialog
    admin = {"Authorization": f"Bearer {d.token('admin')}"}
    hook = d.client.post("/api/v1/webhooks", headers=admin, json={"name": "x", "url": receiver.url}).json()
    assert d.client.post(f"/api/v1/webhooks/{hook['id']}/ping", headers=admin).status_code == 202
    receiver.status = 500
    clock.set(clock())
    for _ in range(service.MAX_ATTEMPTS):
        send(d)
        clock.advance(days=2)
    listed = d.client.get(f"/api/v1/webhooks/{hook['id']}/deliveries?status=dead", headers=admin).json()
    assert listed["total"] == 1 and listed["items"][0]["event"] == "ping"
    assert listed["items"][0]["attempts"] == service.MAX_ATTEMPTS
    engineer = {"Authorization": f"Bearer {d.token('li.wei')}"}
    assert d.client.get("/api/v1/webhooks", headers=engineer).status_code == 403
    bad = d.client.post("/api/v1/webhooks", headers=admin, json={"name": "x", "url": "ftp://x", "events": []})
    assert bad.status_code == 422
    assert d.client.post("/api/v1/webhooks", headers=admin,
                         json={"name": "x", "url": receiver.url, "events": ["tickets"]}).status_code == 422
    assert d.client.delete(f"/api/v1/webhooks/{hook['id']}", headers=admin).status_code == 204
    assert d.client.post(f"/api/v1/webhooks/{hook['id']}/ping", headers=admin).status_code == 409


def test_internal_addresses_and_events_never_sent_are_refused(sample_desk: Desk) -> None:
    """By default an admin cannot point a webhook at the desk itself, a neighbour or the cloud's metadata service,
    nor subscribe to an event the desk never sends (ticket.claimd would wait for ever)."""
    with Dialog(sample_desk) as d:
        admin = {"Authorization": f"Bearer {d.token('admin')}"}
        for url in ("http://127.0.0.1:8000/api/v1/tickets", "http://169.254.169.254/latest/meta-data/",
                    "http://10.1.2.3/hook", "http://localhost/hook", "http://[::1]/hook"):
            refused = d.client.post("/api/v1/webhooks", headers=admin, json={"name": "x", "url": url})
            assert refused.status_code == 422 and "WUYOU_WEBHOOKS_ALLOW_PRIVATE" in refused.text, (url, refused.text)
        typo = d.client.post("/api/v1/webhooks", headers=admin,
                             json={"name": "x", "url": "https://itsm.example.com/hook", "events": ["ticket.claimd"]})
        assert typo.status_code == 422 and "did you mean ticket.claimed" in typo.text, typo.text
        made = d.client.post("/api/v1/webhooks", headers=admin, json={
            "name": "x", "url": "https://itsm.example.com/hook", "events": ["ticket.claimed", "incident.*", "ping"]})
        assert made.status_code == 201, made.text
        moved = d.client.patch(f"/api/v1/webhooks/{made.json()['id']}", headers=admin,
                               json={"url": "http://192.168.1.5/hook"})
        assert moved.status_code == 422
