"""The audit trail: who changed the desk's configuration or access — org directory, catalog, routing rules,
SLA policies, business hours, outgoing webhooks, API tokens, passwords — and every sign-in attempt, when,
from where and with what outcome. Entries hold names and statuses, never a request body or a secret."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from wuyou.desk.models import AuditEvent


def record(*, session: Session, at: datetime, actor_id: str | None, action: str, target: str | None = None,
           status: int = 0, request_id: str | None = None, client: str | None = None) -> AuditEvent:
    """Add one entry (the caller commits)."""
    event = AuditEvent(at=at, actor_id=None if actor_id is None else actor_id[:100], action=action[:200],
                       target=None if target is None else target[:300], status=status, request_id=request_id,
                       client=None if client is None else client[:100])
    session.add(event)
    return event


def recent(*, session: Session, limit: int, before_id: int | None = None,
           actor_id: str | None = None) -> list[AuditEvent]:
    """The newest entries first; `before_id` pages back."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    if actor_id is not None:
        query = query.where(AuditEvent.actor_id == actor_id)
    return list(session.scalars(query))
