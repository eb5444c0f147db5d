"""The migrations describe exactly the models, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from wuyou.adapters.migrate import alembic_config, is_current, upgrade


def test_models_and_migrations_agree(sqlite_template: Path) -> None:
    command.check(alembic_config(f"sqlite:///{sqlite_template}"))


def test_ticket_numbers_start_at_1001(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'n.db'}"
    upgrade(url)
    engine = create_engine(url)
    assert is_current(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO regions (code, name, position) VALUES ('HQ', 'hq', 0)"))
        conn.execute(text(
            "INSERT INTO people (id, name, role, locale, active) VALUES ('p', 'P', 'reporter', 'zh-CN', 1)"
        ))
        conn.execute(text(
            "INSERT INTO tickets (reporter_id, priority, urgency, status, title, description, channel, kb_offered,"
            " created_at, reopen_count) VALUES ('p', 'P3', 1, 'new', 't', 'd', 'http', '[]', '2026-01-01', 0)"
        ))
        assert conn.execute(text("SELECT id FROM tickets")).scalar() == 1001
    engine.dispose()


def test_postgresql_upgrade_and_check(pg_url: str) -> None:
    engine = create_engine(pg_url)
    assert is_current(engine)
    engine.dispose()
    command.check(alembic_config(pg_url))


@pytest.mark.parametrize("revision", ["base"])
def test_downgrade_then_upgrade_on_sqlite(tmp_path: Path, revision: str) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    upgrade(url)
    command.downgrade(alembic_config(url), revision)
    upgrade(url)
    assert is_current(create_engine(url))


def test_0008_copies_each_tickets_last_sla_verdict(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'v.db'}"
    upgrade(url, "0007")
    engine = create_engine(url)
    clock = ("INSERT INTO sla_clocks (ticket_id, kind, policy, hours, timezone, target_seconds, warn_percent,"
             " started_at, consumed_seconds, state, escalation_level, stopped_at, met) VALUES"
             " (:t, :k, 'p', '7x24', 'Asia/Shanghai', 3600, 80, '2026-01-01', 0, 'stopped', 0, :at, :met)")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO people (id, name, role, locale, active) VALUES ('p', 'P', 'reporter', 'zh-CN', 1)"))
        for number in (1001, 1002):
            conn.execute(text(
                "INSERT INTO tickets (id, reporter_id, priority, urgency, status, title, description, channel,"
                " kb_offered, created_at, reopen_count) VALUES (:n, 'p', 'P3', 1, 'closed', 't', 'd', 'http', '[]',"
                " '2026-01-01', 0)"), {"n": number})
        # 1001: met, then reopened (a clock without a verdict), then missed; 1002: nothing judged yet
        conn.execute(text(clock), {"t": 1001, "k": "resolution", "at": "2026-01-01 02:00:00", "met": True})
        conn.execute(text(clock), {"t": 1001, "k": "resolution", "at": "2026-01-01 03:00:00", "met": None})
        conn.execute(text(clock), {"t": 1001, "k": "resolution", "at": "2026-01-03 03:00:00", "met": False})
        conn.execute(text(clock), {"t": 1001, "k": "response", "at": "2026-01-01 00:10:00", "met": True})
    engine.dispose()
    upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, response_met, resolution_met FROM tickets ORDER BY id")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [(1001, True, False), (1002, None, None)]


def test_0018_judges_each_resolved_ticket_from_its_timeline(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'f.db'}"
    upgrade(url, "0017")
    engine = create_engine(url)
    event = ("INSERT INTO ticket_events (ticket_id, at, actor_id, kind, data, public) VALUES"
             " (:t, '2026-01-01', :a, :k, :data, 1)")
    with engine.begin() as conn:
        for person, role in (("p", "reporter"), ("e1", "engineer"), ("e2", "engineer")):
            conn.execute(text("INSERT INTO people (id, name, role, locale, active) VALUES (:p, :p, :r, 'zh-CN', 1)"),
                         {"p": person, "r": role})
        for number, resolved, assignee, reopened in ((1001, True, "e1", 0), (1002, True, "e1", 0),
                                                    (1003, True, "e1", 0), (1004, False, "e1", 0),
                                                    (1005, True, "e2", 0), (1006, True, "e1", 1)):
            conn.execute(text(
                "INSERT INTO tickets (id, reporter_id, assignee_id, priority, urgency, status, title, description,"
                " channel, kb_offered, created_at, resolved_at, reopen_count) VALUES (:n, 'p', :a, 'P3', 1, :s, 't',"
                " 'd', 'http', '[]', '2026-01-01', :r, :o)"),
                {"n": number, "a": assignee, "s": "resolved" if resolved else "claimed",
                 "r": "2026-01-01 01:00:00" if resolved else None, "o": reopened})
        timeline = {1001: [("e1", "claimed", "{}"), ("e1", "resolved", "{}")],  # at first contact
                    1002: [("e1", "claimed", "{}"), ("e1", "asked", "{}"), ("e1", "resolved", "{}")],
                    1003: [("e1", "claimed", "{}"), ("e1", "resolved", '{"incident": 1}')],  # the incident's
                    1004: [("e1", "claimed", "{}")],  # not resolved
                    1005: [("e1", "claimed", "{}"), ("e1", "transferred", "{}"), ("e2", "resolved", "{}")],
                    1006: [("e1", "claimed", "{}"), ("e1", "resolved", "{}")]}  # reopened since
        for number, entries in timeline.items():
            for actor, kind, data in entries:
                conn.execute(text(event), {"t": number, "a": actor, "k": kind, "data": data})
    engine.dispose()
    upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT id, first_contact FROM tickets ORDER BY id")).all())
    engine.dispose()
    assert rows == {1001: True, 1002: False, 1003: None, 1004: None, 1005: False, 1006: False}


def test_0026_takes_each_tickets_first_claim(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    upgrade(url, "0025")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO people (id, name, role, locale, active) VALUES ('p', 'P', 'reporter', 'zh-CN', 1)"))
        for number, claimed in ((1001, "2026-01-02 09:00:00"), (1002, "2026-01-01 08:00:00"), (1003, None)):
            conn.execute(text(
                "INSERT INTO tickets (id, reporter_id, priority, urgency, status, title, description, channel,"
                " kb_offered, created_at, claimed_at, reopen_count) VALUES (:n, 'p', 'P3', 1, 'claimed', 't', 'd',"
                " 'http', '[]', '2026-01-01', :c, 0)"), {"n": number, "c": claimed})
        # 1001 was claimed twice (a reopen between): the first claim counts; 1002 has no event, its claim does
        for at in ("2026-01-01 00:10:00", "2026-01-02 09:00:00"):
            conn.execute(text("INSERT INTO ticket_events (ticket_id, at, kind, data, public) VALUES"
                              " (1001, :at, 'claimed', '{}', 1)"), {"at": at})
    engine.dispose()
    upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, first_claimed_at FROM tickets ORDER BY id")).all()
    engine.dispose()
    assert [(n, str(at)[:16] if at else None) for n, at in rows] == [
        (1001, "2026-01-01 00:10"), (1002, "2026-01-01 08:00"), (1003, None)]


def test_0029_moves_each_persons_absence_into_absences(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    upgrade(url, "0028")
    engine = create_engine(url)
    person = ("INSERT INTO people (id, name, role, locale, active, away_from, away_until, away_note)"
              " VALUES (:p, :p, 'engineer', 'zh-CN', 1, :f, :u, :n)")
    with engine.begin() as conn:
        conn.execute(text(person), {"p": "planned", "f": "2030-03-12 00:00:00", "u": "2030-03-14 00:00:00",
                                    "n": "年假"})
        conn.execute(text(person), {"p": "now", "f": None, "u": "2030-03-11 10:00:00", "n": None})  # from when said
        conn.execute(text(person), {"p": "here", "f": None, "u": None, "n": None})
        conn.execute(text("INSERT INTO audit_events (at, actor_id, action, target, status) VALUES"
                          " ('2024-03-10 02:00:00', 'lead', 'person.away until 2030-03-11T10:00:00+00:00',"
                          " 'person:now', 0)"))
    engine.dispose()
    upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT person_id, starts_at, ends_at, note, created_by FROM absences"
                                 " ORDER BY person_id")).all()
        columns = [c[1] for c in conn.execute(text("PRAGMA table_info(people)"))]
    engine.dispose()
    assert [(p, str(s)[:16], str(e)[:16], n, by) for p, s, e, n, by in rows] == [
        ("now", "2024-03-10 02:00", "2030-03-11 10:00", None, "lead"),
        ("planned", "2030-03-12 00:00", "2030-03-14 00:00", "年假", None)]
    assert "away_until" not in columns  # (one place for absences: nothing left to read the old way)
    command.downgrade(alembic_config(url), "0028")  # back: the one in force, else the next
    engine = create_engine(url)
    with engine.connect() as conn:
        back = conn.execute(text("SELECT id, away_from, away_until, away_note FROM people ORDER BY id")).all()
    engine.dispose()
    assert [(p, f and str(f)[:16], u and str(u)[:16], n) for p, f, u, n in back] == [
        ("here", None, None, None), ("now", None, "2030-03-11 10:00", None),
        ("planned", "2030-03-12 00:00", "2030-03-14 00:00", "年假")]
