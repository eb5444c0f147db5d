"""Conversation state and message receipts, in the database: what makes a message's effects, the dialogue's next
step and the answer a redelivery gets one atomic change (a crash between them, or a Redis restart, loses none)."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from wuyou.db import bulk
from wuyou.desk.models import Conversation, Receipt

RECEIPT_DAYS = 7  # platforms redeliver within minutes (WeChat), hours (Telegram); clients retry within a day


def receipt_key(*parts: str) -> str:
    """A fixed-size key for a delivery id made of the platform, account, sender and the platform's message id."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def take(*, session: Session, person_id: str, now: datetime) -> Conversation:
    """The person's conversation row, created if new and locked for this transaction (`FOR UPDATE` on PostgreSQL;
    SQLite's write transaction already excludes every other writer): one person's messages take turns."""
    return take_many(session=session, person_ids=[person_id], now=now)[person_id]


def take_many(*, session: Session, person_ids: Collection[str], now: datetime) -> dict[str, Conversation]:
    """`take` for several people in two statements, locked in the order of their ids (two transactions locking
    overlapping sets wait for each other instead of deadlocking)."""
    wanted = _created(session, person_ids, now)
    if not wanted:
        return {}
    stmt = select(Conversation).where(Conversation.person_id.in_(wanted)).order_by(Conversation.person_id)
    rows = session.scalars(stmt.with_for_update().execution_options(populate_existing=True))
    return {row.person_id: row for row in rows}


_TABLE = Conversation.__table__
assert isinstance(_TABLE, Table)
# (built once: a storm's every batch runs them)
_HOLD = (select(_TABLE.c.person_id, _TABLE.c.state, _TABLE.c.updated_at)
         .where(_TABLE.c.person_id.in_(bindparam("ids", expanding=True))).order_by(_TABLE.c.person_id)
         .with_for_update())
_PUT_BACK = (update(_TABLE).where(_TABLE.c.person_id == bindparam("who"))
             .values(state=bindparam("state"), updated_at=bindparam("at")))


@dataclass
class Held:
    """A conversation row a batch took without the ORM: changed in place, written back by `put_back`."""

    person_id: str
    state: dict[str, Any]
    updated_at: datetime
    read: tuple[dict[str, Any], datetime] = field(repr=False)  # as it was read


def hold_many(*, session: Session, person_ids: Collection[str], now: datetime) -> dict[str, Held]:
    """`take_many`, the rows read as plain values (a batch of a storm's first reports: the ORM's bookkeeping per
    row cost more than the statements); `put_back` writes the changed ones in one statement."""
    wanted = _created(session, person_ids, now)
    if not wanted:
        return {}
    rows = session.execute(_HOLD, {"ids": wanted})
    return {person_id: Held(person_id, state, at, (copy.deepcopy(state), at)) for person_id, state, at in rows}


def put_back(*, session: Session, rows: Iterable[Held]) -> None:
    """Write the rows `hold_many` gave that were changed, in one statement."""
    changed = [{"who": r.person_id, "state": r.state, "at": r.updated_at} for r in rows
               if (r.state, r.updated_at) != r.read]
    if changed:
        session.execute(_PUT_BACK, changed)


def _created(session: Session, person_ids: Collection[str], now: datetime) -> list[str]:
    """The people's ids, sorted, each with a conversation row (made empty where there was none)."""
    wanted = sorted(set(person_ids))
    if wanted:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        session.execute(insert(Conversation).on_conflict_do_nothing(index_elements=["person_id"]),
                        [{"person_id": p, "state": {}, "updated_at": now} for p in wanted])
    return wanted


_RECEIPTS = select(Receipt).where(Receipt.key.in_(bindparam("keys", expanding=True))) \
    .execution_options(populate_existing=True)


def receipt(*, session: Session, key: str) -> Receipt | None:
    """The receipt of a message already acted on (call after `take`, so that a concurrent first delivery of
    the same message has committed or rolled back by now)."""
    return session.get(Receipt, key, populate_existing=True)


def receipts(*, session: Session, keys: Collection[str]) -> dict[str, Receipt]:
    """`receipt` for several messages in one statement."""
    if not keys:
        return {}
    found = session.scalars(_RECEIPTS, {"keys": list(set(keys))})
    return {row.key: row for row in found}


def record(*, session: Session, key: str, replies: list[dict[str, Any]], now: datetime,
           answered: bool = False) -> None:
    """Note the message as acted on, with its answer (`answered`: already on its way through the outbox); the
    caller's commit makes it durable with the effects (a batch's, at the end of the batch)."""
    row = {"key": key, "replies": replies, "created_at": now, "answered": answered}
    if not bulk.add(session, Receipt, [row]):
        session.add(Receipt(**row))


def claim_answer(*, session: Session, key: str) -> bool:
    """Take the duty of delivering a receipt's answer; True for exactly one caller (the caller commits)."""
    done = session.execute(update(Receipt).where(Receipt.key == key, Receipt.answered.is_(False))
                           .values(answered=True).execution_options(synchronize_session=False))
    return bool(getattr(done, "rowcount", 0) == 1)


def purge(*, session: Session, now: datetime) -> int:
    """Forget receipts older than RECEIPT_DAYS; how many went."""
    done = session.execute(delete(Receipt).where(Receipt.created_at < now - timedelta(days=RECEIPT_DAYS))
                           .execution_options(synchronize_session=False))
    return int(getattr(done, "rowcount", 0) or 0)
