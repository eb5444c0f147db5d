"""Outgoing webhooks: subscriptions, and one delivery row per event and endpoint, written in the transaction
of the change (like the outbox), so a crash never loses one and a retry never sends a second.

Deliveries are signed like Stripe's: `X-Wuyou-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
"<t>.<body>" with the endpoint's secret>`; `verify` is what a receiver runs."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Mapping, Sequence, Set
from datetime import datetime, timedelta
from difflib import get_close_matches
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from wuyou.desk.errors import Refusal
from wuyou.desk.webhooks.models import WebhookDelivery, WebhookEndpoint

BACKOFF = (30, 120, 600, 3600, 6 * 3600, 12 * 3600, 24 * 3600)  # seconds before the 2nd, 3rd, … attempt
MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=2)  # a claimed delivery is not handed out again for this long (a crashed sender)
TOLERANCE = 300  # seconds a receiver should accept between the signature's time and its own clock


class EndpointRefused(Refusal):
    """An endpoint the desk will not send to: an address inside its own network, an event it never sends."""


def check(*, url: str | None, events: Sequence[str] | None, allow_private: bool,
          kinds: Mapping[str, Set[str]]) -> None:
    """Refuse an address inside the desk's own network (unless allowed) and an event name the desk never sends
    (`kinds`: the event kinds of each family, `ticket` → {claimed, …})."""
    if url is not None and not allow_private:
        host = (urlsplit(url).hostname or "").strip("[]").lower()
        try:
            inside = ipaddress.ip_address(host)
            private = inside.is_private or inside.is_loopback or inside.is_link_local or inside.is_unspecified
        except ValueError:
            private = host == "localhost" or host.endswith(".localhost")
        if private:
            raise EndpointRefused(f"{host} is a loopback, link-local or private address: set "
                                  "WUYOU_WEBHOOKS_ALLOW_PRIVATE=true to allow it", "adm_hook_private", host=host)
    for pattern in events or ():
        family, _, kind = pattern.partition(".")
        if kind and kind != "*" and kind not in kinds[family]:
            close = get_close_matches(kind, sorted(kinds[family]), n=1)
            if close:
                raise EndpointRefused(f"the desk sends no event {pattern!r} (did you mean {family}.{close[0]}?)",
                                      "adm_hook_event_close", event=pattern, close=f"{family}.{close[0]}")
            raise EndpointRefused(f"the desk sends no event {pattern!r}", "adm_hook_event", event=pattern)


def subscribe(*, session: Session, name: str, url: str, events: Sequence[str], created_by: str | None,
              now: datetime) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret (returned only here)."""
    secret = "whsec_" + secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint(name=name, url=url, secret=secret, events=list(events), active=True,
                               created_by=created_by, created_at=now)
    session.add(endpoint)
    session.flush()
    return endpoint, secret


def matches(patterns: Sequence[str], event: str) -> bool:
    """`ticket.*` matches every ticket event, `ticket.claimed` one; no patterns match everything."""
    return not patterns or any(p == event or (p.endswith(".*") and event.startswith(p[:-1])) for p in patterns)


def emit(*, session: Session, event: str, payload: dict[str, Any], key: str, now: datetime,
         only: int | None = None) -> int:
    """Queue `event` for every active endpoint that wants it (or just endpoint `only`); how many were queued.
    Costs one indexed EXISTS when nobody subscribes."""
    if only is None and not session.scalar(select(exists().where(WebhookEndpoint.active.is_(True)))):
        return 0
    query = select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True))
    if only is not None:
        query = query.where(WebhookEndpoint.id == only)
    count = 0
    for endpoint in session.scalars(query):
        if only is None and not matches(endpoint.events, event):
            continue
        session.add(WebhookDelivery(endpoint_id=endpoint.id, idempotency_key=f"{key}:{endpoint.id}", event=event,
                                    payload={"event": event, "at": now.isoformat(), **payload}, status="pending",
                                    attempts=0, created_at=now, next_attempt_at=now))
        count += 1
    if count:
        session.flush()
    return count


def claim_due(*, session: Session, now: datetime, limit: int = 20) -> list[WebhookDelivery]:
    """Due deliveries, leased for a while so that no other sender takes them (SKIP LOCKED on PostgreSQL)."""
    rows = list(session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.id).limit(limit).with_for_update(skip_locked=True)))
    for row in rows:
        row.next_attempt_at = now + LEASE
    session.flush()
    return rows


def delivered(*, delivery: WebhookDelivery, status: int, now: datetime) -> None:
    delivery.status = "delivered"
    delivery.attempts += 1
    delivery.delivered_at = now
    delivery.response_status = status
    delivery.last_error = None


def failed(*, delivery: WebhookDelivery, error: str, now: datetime, status: int | None = None) -> None:
    """Try again later (backing off), or give up after MAX_ATTEMPTS: the delivery is then `dead`."""
    delivery.attempts += 1
    delivery.response_status = status
    delivery.last_error = error[:2000]
    if delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = "dead"
        return
    delivery.next_attempt_at = now + timedelta(seconds=BACKOFF[min(delivery.attempts - 1, len(BACKOFF) - 1)])


def redeliver(*, delivery: WebhookDelivery, now: datetime) -> None:
    """Send a delivery again (after a receiver's fix), whatever became of it."""
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = now


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The `X-Wuyou-Signature` header for a body sent at `timestamp`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, *, now: int, tolerance: int = TOLERANCE) -> bool:
    """What a receiver checks: the signature is ours for this body, and recent."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected, given = sign(secret, timestamp, body), f"t={timestamp},v1={parts.get('v1', '')}"
    return hmac.compare_digest(expected.encode(), given.encode())  # bytes: a non-ASCII header is just wrong
