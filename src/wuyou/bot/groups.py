"""Colleagues: a fault already reported at the branch, or in a group chat, is not reported there twice.

Branch staff often report in their branch's group (DESIGN), several people about one fault; or each in their own
chat with the bot, when the branch's network is down for everyone. A report like an open ticket someone else
opened from that group chat, or from the reporter's branch, in the last days — alike in its words (the report
signatures surge detection compares), or about what the knowledge base says the ticket is about (its best
article's category) — makes the sender a follower of that ticket instead of opening another: they hear of its
progress, and its engineer sees on the timeline who else reported it and in what words. "1" (or the button)
reports it as a problem of their own after all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from wuyou.bot import notices, status
from wuyou.bot.dialogue import Dialogue
from wuyou.bot.messages import Button
from wuyou.desk import attachments, tickets, working
from wuyou.desk.models import Person, Ticket, TicketEvent
from wuyou.desk.surge import similarity
from wuyou.desk.timeline import add_event
from wuyou.kb.signature import signature
from wuyou.kb.text import asks_question, is_courtesy, normalise, says_fault

if TYPE_CHECKING:
    from wuyou.bot.engine import Turn

LINK_WITHIN = timedelta(days=3)  # an open ticket of the group older than this is not taken for the same fault
ANSWER_FOR_WITHIN = timedelta(days=1)  # a question waiting longer is not what a colleague's words answer
ALIKE_AT = 0.3  # how alike in words (as a recurrence is told: reporting.RECURS_AT)


def same_fault(turn: Turn, text: str, *, category_id: int | None) -> Ticket | None:
    """The open ticket someone else opened from this group chat (in a 1:1 chat: at the reporter's branch) that the
    report is about, if any."""
    chat = turn.inbound.chat
    since = turn.now - LINK_WITHIN
    if chat.kind != "direct" and chat.id:
        found = tickets.open_in_chat(session=turn.session, channel=turn.inbound.platform, chat_id=chat.id,
                                     since=since)
    elif turn.person.branch_code is not None:
        found = tickets.open_at_branches(session=turn.session, branch_codes=[turn.person.branch_code], since=since)
    else:
        return None
    # (a regional group holds several branches: the same fault elsewhere is another printer)
    mine = turn.person.branch_code
    return alike(signature(text), [t for t in found if t.reporter_id != turn.person.id
                                   and (mine is None or t.branch_code in (None, mine))], category_id=category_id)


def alike(mine: dict[int, float], found: Sequence[Ticket], *, category_id: int | None,
          said: dict[int, dict[int, float]] | None = None) -> Ticket | None:
    """Of others' open tickets, the one a report (its signature) is about: the most alike in words when alike
    enough, else the newest of the report's category that shares a word with it at least (a guess of the category
    alone puts a UKey that does not react with the receipt printer of the POS category). `said`: the tickets'
    signatures kept between calls."""
    if not found:
        return None
    said = {} if said is None else said
    score, best = max(((similarity(mine, said.get(t.id) or said.setdefault(t.id, signature(t.description))), t)
                       for t in found), key=lambda pair: pair[0])
    if score >= ALIKE_AT:
        return best
    return next((t for t in found if category_id is not None and t.category_id == category_id
                 and similarity(mine, said[t.id]) > 0), None)


def colleagues_reported(*, session: Session, reports: Sequence[tuple[Person, dict[int, float], int | None]],
                        now: datetime) -> set[str]:
    """Of 1:1 reports (reporter, signature, category), the reporters for whom someone else at their branch has an
    open ticket about it (`same_fault`): one query for them all."""
    found = tickets.open_at_branches(session=session, since=now - LINK_WITHIN,
                                     branch_codes={p.branch_code for p, _, _ in reports if p.branch_code})
    by_branch: dict[str, list[Ticket]] = {}
    for ticket in found:
        by_branch.setdefault(ticket.branch_code or "", []).append(ticket)
    said: dict[int, dict[int, float]] = {}  # (each ticket's words read once for the batch)
    return {person.id for person, mine, category in reports if person.branch_code in by_branch
            and alike(mine, [t for t in by_branch[person.branch_code] if t.reporter_id != person.id],
                      category_id=category, said=said) is not None}


def take_back(turn: Turn, ticket_id: int) -> list[int]:
    """What the person sent with the report that was taken for the group's ticket (`follow_instead`): off that
    ticket, staged again for their own."""
    event = turn.session.scalars(select(TicketEvent).where(
        TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "also_reported", TicketEvent.actor_id == turn.person.id)
        .order_by(TicketEvent.id.desc())).first()
    sent = (event.data or {}).get("attachments") if event is not None else None
    if event is not None:  # the ticket's engineer reads on its timeline that it was not the same after all
        ticket = turn.session.get(Ticket, ticket_id)
        if ticket is not None:
            add_event(session=turn.session, ticket=ticket, kind="also_reported_not", now=turn.now, actor=turn.person,
                      body=turn.t("also_reported_not_by", name=turn.person.name), public=False)
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
    turn.say("group_already_reported" if turn.inbound.chat.kind != "direct" else "branch_already_reported",
             ticket=ticket.id, title=ticket.title, reporter=ticket.reporter.name,
             when=turn.local(ticket.created_at), state=state,
             buttons=(Button(turn.t("btn_separate"), "1"),))
    return True


def answering_for(turn: Turn, text: str) -> bool:
    """In a group: a colleague of the branch writing, while a ticket reported there waits for its reporter's answer
    to the engineer's question, words that are no fault, question, thanks or "how is it going" (是宽带, 用的热点) —
    asked whether she answers it for them (1: her words go to the ticket as the answer, its engineer hears them;
    2: a message of her own). Her words became a report of her own, and the engineer never heard them."""
    chat, person = turn.inbound.chat, turn.person
    if chat.kind == "direct" or not chat.id or person.role != "reporter" or person.branch_code is None:
        return False
    normalised = normalise(text)
    if len(normalised) < 2 or is_courtesy(text) or notices.is_ack_word(text) or says_fault(normalised) \
            or asks_question(normalised) or status.asks_status(text) or status.impatient(text):
        return False
    waiting = [t for t in tickets.open_in_chat(session=turn.session, channel=turn.inbound.platform, chat_id=chat.id,
                                               since=turn.now - LINK_WITHIN)
               if t.status == "waiting" and t.reporter_id != person.id and t.branch_code == person.branch_code
               and t.waiting_since is not None and t.waiting_since >= turn.now - ANSWER_FOR_WITHIN]
    if not waiting:
        return False
    ticket = max(waiting, key=lambda t: (t.waiting_since or turn.now, t.id))
    question = turn.session.scalars(select(TicketEvent.body).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "asked").order_by(TicketEvent.id.desc())).first()
    turn.dialogue = Dialogue(text=text, choices=[f"/answerfor {ticket.id} {text}", "/anew"],
                             attachments=turn.dialogue.attachments)
    turn.say("answer_for_or_own", ticket=ticket.id, reporter=ticket.reporter.name, question=question or "",
             buttons=(Button(turn.t("btn_answer_for", reporter=ticket.reporter.name), "1"),
                      Button(turn.t("btn_not_an_answer"), "2")))
    return True
