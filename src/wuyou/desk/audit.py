"""The audit trail: who changed the desk's configuration or access — org directory, catalog, routing rules,
SLA policies, business hours, outgoing webhooks, API tokens, passwords — and every sign-in attempt, when,
from where and with what outcome. Entries hold names and statuses, never a request body or a secret."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from wuyou.desk.models import AuditEvent, Person


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
    """The newest entries first; `before_id` pages back; `actor_id` is a login id or a person's name (王芳)."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    if actor_id is not None:
        query = query.where(or_(AuditEvent.actor_id == actor_id,
                                AuditEvent.actor_id.in_(select(Person.id).where(Person.name == actor_id))))
    return list(session.scalars(query))


def names(*, session: Session, events: list[AuditEvent]) -> dict[str, str]:
    """The names of the people the entries name as actors, by id."""
    ids = {e.actor_id for e in events if e.actor_id}
    if not ids:
        return {}
    return {pid: name for pid, name in session.execute(select(Person.id, Person.name).where(Person.id.in_(ids)))}
