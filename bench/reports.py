"""Do the dashboard's queries stay under a second over 1,000,000 tickets on PostgreSQL? Compared, in the same
run, with the same queries without the report indexes (migrations 0007 and 0008).

    .venv/bin/python bench/reports.py [--tickets 1000000] [--server postgresql+psycopg://postgres@127.0.0.1:5432]

A database `wuyou_bench_reports` is created afresh and migrated, then filled by INSERT … SELECT over
generate_series: 10 regions, 2,000 branches (one reporter each), 20 teams of 5 engineers, 8 categories;
tickets spread over 180 days (90 % resolved, a tenth of those reopened, half rated), two SLA clocks each,
and one suggestion session per three tickets. Every dashboard query is the desk's own (desk/reports.py, as
the API runs it): the summary, the breakdowns by team, engineer, region and category, and the trend, for
the last 30 and 180 days, for the whole desk and for one region's lead. Each is run 5 times; the median is
printed, with the index-less baseline and the ratio. Exit status 1 when a query takes a second or more.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, create_engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from wuyou.adapters.migrate import upgrade
from wuyou.desk import reports
from wuyou.desk.models import Branch, Ticket

DB = "wuyou_bench_reports"
TZ = ZoneInfo("Asia/Shanghai")
TARGET_SECONDS = 1.0
INDEXES = {  # migration 0007's and 0008's (and 0018's first_contact)
    "ix_tickets_closed_unresolved": "tickets (closed_at) WHERE resolved_at IS NULL",
    "ix_tickets_created_at": "tickets (created_at) INCLUDE (claimed_at, response_met, branch_code)",
    "ix_tickets_resolved_at": "tickets (resolved_at) INCLUDE (created_at, reopen_count, resolution_met, rating, "
                              "first_contact, branch_code)",
    "ix_tickets_branch_created": "tickets (branch_code, created_at) INCLUDE (claimed_at, response_met)",
    "ix_tickets_branch_resolved": "tickets (branch_code, resolved_at) INCLUDE (created_at, reopen_count, "
                                  "resolution_met, rating, first_contact)",
    "ix_tickets_status": "tickets (status)",
    "ix_sla_clocks_stopped_at": "sla_clocks (stopped_at)",
}

FILL = [
    "INSERT INTO regions (code, name, position) VALUES ('HQ', '总部', 0)",
    "INSERT INTO regions (code, name, parent_code, position) SELECT 'R' || i, '区域' || i, 'HQ', i "
    "FROM generate_series(1, 10) i",
    "INSERT INTO branches (code, name, region_code) SELECT 'B' || i, '网点' || i, 'R' || (1 + i % 10) "
    "FROM generate_series(1, 2000) i",
    "INSERT INTO people (id, name, role, branch_code, locale, active) SELECT 'rep' || i, '报修人' || i, "
    "'reporter', 'B' || i, 'zh-CN', true FROM generate_series(1, 2000) i",
    "INSERT INTO people (id, name, role, locale, active) SELECT 'eng' || i, '工程师' || i, 'engineer', 'zh-CN', true "
    "FROM generate_series(1, 100) i",
    "INSERT INTO people (id, name, role, locale, active) VALUES ('lead1', '区域组长', 'lead', 'zh-CN', true)",
    "INSERT INTO teams (code, name, region_code, speciality, lead_id) SELECT 'T' || i, '组' || i, "
    "'R' || (1 + i % 10), CASE WHEN i % 2 = 0 THEN 'terminal' ELSE 'network' END, "
    "CASE WHEN i = 1 THEN 'lead1' END FROM generate_series(1, 20) i",
    "INSERT INTO team_members (team_code, person_id, position) SELECT 'T' || (1 + (i - 1) / 5), 'eng' || i, "
    "(i - 1) % 5 FROM generate_series(1, 100) i",
    "INSERT INTO team_members (team_code, person_id, position) VALUES ('T1', 'lead1', 9)",
    "INSERT INTO categories (id, name, position, page) VALUES (1, '终端设备', 0, '[]'), (2, '网络', 1, '[]')",
    "INSERT INTO categories (id, parent_id, name, speciality, position, page) SELECT 2 + i, 1 + i % 2, "
    "'分类' || i, 'terminal', i, '[]' FROM generate_series(1, 8) i",
    # Tickets: created over 180 days; claimed within 2 h; 90 % resolved within 2 days; their SLA verdicts
    # (first answer within an hour, resolution within a day) as the clocks below record them.
    """INSERT INTO tickets (id, reporter_id, branch_code, category_id, priority, urgency, status, team_code,
         assignee_id, title, description, channel, kb_offered, created_at, claimed_at, resolved_at, closed_at,
         rating, reopen_count, tags, chase_count, response_met, resolution_met, first_contact)
       SELECT i, 'rep' || b, 'B' || b, 3 + i % 8, 'P' || (1 + i % 4), 1,
         CASE WHEN r < 0.9 THEN 'closed' WHEN r < 0.95 THEN 'claimed' ELSE 'new' END,
         'T' || (1 + b % 20), CASE WHEN r < 0.95 THEN 'eng' || (1 + i % 100) END, '打印机卡纸', '打印机卡纸',
         (ARRAY['wechat','wecom','telegram','http'])[1 + i % 4], '[]', c,
         CASE WHEN r < 0.95 THEN c + fr * interval '1 second' END,
         CASE WHEN r < 0.9 THEN c + rs * interval '1 second' END,
         CASE WHEN r < 0.9 THEN c + interval '3 days' END,
         CASE WHEN r < 0.45 THEN 1 + (i % 5) END, CASE WHEN r < 0.09 THEN 1 ELSE 0 END, '[]', 0,
         CASE WHEN r < 0.95 THEN fr < 3600 END, CASE WHEN r < 0.9 THEN rs < 86400 END,
         CASE WHEN r < 0.9 THEN r >= 0.09 AND i % 4 <> 0 END
       FROM (SELECT i, 1 + (i::bigint * 7919) % 2000 AS b, random() AS r, random() * 7200 AS fr,
                    600 + random() * 172800 AS rs,
                    (now() AT TIME ZONE 'UTC') - (random() * 180) * interval '1 day' AS c
             FROM generate_series(1001, 1000 + :n) i) t""",
    """INSERT INTO sla_clocks (ticket_id, kind, policy, hours, timezone, target_seconds, warn_percent, started_at,
         consumed_seconds, state, escalation_level, stopped_at, met)
       SELECT id, k, 'default', '7x24', 'Asia/Shanghai', 3600, 80, created_at, 0, 'stopped', 0,
         CASE WHEN k = 'response' THEN claimed_at ELSE resolved_at END,
         CASE WHEN k = 'response' THEN claimed_at - created_at < interval '1 hour'
              ELSE resolved_at - created_at < interval '1 day' END
       FROM tickets, (VALUES ('response'), ('resolution')) AS kinds(k)
       WHERE (k = 'response' AND claimed_at IS NOT NULL) OR (k = 'resolution' AND resolved_at IS NOT NULL)""",
    """INSERT INTO suggestion_sessions (person_id, branch_code, channel, query, offered, started_at, outcome)
       SELECT reporter_id, branch_code, channel, title, '[]', created_at - interval '2 minutes',
         CASE WHEN id % 3 = 0 THEN 'ticket' WHEN id % 3 = 1 THEN 'solved' ELSE 'abandoned' END
       FROM tickets WHERE id % 3 <> 2 OR id % 9 = 2""",
    "SELECT setval(pg_get_serial_sequence('tickets', 'id'), (SELECT max(id) FROM tickets))",
]


def build(server: str, n: int) -> str:
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DB}"'))
        conn.execute(text(f'CREATE DATABASE "{DB}"'))
    admin.dispose()
    url = f"{server}/{DB}"
    upgrade(url)
    engine = create_engine(url)
    started = time.perf_counter()
    with engine.begin() as conn:
        for statement in FILL:
            conn.execute(text(statement), {"n": n})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    print(f"generated {n:,} tickets with their SLA clocks and suggestion sessions in "
          f"{time.perf_counter() - started:.0f} s", flush=True)
    engine.dispose()
    return url


def queries(now: datetime, sessions: sessionmaker[Session]) -> list[
        tuple[str, Callable[[Session, ColumnElement[bool] | None, Any], Any]]]:
    today = now.astimezone(TZ).date()
    found: list[tuple[str, Callable[[Session, ColumnElement[bool] | None, Any], Any]]] = []
    for days in (30, 180):
        span = reports.Range(today - timedelta(days=days - 1), today, TZ)
        found.append((f"summary {days}d", lambda s, w, b, span=span: reports.summary(
            sessions=sessions, span=span, scope=w, visible_branches=b, now=now)))
        for dimension in ("team", "engineer", "region", "category"):
            found.append((f"breakdown by {dimension} {days}d", lambda s, w, b, span=span, d=dimension:
                          reports.breakdown(session=s, span=span, dimension=d, scope=w, now=now)))
        found.append((f"trend {days}d", lambda s, w, b, span=span: reports.trend(session=s, span=span, scope=w)))
    return found


def timed(sessions: sessionmaker[Session], run: Callable[[Session, Any, Any], Any], where: Any, branches: Any,
          repeat: int) -> float:
    times = []
    for _ in range(repeat):
        with sessions() as session:
            started = time.perf_counter()
            run(session, where, branches)
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="time the database the last run generated")
    args = parser.parse_args()
    url = f"{args.server}/{DB}" if args.reuse else build(args.server, args.tickets)
    engine = create_engine(url)
    sessions = sessionmaker(engine, expire_on_commit=False)
    now = datetime.now(UTC)
    lead_regions = ["R2"]  # team T1's region: what the regional lead's token sees
    scopes = {
        "all": (None, None),
        "one region": (Ticket.branch_code.in_(select(Branch.code).where(Branch.region_code.in_(lead_regions))),
                       select(Branch.code).where(Branch.region_code.in_(lead_regions))),
    }
    plan = queries(now, sessions)
    indexed: dict[tuple[str, str], float] = {}
    for scope_name, (where, branches) in scopes.items():
        for name, run in plan:
            indexed[(scope_name, name)] = timed(sessions, run, where, branches, args.repeat)
    with engine.begin() as conn:
        for index in INDEXES:
            conn.execute(text(f"DROP INDEX {index}"))
        conn.execute(text("ANALYZE"))
    print(f"\n{'query':<32} {'scope':<11} {'indexed':>9} {'no index':>9} {'ratio':>7}")
    worst = 0.0
    for scope_name, (where, branches) in scopes.items():
        for name, run in plan:
            fast = indexed[(scope_name, name)]
            slow = timed(sessions, run, where, branches, max(1, args.repeat // 2))
            worst = max(worst, fast)
            print(f"{name:<32} {scope_name:<11} {fast * 1000:>7.0f}ms {slow * 1000:>7.0f}ms {slow / fast:>6.1f}×")
    with engine.begin() as conn:
        for index, target in INDEXES.items():
            conn.execute(text(f"CREATE INDEX {index} ON {target}"))
    engine.dispose()
    print(f"\nslowest indexed query: {worst * 1000:.0f} ms (target < {TARGET_SECONDS * 1000:.0f} ms)")
    return 0 if worst < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
