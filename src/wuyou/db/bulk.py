"""Rows collected while a batch of messages is taken, and written with one multi-row statement per table at the
end, instead of one ORM object each: for rows nobody reads back in the same transaction (suggestion feedback,
message receipts), which a batch writes by the hundred. Outside `collected`, callers add ORM objects as usual."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from wuyou.db.base import Base

_KEY = "wuyou.bulk_rows"


@contextmanager
def collected(session: Session) -> Iterator[None]:
    """Collect the rows `add` is given inside the block; write them when it ends without an error."""
    rows: dict[Table, list[dict[str, Any]]] = {}
    session.info[_KEY] = rows
    try:
        yield
        for table, items in rows.items():
            session.execute(insert(table), items)
    finally:
        session.info.pop(_KEY, None)


def add(session: Session, model: type[Base], rows: Sequence[dict[str, Any]]) -> bool:
    """Collect the rows for the block under way (True), or say there is none (False: add ORM objects)."""
    collecting: dict[Table, list[dict[str, Any]]] | None = session.info.get(_KEY)
    if collecting is None:
        return False
    table = model.__table__
    assert isinstance(table, Table)
    collecting.setdefault(table, []).extend(rows)
    return True
