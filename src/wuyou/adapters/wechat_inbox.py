"""WeChat messages answered `success` before they were taken: kept in the database first, so that a process that
dies before taking one (a `kill -9`, a lost machine, a database outage outlasting its in-process retries) loses
nothing — any process's worker takes it from here. WeChat will not deliver such a message again."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Integer, String, Text, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from wuyou.db import Base, UTCDateTime

# The process that answered `success` normally takes its message within moments; a worker takes it after this
# (should that process still be at it, the message's receipt makes the second taking a duplicate). Short enough
# that the sender, who saw no answer, has rarely written again yet: their messages are taken in their order.
TAKE_AFTER = timedelta(seconds=8)


class InboxMessage(Base):
    """One WeChat delivery (its decrypted XML) answered `success` before the engine had taken it."""

    __tablename__ = "wechat_inbox"
    __table_args__ = (UniqueConstraint("account", "delivery"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(64))
    delivery: Mapped[str] = mapped_column(String(200))  # the message's dedup key (MsgId, or the event's)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


def keep(*, session: Session, account: str, delivery: str, body: str, now: datetime) -> None:
    """Keep a delivery (once per account and delivery id); the caller commits before answering `success`."""
    found = session.scalar(select(InboxMessage.id).where(InboxMessage.account == account,
                                                         InboxMessage.delivery == delivery))
    if found is None:
        session.add(InboxMessage(account=account, delivery=delivery, body=body, created_at=now))


def claim(*, session: Session, now: datetime, limit: int = 50) -> list[InboxMessage]:
    """Kept deliveries old enough that their own process should have taken them, leased to the caller for
    another TAKE_AFTER (`SKIP LOCKED`: two workers never claim the same one; a worker that dies leaves its lease
    to run out). The caller commits the lease, then takes each and `forget`s it."""
    stmt = (select(InboxMessage).where(InboxMessage.created_at <= now - TAKE_AFTER).order_by(InboxMessage.id)
            .limit(limit).with_for_update(skip_locked=True))
    rows = list(session.scalars(stmt))
    for row in rows:
        row.created_at, row.attempts = now, row.attempts + 1
    return rows


def forget(*, session: Session, account: str, delivery: str) -> None:
    """The delivery was taken: it needs keeping no longer."""
    session.execute(delete(InboxMessage).where(InboxMessage.account == account, InboxMessage.delivery == delivery)
                    .execution_options(synchronize_session=False))
