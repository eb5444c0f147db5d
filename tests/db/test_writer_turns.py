"""SQLite writers take turns: one transaction at a time across threads and processes, handed over the moment the
last one ends (SQLite's own busy wait slept up to 100 ms between tries), a reading transaction takes no turn, and
a process killed while holding the turn does not hold up the others."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from sqlalchemy import Engine, text

from wuyou.db import make_engine, make_session_factory, reading

HOLDER = """
import sys, time
from sqlalchemy import text
from wuyou.db import make_engine
engine = make_engine(sys.argv[1])
with engine.begin() as conn:
    conn.execute(text("INSERT INTO log (who) VALUES ('holder')"))
    print("holding", flush=True)
    time.sleep(60)
"""


def _database(tmp_path: Path) -> tuple[str, Engine]:
    url = f"sqlite:///{tmp_path / 'turns.db'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE log (id INTEGER PRIMARY KEY, who TEXT)"))
    return url, engine


def test_a_writer_waits_for_the_turn_and_gets_it_as_soon_as_it_is_given(tmp_path: Path) -> None:
    _, engine = _database(tmp_path)
    order: list[str] = []
    holding, release = threading.Event(), threading.Event()

    def first() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO log (who) VALUES ('first')"))
            holding.set()
            release.wait(10)
            order.append("first commits")

    def second() -> None:
        with engine.begin() as conn:
            order.append("second begins")
            conn.execute(text("INSERT INTO log (who) VALUES ('second')"))

    a = threading.Thread(target=first)
    a.start()
    assert holding.wait(10)
    b = threading.Thread(target=second)
    b.start()
    b.join(0.3)
    assert b.is_alive() and order == []  # waiting for its turn
    release.set()
    a.join(10)
    b.join(10)
    assert order == ["first commits", "second begins"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT who FROM log ORDER BY id")).scalars().all() == ["first", "second"]


def test_a_reading_transaction_takes_no_turn(tmp_path: Path) -> None:
    _, engine = _database(tmp_path)
    sessions = make_session_factory(engine)
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO log (who) VALUES ('writer')"))
            holding.set()
            release.wait(10)

    w = threading.Thread(target=writer)
    w.start()
    assert holding.wait(10)
    seen: list[int] = []

    def read() -> None:
        with sessions() as session:
            reading(session)
            seen.append(session.execute(text("SELECT count(*) FROM log")).scalar_one())
            session.commit()

    r = threading.Thread(target=read)
    r.start()
    r.join(10)
    finished = not r.is_alive()
    release.set()
    w.join(10)
    assert finished, "a reading transaction waited for the writer's turn"
    assert seen == [0]  # its snapshot: the writer had not committed


def test_a_process_killed_holding_the_turn_does_not_hold_up_the_others(tmp_path: Path) -> None:
    url, engine = _database(tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, url], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        done = threading.Event()

        def write() -> None:
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO log (who) VALUES ('after')"))
            done.set()

        t = threading.Thread(target=write, daemon=True)
        t.start()
        assert not done.wait(0.3)  # the other process holds the turn
        holder.kill()
        holder.wait(10)
        assert done.wait(20), "the turn of a killed process was never given back"
    finally:
        if holder.poll() is None:
            holder.kill()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT who FROM log")).scalars().all() == ["after"]  # the holder's rolled back
