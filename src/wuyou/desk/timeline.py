"""The timeline and notifications every desk service writes: one event per step, and one outbox row per
person told about it, in the same transaction as the change."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import event as orm_events
from sqlalchemy.orm import Session, SessionTransaction

from wuyou.desk import outbox
from wuyou.desk.models import Person, Ticket, TicketEvent
from wuyou.desk.webhooks import service as webhooks


def add_event(
    *,
    session: Session,
    ticket: Ticket,
    kind: str,
    now: datetime,
    actor: Person | None = None,
    body: str | None = None,
    data: dict[str, Any] | None = None,
    public: bool = True,
) -> TicketEvent:
    """Append one entry to the ticket's timeline."""
    event = TicketEvent(
        ticket_id=ticket.id,
        at=now,
        actor_id=actor.id if actor else None,
        kind=kind,
        body=body,
        data=data or {},
        public=public,
    )
    session.add(event)
    session.flush()
    webhooks.emit(session=session, event=f"ticket.{kind}", key=f"te{event.id}", now=now, payload={
        "ticket": {"id": ticket.id, "status": ticket.status, "priority": ticket.priority, "title": ticket.title,
                   "branch": ticket.branch_code, "team": ticket.team_code, "assignee": ticket.assignee_id,
                   "reporter": ticket.reporter_id},
        "actor": actor.id if actor else None, "public": public,
        "body": body if public else None,  # internal notes stay inside the desk
        "data": data or {},  # the entry's facts (a hold's `until`, an SLA clock's kind): ids and times, no text
    })
    return event


SAID_LEN = 100  # characters of the report a card quotes


def said(ticket: Ticket) -> str:
    """The report in the reporter's words as a card quotes it: every line of it (what was first said, then the
    answer to "please describe it", what was added with a 0), up to `SAID_LEN` characters."""
    text = " · ".join(" ".join(line.split()) for line in ticket.description.splitlines() if line.strip())
    return text if len(text) <= SAID_LEN else text[:SAID_LEN - 1] + "…"


def card(ticket: Ticket) -> dict[str, Any]:
    """The facts every ticket notification shows, as template parameters."""
    return {
        "ticket": ticket.id,
        "priority": ticket.priority,
        "category": ticket.category.path if ticket.category else "",
        "branch": ticket.branch.name if ticket.branch else "",
        "reporter": ticket.reporter.name,
        "title": ticket.title,
        "said": said(ticket) or ticket.title,
        "team": ticket.team.name if ticket.team else "",
        "assignee": ticket.assignee.name if ticket.assignee else "",
        "history": "",  # a line about the reporter's earlier self-help, where the notice has one (`history_key`)
        **({} if ticket.category else {"category_key": "category_none"}),  # "未分类", in the reader's language
    }


@orm_events.listens_for(Session, "after_transaction_end")
def _forget_notified(session: Session, transaction: SessionTransaction) -> None:
    """The keys `notify` queued belong to one transaction (a rolled-back one's event ids may come again)."""
    if transaction.parent is None:
        session.info.pop("notified", None)


def notify(
    *,
    session: Session,
    event: TicketEvent,
    ticket: Ticket,
    people: Sequence[Person],
    template: str,
    now: datetime,
    extra: dict[str, Any] | None = None,
    buttons: Sequence[dict[str, str]] = (),
) -> None:
    """Queue one notification per person (once each, keyed by event and person) in this transaction: someone told
    of the event already in it (an engineer of the team who also follows the ticket) is not told again."""
    told: set[str] = session.info.setdefault("notified", set())  # the keys queued in this session
    for person in people:
        key = f"ev{event.id}:{person.id}"
        if key in told:
            continue
        told.add(key)
        outbox.enqueue(
            session=session,
            person_id=person.id,
            template=template,
            params={**card(ticket), **(extra or {})},
            key=key,
            now=now,
            buttons=buttons,
            ticket_id=ticket.id,
        )
