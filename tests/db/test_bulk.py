"""Rows a batch writes outside the ORM's unit of work (`db.bulk`): with one statement, the objects left out of the
session (on SQLite numbered first, on PostgreSQL numbered by the database and returned in order); one row, or rows
given their keys on PostgreSQL, added and flushed as usual."""

from __future__ import annotations

import pytest
import yaml
from sqlalchemy import event, select

from tests.conftest import shared
from wuyou.adapters.bootstrap import Desk
from wuyou.db import bulk, utcnow
from wuyou.desk.models import SuggestionSession
from wuyou.desk.org import import_org


def offer(query: str, **given: object) -> SuggestionSession:
    values: dict[str, object] = {"person_id": "zhang.san", "branch_code": "JN-001", "channel": "http", "query": query,
                                 "offered": ["kb-1"], "started_at": utcnow(), "outcome": "open"}
    return SuggestionSession(**{**values, **given})


@pytest.fixture
def people(desk: Desk) -> Desk:
    with desk.sessions() as session:
        import_org(session=session, doc=yaml.safe_load(shared("org-sample.yaml").read_text(encoding="utf-8")))
        session.commit()
    return desk


def test_many_rows_are_written_at_once_and_read_back_as_given(people: Desk) -> None:
    statements: list[str] = []
    engine = people.db
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with people.sessions() as session:
        rows = [offer(f"打印机卡纸 {i}") for i in range(5)]
        session.add(rows[0])  # one already added: written with the others, once
        assert bulk.inserted(session, rows) is True
        assert all(row.id is not None for row in rows) and len({row.id for row in rows}) == 5
        assert all(row not in session for row in rows)
        session.commit()
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO SUGGESTION_SESSIONS")]
    assert len(inserts) == 1
    with people.sessions() as session:
        found = session.scalars(select(SuggestionSession).order_by(SuggestionSession.id)).all()
        assert [(f.id, f.query, f.offered, f.outcome) for f in found] == \
            [(r.id, r.query, ["kb-1"], "open") for r in rows]


def test_one_row_goes_the_usual_way(people: Desk) -> None:
    with people.sessions() as session:
        row = offer("VPN连不上")
        assert bulk.inserted(session, [row]) is False and row in session and row.id is not None


def test_a_value_its_column_would_default_must_be_given(people: Desk) -> None:
    with people.sessions() as session, pytest.raises(ValueError, match="default"):
        bulk.inserted(session, [offer("a"), offer("b", outcome=None)])


def test_rows_given_their_keys_are_written_as_given(people: Desk) -> None:
    with people.sessions() as session:
        rows = [offer("打印机卡纸", id=900_001), offer("VPN连不上", id=900_002)]
        bulk.inserted(session, rows)
        session.commit()
    with people.sessions() as session:
        found = session.scalars(select(SuggestionSession).where(SuggestionSession.id >= 900_001)).all()
        assert sorted((f.id, f.query) for f in found) == [(900_001, "打印机卡纸"), (900_002, "VPN连不上")]
