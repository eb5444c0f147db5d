"""After a bulk import the planner's statistics are refreshed (PostgreSQL): a storm may begin right after it."""

from __future__ import annotations

import pytest
import yaml
from sqlalchemy import text

from tests.conftest import shared
from wuyou.adapters.bootstrap import Desk
from wuyou.db import refresh_statistics
from wuyou.desk.org import TABLES, import_org


def _analyzed(desk: Desk, table: str) -> int:
    with desk.db.connect() as conn:
        conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        return int(conn.execute(text("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = :t"),
                                {"t": table}).scalar_one())


def test_an_org_import_is_followed_by_fresh_planner_statistics(desk: Desk) -> None:
    if desk.db.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's ANALYZE: SQLite plans these look-ups without statistics")
    before = {table: _analyzed(desk, table) for table in ("people", "identities")}
    with desk.sessions() as session:
        import_org(session=session, doc=yaml.safe_load(shared("org-sample.yaml").read_text(encoding="utf-8")))
        session.commit()
        refresh_statistics(session, TABLES)
    assert all(_analyzed(desk, table) > count for table, count in before.items())


def test_refreshing_commits_what_the_session_holds(desk: Desk) -> None:
    with desk.sessions() as session:
        import_org(session=session, doc=yaml.safe_load(shared("org-sample.yaml").read_text(encoding="utf-8")))
        refresh_statistics(session, TABLES)
    with desk.sessions() as session:
        assert session.execute(text("SELECT count(*) FROM people")).scalar_one() > 0
