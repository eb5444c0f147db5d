"""The engineer's side: queue, claim, mine, show, resolve."""

from __future__ import annotations

from typing import TYPE_CHECKING

from wuyou.bot.commands import Command
from wuyou.bot.messages import Button
from wuyou.desk import tickets
from wuyou.desk.models import Ticket

if TYPE_CHECKING:
    from wuyou.bot.engine import Turn


def _line(turn: Turn, ticket: Ticket) -> str:
    return turn.t(
        "queue_line",
        ticket=ticket.id,
        priority=ticket.priority,
        category=ticket.category.path if ticket.category else "—",
        branch=ticket.branch.name if ticket.branch else "—",
        reporter=ticket.reporter.name,
        title=ticket.title,
        created=turn.local(ticket.created_at),
    )


def cmd_queue(turn: Turn, command: Command) -> None:
    queue = tickets.team_queue(session=turn.session, person=turn.person)
    if not queue:
        turn.say("queue_empty")
        return
    turn.say("queue_list", count=len(queue), lines="\n".join(_line(turn, t) for t in queue),
             buttons=tuple(Button(turn.t("btn_claim_n", ticket=t.id), f"/claim {t.id}") for t in queue[:5]))


def cmd_mine(turn: Turn, command: Command) -> None:
    mine = tickets.assigned_to(session=turn.session, person=turn.person)
    if not mine:
        turn.say("mine_empty")
        return
    turn.say("mine_list", count=len(mine), lines="\n".join(_line(turn, t) for t in mine))


def cmd_claim(turn: Turn, command: Command) -> None:
    if command.ticket is None:
        turn.say("need_ticket_number", command="接单")
        return
    ticket = tickets.claim(session=turn.session, ticket_id=command.ticket, engineer=turn.person, now=turn.now)
    minutes = int((turn.now - ticket.created_at).total_seconds() // 60)
    turn.say("claim_ok", ticket=ticket.id, minutes=minutes, reporter=ticket.reporter.name,
             branch=ticket.branch.name if ticket.branch else "—", title=ticket.title)


def cmd_resolve(turn: Turn, command: Command) -> None:
    if command.ticket is None:
        turn.say("need_ticket_number", command="解决")
        return
    if not command.rest:
        turn.say("resolve_needs_summary", ticket=command.ticket)
        return
    ticket = tickets.resolve(session=turn.session, ticket_id=command.ticket, engineer=turn.person,
                             summary=command.rest, now=turn.now)
    turn.say("resolve_ok", ticket=ticket.id, reporter=ticket.reporter.name)


def cmd_show(turn: Turn, command: Command) -> None:
    if command.ticket is None:
        turn.say("need_ticket_number", command="查看")
        return
    ticket = tickets.visible_to_staff(session=turn.session, ticket_id=command.ticket, person=turn.person)
    events = tickets.timeline(session=turn.session, ticket_id=ticket.id)
    lines = "\n".join(
        turn.t("timeline_line", at=turn.local(e.at), what=turn.t(f"event_{e.kind}"),
               body=f" {e.body}" if e.body else "")
        for e in events
    )
    turn.say("show_ticket", ticket=ticket.id, priority=ticket.priority,
             status=turn.t(f"status_{ticket.status}"),
             assignee=ticket.assignee.name if ticket.assignee else turn.t("nobody"),
             branch=ticket.branch.name if ticket.branch else "—", reporter=ticket.reporter.name,
             category=ticket.category.path if ticket.category else "—", description=ticket.description,
             lines=lines, url=f"{turn.engine.public_url}/tickets/{ticket.id}")
