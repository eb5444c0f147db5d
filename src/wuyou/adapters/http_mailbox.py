"""The HTTP channel's mailbox: notifications waiting to be read with GET /channels/http/messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from wuyou.db import Base, UTCDateTime


class MailboxMessage(Base):
    __tablename__ = "http_mailbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    user: Mapped[str] = mapped_column(String(200), index=True)
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


def put(
    *, session: Session, user: str, text: str, buttons: list[dict[str, str]], key: str, at: datetime
) -> None:
    """Store one pushed message, once per idempotency key."""
    if session.scalar(select(MailboxMessage.id).where(MailboxMessage.idempotency_key == key)) is None:
        session.add(MailboxMessage(user=user, text=text, buttons=buttons, idempotency_key=key, at=at))


def read(*, session: Session, user: str, after: int, limit: int = 100) -> list[MailboxMessage]:
    """Messages for `user` newer than the cursor `after`."""
    stmt = (
        select(MailboxMessage)
        .where(MailboxMessage.user == user, MailboxMessage.id > after)
        .order_by(MailboxMessage.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def as_json(message: MailboxMessage) -> dict[str, Any]:
    return {"text": message.text, "buttons": message.buttons, "at": message.at.isoformat()}
