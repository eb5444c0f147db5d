"""Reporter commands after a ticket exists: chase (催单), add information (补充), cancel (取消 / 撤单),
and answering an engineer's question by simply writing back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from wuyou.bot.commands import Command
from wuyou.bot.dialogue import Dialogue
from wuyou.desk import attachments, tickets, working
from wuyou.desk.attachments import AttachmentTooLarge
from wuyou.desk.errors import NotFound, TooSoon
from wuyou.desk.incidents import service as incidents
from wuyou.desk.models import Person, Ticket, TicketFollower

if TYPE_CHECKING:
    from wuyou.bot.engine import Turn


def _pick(turn: Turn, command: Command, zh: str, *, followed: bool = False) -> int | None:
    """The ticket a reporter means: the number given, else their only open ticket (`followed`: of those they
    reported or follow)."""
    if command.ticket is not None:
        return command.ticket
    mine = tickets.under_way(session=turn.session, person=turn.person) if followed else tickets.reported_by(
        session=turn.session, reporter=turn.person, include_resolved=False)
    if len(mine) == 1:
        return mine[0].id
    if not mine:
        turn.say("status_none")
    else:
        turn.say("which_ticket", command=zh, numbers="、".join(f"#{t.id}" for t in mine))
    return None


def _not_yours(turn: Turn, number: int) -> None:
    """Not theirs to act on: one they follow is named with its reporter (they know of it); of any other, nothing is
    said — not even whether it exists."""
    followed = turn.session.get(TicketFollower, (number, turn.person.id))
    ticket = turn.session.get(Ticket, number) if followed is not None else None
    if ticket is not None:
        turn.say("not_your_ticket_followed", ticket=number, reporter=ticket.reporter.name)
        return
    mine = tickets.reported_by(session=turn.session, reporter=turn.person, include_resolved=False)
    if mine:
        turn.say("not_your_ticket", ticket=number, numbers="、".join(f"#{t.id}" for t in mine))
    else:
        turn.say("not_your_ticket_none", ticket=number)


def incident_said(turn: Turn, ticket: Ticket) -> str:
    """" · 属于 INC-1（医保结算失败），最新进展 10:20：…" for a ticket of an open major incident, else ""."""
    found = incidents.open_incident_of(session=turn.session, ticket_id=ticket.id)
    if found is None:
        return ""
    incident, update = found
    news = turn.t("status_incident_update", at=turn.local(update.at), body=update.body or "") if update is not None \
        else turn.t("status_incident_no_update")
    return turn.t("status_incident", incident=incident.ref, title=incident.title, news=news)


def chaseable(turn: Turn, shown: Sequence[Ticket]) -> list[Ticket]:
    """Of these tickets, those a chase would reach someone for: waiting or worked on, not chased in the last
    half hour (it would be refused), not one of an open major incident (its people are on it)."""
    return [t for t in shown if t.status in ("new", "claimed", "in_progress", "reopened")
            and (t.last_chased_at is None or turn.now - t.last_chased_at >= working.CHASE_INTERVAL)
            and incidents.open_incident_of(session=turn.session, ticket_id=t.id) is None]


def cmd_chase(turn: Turn, command: Command) -> None:
    if command.ticket is None:  # of several under way, the one a chase can be for (the others on hold, chased …)
        may = chaseable(turn, tickets.under_way(session=turn.session, person=turn.person))
        if len(may) == 1:
            command = replace(command, ticket=may[0].id)
    number = _pick(turn, command, "催单", followed=True)
    if number is None:
        return
    ticket_row = turn.session.get(Ticket, number)
    major = incident_said(turn, ticket_row) if ticket_row is not None else ""
    if major:  # the incident's people are on it: nobody is paged one by one in the middle of it
        turn.say("chase_incident", ticket=number, incident=major.lstrip(" ·"))
        return
    if ticket_row is not None and ticket_row.reporter_id == turn.person.id and _nothing_to_chase(turn, ticket_row):
        return
    try:
        ticket, pinged = working.chase(session=turn.session, ticket_id=number, person=turn.person, now=turn.now)
    except TooSoon as exc:
        told = [p for p in exc.told if isinstance(p, Person)]
        turn.say("chase_too_soon_by" if exc.by else "chase_too_soon", by=exc.by or "",
                 last=turn.local(exc.last), next=turn.local(exc.next_allowed),  # type: ignore[arg-type]
                 ticket=number, told=turn.t("chase_told", who=_chased(turn, ticket_row, told))
                 if told and ticket_row is not None else "")
        return
    except NotFound:
        _not_yours(turn, number)
        return
    turn.say("chase_ok", ticket=ticket.id, who=_chased(turn, ticket, pinged),
             hold=turn.t("chase_on_hold", reason=ticket.hold_reason or "—", until=turn.local(ticket.hold_until))
             if ticket.status == "on_hold" else "")


def _nothing_to_chase(turn: Turn, ticket: Ticket) -> bool:
    """The reporter's own ticket that no chase would move: its engineer waits for their answer (the question is
    repeated, nobody is pinged), or it is resolved (confirm or say it is not fixed) or closed (say what is wrong
    again) — instead of "不能这样操作" or pinging an engineer and a lead about a ticket that waits on the reporter."""
    if ticket.status == "waiting" and ticket.assignee is not None:
        asked = next((e for e in reversed(tickets.timeline(session=turn.session, ticket_id=ticket.id,
                                                            public_only=True)) if e.kind == "asked"), None)
        if asked is None:
            return False
        turn.say("chase_waiting_on_you", ticket=ticket.id, name=ticket.assignee.name, question=asked.body or "")
        return True
    if ticket.status == "resolved":
        turn.say("chase_resolved", ticket=ticket.id, name=ticket.assignee.name if ticket.assignee else "",
                 summary=ticket.resolution or "—")
        return True
    if ticket.status == "closed":
        turn.say("chase_closed", ticket=ticket.id)
        return True
    return False


def _chased(turn: Turn, ticket: Ticket, pinged: Sequence[Person]) -> str:
    """Who a chase reached, the team lead named as such: "李伟 和组长 赵敏" (conversations/05 row 4)."""
    lead_id = ticket.team.lead_id if ticket.team is not None else None
    names = "、".join(p.name for p in pinged if p.id != lead_id)
    lead = next((p for p in pinged if p.id == lead_id), None)
    if lead is None:
        return names or turn.t("the_team")
    return turn.t("chase_who_lead", names=names, lead=lead.name) if names else \
        turn.t("chase_who_lead_only", lead=lead.name)


def stage(turn: Turn) -> list[int]:
    """Keep the message's attachments (not yet linked to a ticket); returns their ids."""
    ids: list[int] = []
    for item in turn.inbound.attachments:
        if item.data is None:  # the adapter could not fetch it: the text (if any) still counts
            if not (item.kind == "voice" and turn.inbound.from_speech and turn.text):  # (the words were the point)
                kind = item.kind if item.kind in ("image", "voice") else "file"
                turn.say("attachment_not_received", what=turn.t(f"attachment_what_{kind}"))
            continue
        try:
            stored = attachments.store(
                session=turn.session, media=turn.engine.media, person=turn.person,
                kind=item.kind if item.kind in attachments.KINDS else "file", name=item.name or item.kind,
                content_type=item.content_type, data=item.data, now=turn.now,
                speech_text=turn.text if turn.inbound.from_speech else None)
        except AttachmentTooLarge:
            turn.say("attachment_too_large", mb=attachments.MAX_BYTES // (1024 * 1024))
            continue
        ids.append(stored.id)
    return ids


def attachments_only(turn: Turn, staged: list[int]) -> None:
    """Photos or files without words: to the ticket waiting for them (or whose question they answered a moment ago),
    into a running dialogue, or the start of a new report."""
    if not staged:
        return
    waiting = working.waiting_on(session=turn.session, reporter=turn.person)
    if waiting is None and not turn.dialogue.step:  # the next photo of a burst that answered the question
        waiting = working.just_answered(session=turn.session, reporter=turn.person, now=turn.now)
    if waiting is not None:
        working.add_info(session=turn.session, ticket_id=waiting.id, reporter=turn.person, text="", now=turn.now,
                         attachment_ids=staged)
        turn.say("attachments_added", count=len(staged), ticket=waiting.id,
                 to=waiting.assignee.name if waiting.assignee else turn.t("the_team"))
        return
    turn.dialogue.attachments = [*turn.dialogue.attachments, *staged]
    if turn.dialogue.step:
        turn.say("attachments_kept", count=len(staged))
        return
    turn.say("attachments_need_words", count=len(staged))


def cmd_add(turn: Turn, command: Command) -> None:
    number = _pick(turn, command, "补充")
    if number is None:
        return
    staged, turn.dialogue.attachments = turn.dialogue.attachments, []
    if not command.rest and not staged:
        turn.say("needs_text", command=f"补充 {number}")
        return
    try:
        ticket = working.add_info(session=turn.session, ticket_id=number, reporter=turn.person, text=command.rest,
                                  now=turn.now, attachment_ids=staged)
    except NotFound:
        _not_yours(turn, number)
        return
    turn.say("info_added", ticket=ticket.id, to=ticket.assignee.name if ticket.assignee else turn.t("the_team"))


def cmd_answerfor(turn: Turn, command: Command) -> None:
    """"1" to "are you answering for 张三?" in a branch's group: the colleague's words go to the ticket as the
    reporter's answer (the ticket is back with its engineer, who hears them, and sees who answered)."""
    if command.ticket is None:
        turn.say("need_ticket_number", command="补充")
        return
    staged, turn.dialogue.attachments = turn.dialogue.attachments, []
    try:
        ticket = working.add_info(session=turn.session, ticket_id=command.ticket, reporter=turn.person,
                                  text=command.rest, now=turn.now, attachment_ids=staged, for_branch=True)
    except NotFound:
        _not_yours(turn, command.ticket)
        return
    turn.say("answer_for_added", ticket=ticket.id, reporter=ticket.reporter.name,
             to=ticket.assignee.name if ticket.assignee else turn.t("the_team"))


def answer_waiting(turn: Turn) -> bool:
    """While an engineer's question is open, the reporter's next message goes straight to that ticket."""
    ticket = working.waiting_on(session=turn.session, reporter=turn.person)
    if ticket is None:
        return False
    staged, turn.dialogue.attachments = turn.dialogue.attachments, []
    working.add_info(session=turn.session, ticket_id=ticket.id, reporter=turn.person, text=turn.text, now=turn.now,
                     attachment_ids=staged)
    turn.say("info_added", ticket=ticket.id, to=ticket.assignee.name if ticket.assignee else turn.t("the_team"))
    return True


def cmd_cancel(turn: Turn, command: Command) -> None:
    """Without a number: leave the current conversation. With one: withdraw that ticket (after a confirmation)."""
    words = command.rest.split()
    number = words[0].lstrip("#") if words else ""
    if not number.isdigit():
        if turn.dialogue.draft:  # a notice waiting for its sender's "1" ("回复其他内容取消": 取消 most of all)
            turn.dialogue = Dialogue()
            turn.say("notice_dropped")
        elif turn.dialogue.step:
            turn.dialogue = Dialogue()
            turn.say("cancelled")
        else:
            turn.say("nothing_to_cancel")
        return
    if len(words) > 1 and words[1] in ("确认", "confirm"):
        working.cancel(session=turn.session, ticket_id=int(number), person=turn.person,
                       reason=" ".join(words[2:]), now=turn.now)
        turn.say("ticket_cancel_ok", ticket=int(number))
        return
    ticket = turn.session.get(Ticket, int(number))
    if ticket is None or (ticket.reporter_id != turn.person.id and turn.person.role not in ("lead", "admin")):
        _not_yours(turn, int(number))
        return
    tickets.require(ticket, "cancel")
    turn.dialogue.pending_command = f"/cancel {ticket.id} confirm"
    turn.say("ticket_cancel_confirm", ticket=ticket.id, title=ticket.title)
