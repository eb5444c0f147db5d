"""Two `wuyou worker` processes against one PostgreSQL: every SLA warning, breach and escalation fires
exactly once, and every notification it causes is delivered exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from tests.conftest import _truncate_pg, shared
from wuyou.adapters.bootstrap import build
from wuyou.adapters.http_mailbox import MailboxMessage
from wuyou.adapters.settings import Settings
from wuyou.db import utcnow
from wuyou.desk import tickets
from wuyou.desk.models import Category, OutboxMessage, Person, SlaClock, TicketEvent
from wuyou.desk.org import import_org, load_org_file

TICKETS = 30


def test_two_workers_fire_each_clock_event_once(pg_url: str, tmp_path: Path) -> None:
    _truncate_pg(pg_url)
    desk = build(Settings(database_url=pg_url, inprocess_worker=False))
    past = utcnow() - timedelta(days=2)  # P1 runs 7x24: warning, breach and escalation are all due now
    with desk.sessions() as s:
        import_org(session=s, doc=load_org_file(shared("org-sample.yaml").read_text(encoding="utf-8")))
        s.flush()
        down = s.scalars(select(Category).where(Category.name == "网点断网")).one()
        reporters = [s.get(Person, p) for p in ("zhang.san", "liu.yang", "ma.jing")]
        for i in range(TICKETS):
            reporter = reporters[i % 3]
            assert reporter is not None
            tickets.open_ticket(session=s, reporter=reporter, category=down, urgency=1, description=f"断网 {i}",
                                channel="http", now=past + timedelta(seconds=i))
        s.commit()
    desk.close()

    env = {**os.environ, "WUYOU_DATABASE_URL": pg_url, "WUYOU_WORKER_POLL_SECONDS": "0.1"}
    logs = [(tmp_path / f"worker{i}.log").open("wb") for i in range(2)]
    workers = [subprocess.Popen([sys.executable, "-m", "wuyou.adapters.cli", "worker"], env=env, stdout=log,
                                stderr=subprocess.STDOUT) for log in logs]
    desk = build(Settings(database_url=pg_url, inprocess_worker=False))
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with desk.sessions() as s:
                pending_clocks = s.scalar(select(func.count()).select_from(SlaClock).where(
                    SlaClock.next_check_at.is_not(None)))
                pending_mail = s.scalar(select(func.count()).select_from(OutboxMessage).where(
                    OutboxMessage.status == "pending"))
            if pending_clocks == 0 and pending_mail == 0:
                break
            assert all(w.poll() is None for w in workers), "a worker died"
            time.sleep(0.2)
        else:
            raise AssertionError(f"workers did not finish: {pending_clocks} clocks, {pending_mail} messages left")
        with desk.sessions() as s:
            fired = Counter((e.ticket_id, e.kind, e.data.get("clock")) for e in s.scalars(
                select(TicketEvent).where(TicketEvent.kind.in_(("sla_warn", "sla_breach", "sla_escalated")))))
            outbox_keys = s.scalars(select(OutboxMessage.idempotency_key)).all()
            delivered = s.scalars(select(MailboxMessage.idempotency_key)).all()
            sent = s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "sent"))
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(10)
        for log in logs:
            log.close()
        desk.close()
    assert len(fired) == TICKETS * 2 * 3  # every ticket, both clocks, warn + breach + escalation
    assert set(fired.values()) == {1}
    assert len(delivered) == len(set(delivered)) == sent == len(outbox_keys)
    sla_messages = [k for k in outbox_keys if k.startswith("ev")]
    assert len(sla_messages) == len(set(sla_messages))
