"""The outbox: notifications stored with the change that caused them, delivered later."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wuyou.desk.models import OutboxMessage

MAX_ATTEMPTS = 8


_QUEUED = "wuyou.outbox.queued"


def enqueue(
    *,
    session: Session,
    person_id: str,
    template: str,
    params: dict[str, Any],
    key: str,
    now: datetime,
    buttons: Sequence[dict[str, str]] = (),
    ticket_id: int | None = None,
    deliver_at: datetime | None = None,
) -> OutboxMessage:
    """Add one notification; the caller's commit makes it durable together with its cause. `deliver_at`: not
    before then (a card held back to gather more, `bursts`)."""
    message = OutboxMessage(
        idempotency_key=key,
        person_id=person_id,
        template=template,
        params=params,
        buttons=list(buttons),
        ticket_id=ticket_id,
        status="pending",
        created_at=now,
        next_attempt_at=deliver_at or now,
    )
    session.add(message)
    session.info[_QUEUED] = True
    return message


def enqueue_to_account(*, session: Session, platform: str, address: str, template: str, params: dict[str, Any],
                       key: str, now: datetime) -> OutboxMessage:
    """A notification to an account of a platform that no person of the directory has (yet)."""
    message = OutboxMessage(idempotency_key=key, person_id=None, platform=platform, address=address,
                            template=template, params=params, buttons=[], status="pending", created_at=now,
                            next_attempt_at=now)
    session.add(message)
    session.info[_QUEUED] = True
    return message


def known_keys(*, session: Session, keys: Sequence[str]) -> set[str]:
    """Which of these idempotency keys a notification already has."""
    if not keys:
        return set()
    return set(session.scalars(select(OutboxMessage.idempotency_key).where(OutboxMessage.idempotency_key.in_(keys))))


def queued(session: Session) -> bool:
    """Whether this session added a notification (the delivery loop is woken after its commit only then: under
    a storm, waking it at every commit made it take its turn at the database hundreds of times a second)."""
    return bool(session.info.get(_QUEUED))


def due(*, session: Session, now: datetime, limit: int = 50) -> list[OutboxMessage]:
    """Pending messages whose time has come, locked so that parallel workers skip them."""
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(stmt))


def lease(*, session: Session, now: datetime, seconds: float, limit: int = 20) -> list[int]:
    """Take up to `limit` due messages for `seconds`: until then no other worker takes them (rows locked
    `SKIP LOCKED` while leasing on PostgreSQL), and should this worker die they fall due again by themselves.
    The caller commits the lease at once, then delivers each message in a transaction of its own."""
    taken = due(session=session, now=now, limit=limit)
    for message in taken:
        message.next_attempt_at = now + timedelta(seconds=seconds)
    return [message.id for message in taken]


def mark_sent(*, message: OutboxMessage, now: datetime) -> None:
    """Record a successful delivery."""
    message.status = "sent"
    message.sent_at = now
    message.attempts += 1
    message.last_error = None


def mark_failed(*, message: OutboxMessage, now: datetime, error: str, retry_after: float | None = None) -> None:
    """Record a failed attempt; retry with exponential back-off, give up after MAX_ATTEMPTS. A wait the
    platform asked for (`retry_after`: a rate limit) is not a failure and does not count as an attempt."""
    if retry_after is None:
        message.attempts += 1
    message.last_error = error[:2000]
    if message.attempts >= MAX_ATTEMPTS:
        message.status = "dead"
    else:
        wait = retry_after if retry_after is not None else float(min(2**message.attempts, 600))
        message.next_attempt_at = now + timedelta(seconds=wait)

