"""Bursts of like tickets: one card for many instead of a ping per ticket (conversations/07 row 2).

When a new ticket lands in a team's queue while an earlier ticket of the same category, from the last half
hour, still waits there unclaimed, the team has been told of that fault already: the new ticket is not
announced on its own but added to a grouped card ("#1051 同类工单 +4"), which goes out a little later with
every such ticket of the meantime in it — as alert grouping does for an on-call team. The card is an outbox
message held back (`next_attempt_at` ahead) and brought up to date while it waits; it waits at most the
desk's hold (10 minutes unless configured), and at most a quarter of the time the newest ticket has to its
response deadline, so that grouping never costs an urgent ticket its SLA. A ticket claimed while its card
waits is taken off the card (a card left empty is not sent)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wuyou.desk import outbox
from wuyou.desk.models import OutboxMessage, Person, Ticket, TicketEvent

WITHIN = timedelta(minutes=30)  # how recent the unclaimed ticket must be for a new one to join its card
HOLD = timedelta(minutes=10)  # the longest a grouped card waits for more, unless the desk is set otherwise
HOLD_SHARE = 0.25  # ... and at most this share of the time to the newest ticket's response deadline
WORTH_HOLDING = timedelta(minutes=1)  # a shorter wait is no wait: the ticket is announced on its own
SAFETY = timedelta(seconds=5)  # a card this close to going out is left alone: the next ticket starts a new one
MANY_BRANCHES = 3  # from this many branches the card says it may be one outage
TEMPLATE = "ticket_burst"


def first_of_burst(*, session: Session, ticket: Ticket, now: datetime) -> Ticket | None:
    """The oldest ticket of the same category in the same team's queue, unclaimed, opened in the last `WITHIN`:
    the one the team was told about, whose card a new ticket joins (None: the new ticket is announced)."""
    if ticket.category_id is None or ticket.team_code is None or ticket.assignee_id is not None:
        return None
    return session.scalars(
        select(Ticket).where(Ticket.team_code == ticket.team_code, Ticket.status == "new",
                             Ticket.assignee_id.is_(None), Ticket.category_id == ticket.category_id,
                             Ticket.created_at >= now - WITHIN, Ticket.id != ticket.id)
        .order_by(Ticket.id).limit(1)).first()


def wait(*, now: datetime, response_due: datetime | None, hold: timedelta = HOLD) -> timedelta:
    """How long a card with this ticket may wait for more (zero when not worth holding it back)."""
    longest = hold if response_due is None else min(hold, (response_due - now) * HOLD_SHARE)
    return longest if longest >= WORTH_HOLDING else timedelta(0)


def _line(ticket: Ticket) -> str:
    """One ticket on the card (no words of either language: names, numbers and the reporter's own)."""
    branch = ticket.branch.name if ticket.branch else "—"
    return f"#{ticket.id} · {ticket.priority} · {branch} · {ticket.reporter.name}：“{ticket.title}”"


def _render(params: dict[str, Any]) -> dict[str, Any]:
    """The card's shown parameters from its items (ticket, line, branch), after a change."""
    items = params["items"]
    branches = {branch for _, _, branch in items} | {params.get("first_branch")}
    return {**params, "count": len(items), "lines": "\n".join(line for _, line, _ in items),
            "hint_key": "burst_many_branches" if len(branches - {None}) >= MANY_BRANCHES else ""}


def hold(*, session: Session, event: TicketEvent, ticket: Ticket, first: Ticket, people: Sequence[Person],
         now: datetime, send_at: datetime) -> None:
    """Add the new ticket to each person's grouped card for `first` (the one waiting to go out, else a new one
    that goes out at `send_at`)."""
    item = [ticket.id, _line(ticket), ticket.branch_code]
    seen: set[str] = set()
    for person in people:
        if person.id in seen:
            continue
        seen.add(person.id)
        waiting = next(iter(_held(session, now=now, ticket_id=first.id, person_id=person.id)), None)
        if waiting is not None:
            params = {**waiting.params, "items": [*waiting.params["items"], item], "last_at": now.isoformat()}
            if send_at < waiting.next_attempt_at:
                waiting.next_attempt_at = send_at
                params["send_at"] = send_at.isoformat()
            waiting.params = _render(params)  # (a new value: the JSON column sees the change)
            waiting.buttons = _buttons(params["items"])
            continue
        outbox.enqueue(
            session=session, person_id=person.id, template=TEMPLATE, ticket_id=first.id,
            key=f"burst:ev{event.id}:{person.id}", now=now, deliver_at=send_at,
            params=_render({"ticket": first.id, "category": first.category.path if first.category else "",
                            "team": first.team.name if first.team else "", "items": [item],
                            "first_branch": first.branch_code, "first_at": now.isoformat(),
                            "last_at": now.isoformat(), "send_at": send_at.isoformat()}),
            buttons=_buttons([item]),
        )


CLAIM_BUTTONS = 3  # a card of more tickets than this offers 待办 for the rest


def _buttons(items: Sequence[Sequence[Any]]) -> list[dict[str, str]]:
    """A claim button for each ticket the card lists (the first ticket's own card went out before), then 待办."""
    return [*({"label_key": "btn_claim_n", "label_ticket": str(number), "action": f"/claim {number}"}
              for number, _, _ in items[:CLAIM_BUTTONS]),
            {"label_key": "btn_queue", "action": "/queue"}]


def drop(*, session: Session, ticket: Ticket, now: datetime) -> bool:
    """Take a claimed ticket off the cards still waiting to go out (one left with nothing is not sent). True when
    it was on such a card: its team has not heard of it yet."""
    if ticket.team_code is None:
        return False
    first = session.scalars(select(TicketEvent.data).where(TicketEvent.ticket_id == ticket.id,
                                                          TicketEvent.kind == "routed")
                            .order_by(TicketEvent.id)).first()
    first_id = (first or {}).get("grouped_with")
    if first_id is None:
        return False
    found = False
    for card in _held(session, now=now, ticket_id=int(first_id)):
        items = [i for i in card.params["items"] if i[0] != ticket.id]
        if len(items) == len(card.params["items"]):
            continue
        found = True
        if items:
            card.params = _render({**card.params, "items": items})
            card.buttons = _buttons(items)
        else:
            session.delete(card)
    return found


def _held(session: Session, *, now: datetime, ticket_id: int, person_id: str | None = None) -> list[OutboxMessage]:
    """The grouped cards for `ticket_id` still held back (of one person, or all), locked. A delivery worker's
    lease moves `next_attempt_at` off the time the card was set to go out at: a card being delivered must not
    change under the worker, so it is not among them."""
    query = select(OutboxMessage).where(
        OutboxMessage.status == "pending", OutboxMessage.next_attempt_at > now + SAFETY,
        OutboxMessage.template == TEMPLATE, OutboxMessage.ticket_id == ticket_id, OutboxMessage.attempts == 0)
    if person_id is not None:
        query = query.where(OutboxMessage.person_id == person_id)
    cards = session.scalars(query.order_by(OutboxMessage.id).with_for_update()).all()
    return [c for c in cards if c.params.get("send_at") and abs(
        c.next_attempt_at - datetime.fromisoformat(c.params["send_at"])) < timedelta(milliseconds=1)]
