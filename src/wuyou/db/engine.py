"""Engines and sessions: one place that knows SQLite needs help to behave under concurrency."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

WRITER_WAIT_SECONDS = 30.0  # as SQLite's busy timeout: then "database is locked", retried by the caller
READING = "wuyou_reading"  # execution option: a transaction that only reads


def reading(session: Session) -> None:
    """Make the session's next transaction one that only reads: on SQLite it then takes no writer's turn (a
    snapshot, concurrent with the writer), so that a batch's slow reading and thinking (who the senders are,
    what the knowledge base offers) does not hold every other process's writes up. Call it before the
    transaction's first statement; the caller commits it before writing. Elsewhere it changes nothing."""
    if not session.in_transaction():
        session.connection(execution_options={READING: True})


def refresh_statistics(session: Session, tables: Sequence[str]) -> None:
    """After a bulk import, the query planner's statistics of these tables brought up to date (PostgreSQL's
    `ANALYZE`; SQLite plans well enough without). Autovacuum would get to it within minutes, but a storm can begin
    sooner: 40,000 people just imported and estimated at 38 had the look-up of a batch's 32 senders read every
    identity of their platform, 7 ms instead of 0.5. Commits."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE " + ", ".join(tables)))
    session.commit()


class WriterTurns:
    """One SQLite transaction at a time across the threads and processes using one database file, each
    handed the turn the moment the last one ends. SQLite's own busy wait (which still guards correctness)
    polls with sleeps that grow to 100 ms: under a storm, a waiting writer slept long after the lock was
    free. Within a process a lock with a timeout; between processes an `flock` on `<database>-writer`,
    which the kernel releases if its holder dies (a process that hangs inside a transaction holds the others
    up, as a held row lock does on PostgreSQL)."""

    def __init__(self, database: str) -> None:
        self._threads = threading.Lock()
        self._fd = os.open(f"{database}-writer", os.O_RDWR | os.O_CREAT, 0o600)

    def take(self) -> None:
        if not self._threads.acquire(timeout=WRITER_WAIT_SECONDS):
            raise sqlite3.OperationalError("database is locked (waited for another writer's turn)")
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise

    def give(self) -> None:
        try:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()


class _TurnTakingConnection(sqlite3.Connection):
    """A connection that holds a writer's turn from `BEGIN` until its commit or rollback has finished."""

    turns: WriterTurns | None = None
    holding = False

    def take_turn(self) -> None:
        if self.turns is not None and not self.holding:
            self.turns.take()
            self.holding = True

    def give_turn(self) -> None:
        if self.holding:
            self.holding = False
            assert self.turns is not None
            self.turns.give()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            if not self.in_transaction:
                self.give_turn()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.give_turn()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.give_turn()


def _turn_taking(database: str | None) -> type[sqlite3.Connection]:
    if not database or database == ":memory:" or database.startswith("file:"):
        return _TurnTakingConnection
    return type("TurnTakingConnection", (_TurnTakingConnection,), {"turns": WriterTurns(os.path.abspath(database))})


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Build an engine; on SQLite, WAL mode and `BEGIN IMMEDIATE` so writers queue, not fail."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, **kwargs)
    # A deferred SQLite transaction that reads and then writes fails at once with "database is
    # locked" when another writer committed in between; taking the write lock at BEGIN makes
    # concurrent requests wait their turn instead.
    engine = create_engine(
        url, connect_args={"timeout": WRITER_WAIT_SECONDS, "check_same_thread": False,
                           "factory": _turn_taking(make_url(url).database)}, **kwargs
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let SQLAlchemy's BEGIN below take over
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(READING):
            conn.exec_driver_sql("BEGIN")  # deferred: a read snapshot (WAL), no lock
            return
        dbapi_conn = conn.connection.dbapi_connection
        dbapi_conn.take_turn()
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            dbapi_conn.give_turn()
            raise

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (replies are rendered after it)."""
    return sessionmaker(bind=engine, expire_on_commit=False)
