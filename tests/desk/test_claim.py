"""Atomic claim: of two engineers claiming at the same moment, exactly one wins."""

from __future__ import annotations

import threading

from sqlalchemy import select

from wuyou.adapters.bootstrap import Desk
from wuyou.db import utcnow
from wuyou.desk import tickets
from wuyou.desk.errors import AlreadyClaimed
from wuyou.desk.models import Category, OutboxMessage, Person, TicketEvent


def _open(desk: Desk) -> int:
    with desk.sessions() as s:
        reporter = s.get(Person, "zhang.san")
        printer = s.scalars(select(Category).where(Category.name == "打印机")).one()
        assert reporter is not None
        ticket = tickets.open_ticket(session=s, reporter=reporter, category=printer, urgency=1,
                                     description="打印机卡纸", channel="http", now=utcnow())
        s.commit()
        return ticket.id


def test_two_simultaneous_claims_one_winner(sample_desk: Desk) -> None:
    for _ in range(5):
        number = _open(sample_desk)
        barrier = threading.Barrier(2)
        outcomes: dict[str, str] = {}

        def claim(engineer_id: str, number: int = number, barrier: threading.Barrier = barrier,
                  outcomes: dict[str, str] = outcomes) -> None:
            with sample_desk.sessions() as s:
                engineer = s.get(Person, engineer_id)
            assert engineer is not None
            barrier.wait()
            with sample_desk.sessions() as s:
                try:
                    tickets.claim(session=s, ticket_id=number, engineer=engineer, now=utcnow())
                    s.commit()
                    outcomes[engineer_id] = "won"
                except AlreadyClaimed as exc:
                    s.rollback()
                    outcomes[engineer_id] = f"lost to {exc.holder_name}"

        threads = [threading.Thread(target=claim, args=(e,)) for e in ("li.wei", "wang.fang")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert list(outcomes.values()).count("won") == 1
        winner = next(e for e, o in outcomes.items() if o == "won")
        loser = next(e for e in outcomes if e != winner)
        assert outcomes[loser] == f"lost to {'李伟' if winner == 'li.wei' else '王芳'}"
        with sample_desk.sessions() as s:
            claimed = s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == number,
                                                          TicketEvent.kind == "claimed")).all()
            assert [e.actor_id for e in claimed] == [winner]
            to_reporter = s.scalars(select(OutboxMessage).where(OutboxMessage.ticket_id == number,
                                                                OutboxMessage.template == "ticket_claimed")).all()
            assert len(to_reporter) == 1


def test_ticket_and_notifications_commit_together(sample_desk: Desk) -> None:
    with sample_desk.sessions() as s:
        reporter = s.get(Person, "zhang.san")
        assert reporter is not None
        tickets.open_ticket(session=s, reporter=reporter, category=None, urgency=1,
                            description="x", channel="http", now=utcnow())
        s.rollback()  # a crash before commit: neither the ticket nor its notifications exist
    with sample_desk.sessions() as s:
        assert s.scalars(select(OutboxMessage)).all() == []
