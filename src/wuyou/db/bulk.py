"""Rows collected while a batch of messages is taken, and written with one multi-row statement per table at the
end, instead of one ORM object each: for rows nobody reads back in the same transaction (suggestion feedback,
message receipts), which a batch writes by the hundred. Outside `collected`, callers add ORM objects as usual."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table, func, insert, inspect, select
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


def numbered(session: Session, rows: Sequence[Base]) -> bool:
    """On SQLite, give new rows of one table their primary keys before they are flushed, so that the ORM writes
    them with one `executemany` instead of one `INSERT … RETURNING` each (SQLite cannot tie RETURNING rows to
    their parameter sets, so SQLAlchemy inserts row by row when it needs the keys back). The numbers are the ones
    SQLite would give (the next after the largest), taken inside the writing transaction, which holds SQLite's
    write lock: nobody else can take them. Not for a table that never reuses numbers (AUTOINCREMENT), nor on
    PostgreSQL, which returns many rows' keys in one statement."""
    if len(rows) < 2 or session.get_bind().dialect.name != "sqlite":
        return False
    model = type(rows[0])
    table = model.__table__
    assert isinstance(table, Table)
    mapper = inspect(model)
    if table.kwargs.get("sqlite_autoincrement") or len(mapper.primary_key) != 1:
        return False
    key = mapper.get_property_by_column(mapper.primary_key[0]).key
    # Every new row of the table in this flush gets a number, the given ones first (in their order): a row left
    # to SQLite could otherwise be given one of these.
    waiting = [o for o in dict.fromkeys([*rows, *(o for o in session.new if type(o) is model)])
               if getattr(o, key) is None]
    with session.no_autoflush:
        top = session.scalar(select(func.max(mapper.primary_key[0]))) or 0
    for number, row in enumerate(waiting, top + 1):
        setattr(row, key, number)
    return True


def inserted(session: Session, rows: Sequence[Base]) -> bool:
    """Write new rows of one table now, outside the ORM's unit of work where it can, without its bookkeeping per
    object (a storm's batches: −6 % instructions per report): on SQLite, rows `numbered` gave their keys, with one
    Core `executemany`; on PostgreSQL, with one multi-row `INSERT … RETURNING` whose keys come back in the rows'
    order. The objects stay out of the session (they are what was written, for reading; a change to one is not
    saved: `session.get` the row for that). Otherwise (one row, a key of several columns) the rows are added and
    flushed as usual; True when they were written the first way."""
    model = type(rows[0]) if rows else None
    table = getattr(model, "__table__", None)
    returning = len(rows) >= 2 and session.get_bind().dialect.name == "postgresql" and _keyed_by_database(rows)
    if model is None or not isinstance(table, Table) or not (returning or numbered(session, rows)):
        session.add_all(rows)
        session.flush()
        return False
    mapper = inspect(model)
    key_column = mapper.primary_key[0]
    key = mapper.get_property_by_column(key_column).key
    columns = [(prop.key, prop.columns[0]) for prop in mapper.column_attrs
               if not (returning and prop.columns[0] is key_column)]
    values = []
    for row in rows:
        state = row.__dict__
        if any(state.get(name) is None and column.default is not None for name, column in columns):
            raise ValueError(f"{model.__name__}: give every value with a default (Core does not fill in the ORM's)")
        values.append({column.key: state.get(name) for name, column in columns})
    for row in rows:
        if row in session:
            session.expunge(row)
    with session.no_autoflush:
        if not returning:
            session.execute(insert(table), values)
            return True
        keys = session.execute(insert(table).returning(key_column, sort_by_parameter_order=True), values).scalars()
        for row, number in zip(rows, keys, strict=True):
            setattr(row, key, number)
    return True


def _keyed_by_database(rows: Sequence[Base]) -> bool:
    """A key of one column that none of the rows was given: the database numbers them."""
    mapper = inspect(type(rows[0]))
    if len(mapper.primary_key) != 1:
        return False
    key = mapper.get_property_by_column(mapper.primary_key[0]).key
    return all(getattr(row, key) is None for row in rows)
