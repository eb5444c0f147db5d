"""Engineer commands for working a ticket: release, note, ask, reply, hold, transfer, priority, category, merge."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from wuyou.bot import when
from wuyou.bot.commands import Command
from wuyou.bot.messages import Button
from wuyou.desk import holds, replies, sla, tickets, working
from wuyou.desk.errors import NotServing
from wuyou.desk.org import PRIORITIES, find_leaf, leaf_categories
from wuyou.desk.routing import route_team
from wuyou.desk.scope import ticket_for_staff

if TYPE_CHECKING:
    from wuyou.bot.engine import Turn


def _number(turn: Turn, command: Command, zh: str) -> int | None:
    if command.ticket is None:
        turn.say("need_ticket_number", command=zh)
    return command.ticket


def cmd_release(turn: Turn, command: Command) -> None:
    if (number := _number(turn, command, "退单")) is None:
        return
    working.release(session=turn.session, ticket_id=number, person=turn.person, now=turn.now, reason=command.rest)
    turn.say("release_ok", ticket=number)


def cmd_note(turn: Turn, command: Command) -> None:
    if (number := _number(turn, command, "备注")) is None:
        return
    if not command.rest:
        turn.say("needs_text", command=f"备注 {number}")
        return
    _, told = working.note(session=turn.session, ticket_id=number, person=turn.person, text=command.rest,
                           now=turn.now)
    turn.say("note_ok", ticket=number, told=turn.t("note_told", names="、".join(p.name for p in told)) if told else "")


def cmd_ask(turn: Turn, command: Command) -> None:
    if (number := _number(turn, command, "追问")) is None:
        return
    if not command.rest:
        turn.say("needs_text", command=f"追问 {number}")
        return
    ticket = working.ask(session=turn.session, ticket_id=number, person=turn.person, question=command.rest,
                         now=turn.now)
    turn.say("ask_ok", ticket=number, reporter=ticket.reporter.name)


_TOMORROW = re.compile(r"明天|明早|明晚|明儿|tomorrow", re.I)


def cmd_hold(turn: Turn, command: Command) -> None:
    """`挂起 N 等厂商上门 到 明天 10:00`: on hold until then (without a time, until the branch opens next day)."""
    if (number := _number(turn, command, "挂起")) is None:
        return
    found = when.until(command.rest, now=turn.now, tz=turn.engine.tz)
    reason = found.rest if found is not None else command.rest.strip()
    if not reason:
        turn.say("hold_usage", ticket=number)
        return
    ticket = holds.hold(session=turn.session, ticket_id=number, person=turn.person, reason=reason,
                        until=found.moment if found is not None else None, now=turn.now)
    due = sla.due(session=turn.session, ticket_id=number, kind="resolution")
    until = turn.local(ticket.hold_until)
    if found is not None and _TOMORROW.search(command.rest) and ticket.hold_until is not None \
            and ticket.hold_until.astimezone(turn.engine.tz).date() == turn.now.astimezone(turn.engine.tz).date():
        until = turn.t("hold_until_today", time=until)  # 明天 said after midnight: the day about to begin, said so
    turn.say("hold_ok", ticket=number, until=until, reporter=ticket.reporter.name,
             clock=turn.t("hold_clock_paused") if due is None else turn.t("hold_clock_runs", due=turn.local(due)),
             when_note=turn.t("hold_default_note", ticket=number) if found is None else "")


def cmd_resume(turn: Turn, command: Command) -> None:
    if (number := _number(turn, command, "恢复处理")) is None:
        return
    holds.unhold(session=turn.session, ticket_id=number, person=turn.person, now=turn.now)
    turn.say("resume_ok", ticket=number)


def cmd_replies(turn: Turn, command: Command) -> None:
    """`常用语`: the canned replies this engineer may use, by name, with the start of each."""
    found = replies.available(session=turn.session, person=turn.person)
    if not found:
        turn.say("replies_none")
        return
    lines = "\n".join(turn.t("replies_line", name=r.name, text=r.text if len(r.text) <= 40 else r.text[:40] + "…")
                      for r in found)
    turn.say("replies_list", lines=lines)


def cmd_reply(turn: Turn, command: Command) -> None:
    if (number := _number(turn, command, "答复")) is None:
        return
    if not command.rest:
        turn.dialogue.replying_to = number  # the next message is the reply
        turn.say("reply_prompt", ticket=number)
        return
    ticket = working.reply(session=turn.session, ticket_id=number, person=turn.person, text=command.rest,
                           now=turn.now)
    turn.say("reply_ok", ticket=number, reporter=ticket.reporter.name)


def cmd_transfer(turn: Turn, command: Command) -> None:
    if (number := _number(turn, command, "转派")) is None:
        return
    target, _, reason = command.rest.strip().partition(" ")
    if not target:
        _offer_candidates(turn, number, intro=turn.t("transfer_pick"))
        return
    try:
        ticket = working.transfer(session=turn.session, ticket_id=number, person=turn.person, target=target,
                                  now=turn.now, reason=reason.strip())
    except NotServing as exc:
        if exc.reason == "unknown":
            turn.say("transfer_unknown", target=target)
            return
        if exc.reason == "role":
            turn.say("transfer_not_staff", target=exc.target)
            return
        _offer_candidates(turn, number, intro=turn.t("transfer_other_region", target=exc.target, ticket=number,
                                                     teams=exc.teams or "—", branch=exc.branch))
        return
    to = ticket.assignee.name if ticket.assignee else (ticket.team.name if ticket.team else target)
    turn.say("transfer_ok", ticket=number, to=to)


def _offer_candidates(turn: Turn, number: int, *, intro: str) -> None:
    """List who may take the ticket, least loaded first; a number picks one."""
    ticket = ticket_for_staff(session=turn.session, ticket_id=number, person=turn.person)
    options = working.candidates(session=turn.session, ticket=ticket)
    if not options:
        turn.say("transfer_nobody", intro=intro)
        return
    lines = "\n".join(turn.t("candidate_line", index=i, name=c.person.name, team=c.team.name, load=c.load)
                      for i, c in enumerate(options[:9], 1))
    turn.dialogue.choices = [f"/transfer {number} {c.person.id}" for c in options[:9]]
    turn.say("transfer_options", intro=intro, lines=lines,
             buttons=tuple(Button(c.person.name, str(i)) for i, c in enumerate(options[:9], 1)))


def cmd_priority(turn: Turn, command: Command) -> None:
    if (number := _number(turn, command, "优先级")) is None:
        return
    wanted = command.rest.strip().upper()
    if wanted not in PRIORITIES:
        turn.say("priority_pick", ticket=number, priorities="/".join(PRIORITIES))
        return
    working.set_priority(session=turn.session, ticket_id=number, person=turn.person, priority=wanted, now=turn.now)
    turn.say("priority_ok", ticket=number, priority=wanted)


MAX_LISTED = 30  # categories listed in one message; a bigger catalog's others are named ("分类 N 空调")


def cmd_category(turn: Turn, command: Command) -> None:
    """`分类 N 打印机`: put the ticket in that catalog leaf; `分类 N` alone (or a name that fits several) lists them."""
    if (number := _number(turn, command, "分类")) is None:
        return
    ticket_for_staff(session=turn.session, ticket_id=number, person=turn.person)  # not theirs: not found, at once
    wanted = command.rest.strip()
    leaves = leaf_categories(session=turn.session)
    found = leaves if not wanted else find_leaf(session=turn.session, text=wanted)
    if wanted.isdigit() and 1 <= int(wanted) <= len(leaves):
        found = [leaves[int(wanted) - 1]]
    if len(found) != 1:
        options = (found or leaves)[:MAX_LISTED]
        turn.dialogue.choices = [f"/category {number} {leaves.index(c) + 1}" for c in options]
        intro = turn.t("category_unknown", name=wanted) if wanted and not found else ""
        turn.say("category_pick", ticket=number, intro=intro,
                 lines="\n".join(f"{i}. {c.path}" for i, c in enumerate(options, 1)),
                 buttons=tuple(Button(c.path, str(i)) for i, c in enumerate(options[:9], 1)))
        return
    ticket = working.set_category(session=turn.session, ticket_id=number, person=turn.person, category=found[0],
                                  now=turn.now)
    suggested = route_team(session=turn.session, category=found[0], branch=ticket.branch)
    hint = turn.t("category_team_hint", team=suggested.name, code=suggested.code, ticket=number) \
        if suggested is not None and ticket.status in tickets.OPEN_STATUSES and suggested.code != ticket.team_code \
        else ""
    turn.say("category_ok", ticket=number, category=found[0].path, hint=hint)


def cmd_merge(turn: Turn, command: Command) -> None:
    if (number := _number(turn, command, "合并")) is None:
        return
    main = command.rest.strip().lstrip("#").split()[0] if command.rest.strip() else ""
    if not main.isdigit():
        turn.say("merge_needs_main", ticket=number)
        return
    working.merge(session=turn.session, duplicate_id=number, main_id=int(main), person=turn.person, now=turn.now)
    turn.say("merge_ok", duplicate=number, main=int(main))


def cmd_link(turn: Turn, command: Command) -> None:
    """Make ticket N a child of ticket M (one branch's part of a bigger fault)."""
    if (number := _number(turn, command, "关联")) is None:
        return
    parent = command.rest.strip().lstrip("#").split()[0] if command.rest.strip() else ""
    if not parent.isdigit():
        turn.say("link_needs_parent", ticket=number)
        return
    working.link_parent(session=turn.session, child_id=number, parent_id=int(parent), person=turn.person,
                        now=turn.now)
    turn.say("link_ok", child=number, parent=int(parent))
