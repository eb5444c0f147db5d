"""Branch groups: a fault already reported in a group chat is not reported there twice.

Branch staff often report in their branch's group (DESIGN), several people about one fault. A report in a group
chat that is like an open ticket opened from that chat in the last days — alike in its words (the report
signatures surge detection compares), or about what the knowledge base says the ticket is about (its best
article's category) — makes the sender a follower of that ticket instead of opening another: they hear of its
progress, and its engineer sees on the timeline who else reported it and in what words. "1" (or the button)
reports it as a problem of their own after all.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from wuyou.bot.dialogue import Dialogue
from wuyou.bot.messages import Button
from wuyou.desk import attachments, tickets, working
from wuyou.desk.models import Ticket, TicketEvent
from wuyou.desk.surge import similarity
from wuyou.desk.timeline import add_event
from wuyou.kb.signature import signature

if TYPE_CHECKING:
    from wuyou.bot.engine import Turn

LINK_WITHIN = timedelta(days=3)  # an open ticket of the group older than this is not taken for the same fault
ALIKE_AT = 0.3  # how alike in words (as a recurrence is told: reporting.RECURS_AT)


def same_fault(turn: Turn, text: str, *, category_id: int | None) -> Ticket | None:
    """The open ticket someone else opened from this group chat that the report is about, if any."""
    chat = turn.inbound.chat
    if chat.kind == "direct" or not chat.id:
        return None
    found = [t for t in tickets.open_in_chat(session=turn.session, channel=turn.inbound.platform, chat_id=chat.id,
                                             since=turn.now - LINK_WITHIN)
             if t.reporter_id != turn.person.id]
    if not found:
        return None
    mine = signature(text)
    score, best = max(((similarity(mine, signature(t.description)), t) for t in found), key=lambda pair: pair[0])
    if score >= ALIKE_AT:
        return best
    return next((t for t in found if category_id is not None and t.category_id == category_id), None)


def take_back(turn: Turn, ticket_id: int) -> list[int]:
    """What the person sent with the report that was taken for the group's ticket (`follow_instead`): off that
    ticket, staged again for their own."""
    event = turn.session.scalars(select(TicketEvent).where(
        TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "also_reported", TicketEvent.actor_id == turn.person.id)
        .order_by(TicketEvent.id.desc())).first()
    sent = (event.data or {}).get("attachments") if event is not None else None
    return attachments.restage(session=turn.session, ids=sent if isinstance(sent, list) else [], person=turn.person,
                               ticket_id=ticket_id)


def follow_instead(turn: Turn, text: str, *, category_id: int | None) -> bool:
    """Follow the group's open ticket about the same fault instead of reporting it again (True when done)."""
    ticket = same_fault(turn, text, category_id=category_id)
    if ticket is None:
        return False
    working.follow(session=turn.session, ticket=ticket, person=turn.person, now=turn.now)
    staged = turn.dialogue.attachments  # (a photo sent with it: the same fault's, so the ticket's too)
    event = add_event(session=turn.session, ticket=ticket, kind="also_reported", now=turn.now, actor=turn.person,
                      body=turn.t("also_reported_by", name=turn.person.name, text=text),
                      data={"chat": turn.inbound.chat.id, "attachments": staged})
    attachments.link(session=turn.session, ids=staged, person=turn.person, ticket_id=ticket.id, event_id=event.id)
    turn.dialogue = Dialogue(text=text, choices=[f"/separate {ticket.id}"])
    holder = ticket.assignee.name if ticket.assignee is not None else None
    state = turn.t("group_ticket_queued") if holder is None else turn.t(
        "group_ticket_assigned" if ticket.status == "new" else "group_ticket_held", engineer=holder)
    turn.say("group_already_reported", ticket=ticket.id, title=ticket.title, reporter=ticket.reporter.name,
             when=turn.local(ticket.created_at), state=state,
             buttons=(Button(turn.t("btn_separate"), "1"),))
    return True
