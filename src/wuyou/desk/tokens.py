"""Personal API tokens: `wy_` + 32 random bytes, stored only as a SHA-256, shown once when created."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from wuyou.desk.errors import Forbidden, NotFound, Refusal
from wuyou.desk.models import ApiToken, Person

PREFIX = "wy_"
TOUCH_EVERY = timedelta(minutes=5)  # last_used_at is refreshed at most this often (no write per request)
SESSION_NAME = "console-session"  # the tokens behind console sign-ins: they expire, personal tokens don't
SESSION_TTL = timedelta(hours=12)
MAX_PERSONAL = 20  # active personal tokens one person may hold


class TokenError(Refusal):
    """A personal token that cannot be made: no name, a name in use, too many."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(*, session: Session, person_id: str, name: str, now: datetime) -> str:
    """A new token for the person; the returned string is the only time it is seen."""
    return _new(session, person_id, name, now)[1]


def _new(session: Session, person_id: str, name: str, now: datetime) -> tuple[ApiToken, str]:
    if session.get(Person, person_id) is None:
        raise NotFound(f"person {person_id}")
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(person_id=person_id, name=name[:100], token_hash=_hash(token), created_at=now)
    session.add(row)
    session.flush()
    return row, token


def person_for(*, session: Session, token: str, now: datetime) -> Person | None:
    """The active person a token belongs to, or None (unknown, revoked, or the person is inactive)."""
    if not token.startswith(PREFIX):
        return None
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == _hash(token))).first()
    if row is None or row.revoked_at is not None:
        return None
    if row.name == SESSION_NAME and now - row.created_at > SESSION_TTL:
        return None
    person = session.get(Person, row.person_id)
    if person is None or not person.active:
        return None
    if row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY:
        row.last_used_at = now
    return person


def revoke(*, session: Session, person_id: str, name: str, now: datetime) -> int:
    """Revoke the person's tokens of that name; returns how many."""
    rows = session.scalars(select(ApiToken).where(ApiToken.person_id == person_id, ApiToken.name == name,
                                                  ApiToken.revoked_at.is_(None))).all()
    for row in rows:
        row.revoked_at = now
    return len(rows)


def revoke_all(*, session: Session, person_ids: Collection[str], now: datetime) -> int:
    """Revoke every token (personal and console sign-ins) of these people, retired from the desk: were they
    brought back, their old tokens would work again. How many."""
    if not person_ids:
        return 0
    done = session.execute(update(ApiToken).where(ApiToken.person_id.in_(list(person_ids)),
                                                  ApiToken.revoked_at.is_(None))
                           .values(revoked_at=now).execution_options(synchronize_session=False))
    return int(getattr(done, "rowcount", 0) or 0)


def revoke_token(*, session: Session, token: str, now: datetime) -> bool:
    """Revoke one token by its value (signing out of the console); False if it was not active."""
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == _hash(token))).first()
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = now
    return True


def personal(*, session: Session, person_id: str) -> list[ApiToken]:
    """The person's active personal tokens (not their console sign-ins), newest first."""
    return list(session.scalars(select(ApiToken).where(ApiToken.person_id == person_id, ApiToken.name != SESSION_NAME,
                                                       ApiToken.revoked_at.is_(None))
                                .order_by(ApiToken.id.desc())))


def create_personal(*, session: Session, person: Person, name: str, now: datetime) -> tuple[ApiToken, str]:
    """A staff member's own token for a script or an integration, named for what uses it; the string is shown
    once. Reporters have none (the API gives them nothing a chat does not)."""
    if person.role == "reporter":
        raise Forbidden("API tokens are for staff")
    name = " ".join(name.split())
    if not name or name == SESSION_NAME:
        raise TokenError("a token needs a name saying what uses it (e.g. 监控告警, 报表脚本)", "token_name_needed")
    held = personal(session=session, person_id=person.id)
    if any(row.name == name for row in held):
        raise TokenError(f"you already have a token named {name!r}: revoke it first, or choose another name",
                         "token_name_taken", name=name)
    if len(held) >= MAX_PERSONAL:
        raise TokenError(f"at most {MAX_PERSONAL} tokens at a time: revoke one you no longer use", "token_too_many",
                         most=MAX_PERSONAL)
    return _new(session, person.id, name, now)


def revoke_personal(*, session: Session, person_id: str, token_id: int, now: datetime) -> bool:
    """Revoke one of the person's own personal tokens; False if they hold no such active token."""
    row = session.get(ApiToken, token_id)
    if row is None or row.person_id != person_id or row.name == SESSION_NAME or row.revoked_at is not None:
        return False
    row.revoked_at = now
    return True
