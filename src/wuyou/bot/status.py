"""The reporter's questions about their tickets: status ("进度", "#1024 怎么样了", "还要多久"), impatience
("能不能快点 等半天了": the ticket under way is chased), and either in the middle of the ticket dialogue (answered,
and the dialogue waits)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from wuyou.bot import following
from wuyou.bot.commands import BY_NAME, Command
from wuyou.bot.messages import Button
from wuyou.desk import sla, ticket_pages, tickets
from wuyou.desk.models import Attachment, Person, Ticket
from wuyou.kb.text import normalise, says_fault

if TYPE_CHECKING:
    from wuyou.bot.engine import Turn

_STATUS = re.compile(r"(进度|怎么样了|修好没|好了没|到哪了|我的单子|单子呢|处理得?怎么样|"
                     r"还要(等)?多久|要等多久|大概多久|什么时候(能|才能)?(来|到|好|修好|弄好|处理)|"
                     r"what.?s the status|what is the status|status of my|where is my (ticket|request)|how long|"
                     r"any update)", re.I)
# Impatience about a ticket under way ("能不能快点啊 等半天了"): with one open, it is chased (催单) as if asked.
_IMPATIENT = re.compile(r"快点|快一点|能不能快|抓紧|"
                        r"等(了)?(半天|好久|很久|老半天|一上午|一下午|一天|[一两三四五几]个?多?小时)|"
                        r"怎么还没(有)?(人|来|好|修|处理|动静|回复|消息|接单)|还没人(来|管|理|处理|接)|"
                        r"没人(来|管|理|处理|接单)|\b(hurry|still waiting)\b", re.I)
_NUMBER = re.compile(r"#\s*(\d{1,9})")
GROUP_STATUS_WITHIN = timedelta(days=30)  # a group's open tickets `进度` lists, asked in the group


def asks_status(text: str) -> bool:
    """A question about how the reporter's tickets are getting on."""
    return bool(_STATUS.search(text))


def impatient(text: str) -> bool:
    """Impatience about the wait ("能不能快点 等半天了"), not a fault that takes long ("打开系统要等好久")."""
    return bool(_IMPATIENT.search(text)) and not says_fault(normalise(text))


def chase_in_words(turn: Turn, text: str) -> bool:
    """"能不能快点 等半天了" with a ticket under way (reported or followed): chase the one it names (#1024), or the only
    one; with several, ask which (a number chases it). False when nothing is under way: then it is a report."""
    mine = tickets.under_way(session=turn.session, person=turn.person)
    number = named(text)
    if number is not None:
        mine = [t for t in mine if t.id == number] or mine
    if not mine:
        return False
    if len(mine) == 1:
        following.cmd_chase(turn, Command(BY_NAME["chase"], mine[0].id, ""))
        return True
    turn.dialogue.choices = [f"/chase {t.id}" for t in mine[:9]]
    turn.say("chase_which", lines="\n".join(f"{i}. #{t.id} {t.title}" for i, t in enumerate(mine[:9], 1)),
             buttons=tuple(Button(f"#{t.id}", str(i)) for i, t in enumerate(mine[:9], 1)))
    return True


def aside(turn: Turn, text: str) -> bool:
    """A question about the reporter's tickets in the middle of the ticket dialogue ("#1002 怎么样了", "进度"): it is
    answered, and the dialogue waits where it was."""
    if text.isdigit() or not (asks_status(text) or impatient(text)):
        return False
    # Nothing to show (a resolved ticket waiting for their word is shown; only what is unfinished is chased): this
    # report is their first — answered as such, not taken into its description.
    if asks_status(text):
        shown = tickets.reported_by(session=turn.session, reporter=turn.person) or \
            tickets.followed_by(session=turn.session, person=turn.person)
    else:
        shown = tickets.under_way(session=turn.session, person=turn.person)
    if not shown:
        turn.say("status_while_filing")
        return True
    dialogue = turn.dialogue
    answer_in_passing(turn, text)
    dialogue.choices = turn.dialogue.choices
    turn.dialogue = dialogue
    if not dialogue.choices:  # (a question of its own asked first: which ticket to chase)
        turn.say("dialogue_goes_on")
    return True


def in_passing(text: str) -> bool:
    """A short question how things stand, or impatience, said while the bot waits for another answer."""
    return not text.isdigit() and len(text) <= 30 and (asks_status(text) or impatient(text))


def answer_in_passing(turn: Turn, text: str) -> None:
    """Answer `in_passing` words: the status (of the ticket they name), or a chase of the ticket under way."""
    if asks_status(text):
        cmd_status(turn, None, only=named(text))
    elif not chase_in_words(turn, text):
        cmd_status(turn, None)


def named(text: str) -> int | None:
    """The ticket number a message names ("#1024 怎么样了")."""
    found = _NUMBER.search(text)
    return int(found.group(1)) if found else None


def cmd_status(turn: Turn, command: Command | None, *, only: int | None = None) -> None:
    """The reporter's unfinished tickets, then those they follow (reported in their group by someone else, or a
    duplicate of theirs merged into); asked in a group chat, also the group's other open tickets. `only`: the one
    of them a question named ("#1024 怎么样了"), when it is one of them."""
    followed = tickets.followed_by(session=turn.session, person=turn.person)
    shown = [*tickets.reported_by(session=turn.session, reporter=turn.person), *followed]
    own = len(shown)
    chat = turn.inbound.chat
    if chat.kind != "direct" and chat.id:
        shown += [t for t in tickets.open_in_chat(session=turn.session, channel=turn.inbound.platform, chat_id=chat.id,
                                                  since=turn.now - GROUP_STATUS_WITHIN) if t not in shown]
    named = [t for t in shown if t.id == only]
    if only is not None and not named:  # another's ticket, or a number mistyped: said, before their own
        turn.say("not_your_ticket_none" if not shown else "status_not_named", ticket=only)
        if not shown:
            return
    if not shown:
        turn.say("status_none")
        return
    follows = {t.id for t in followed}
    # The one resolved ticket "is it fixed?" waits on: said in words, as a bare 1 might be read as the list's 1.
    awaiting = tickets.awaiting_reporter(session=turn.session, reporter=turn.person)
    asking = awaiting.id if awaiting is not None and awaiting.confirmed_at is None else None
    lines = [_status_line(turn, i, t, followed=t.id in follows, asking=t.id == asking)
             for i, t in enumerate(named or shown, 1)]
    # (not one chased in the last half hour — 催单 would be refused —, nor one of an open major incident)
    chaseable = next(iter(following.chaseable(turn, named or shown)), None)
    if chaseable is not None:
        lines.append(turn.t("status_chase_hint", ticket=chaseable.id))  # (conversations/05 row 2)
    key = "status_one" if named else "status_list" if own == len(shown) else \
        "status_list_group" if own else "status_list_group_only"  # (the group's others are not "yours")
    turn.say(key, count=len(shown), own=own, lines="\n".join(lines))


def _status_line(turn: Turn, index: int, ticket: Ticket, *, followed: bool = False, asking: bool = False) -> str:
    """One ticket as its reporter sees it: state in their words, who has it, what it waits for, when it is due."""
    who = turn.t("status_engineer", name=ticket.assignee.name) if ticket.assignee else (
        turn.t("status_team", team=ticket.team.name) if ticket.team else "")
    if ticket.status == "waiting":
        asked = next((e for e in reversed(tickets.timeline(session=turn.session, ticket_id=ticket.id,
                                                            public_only=True)) if e.kind == "asked"), None)
        if asked is not None:
            who += turn.t("status_question", question=asked.body or "")
    if asking:
        who += turn.t("status_confirm_hint")
    if ticket.status == "on_hold":
        who += turn.t("status_hold", reason=ticket.hold_reason or "—", until=turn.local(ticket.hold_until))
    if ticket.status in ("claimed", "in_progress", "reopened"):
        who += _latest(turn, ticket)
    major = following.incident_said(turn, ticket) if ticket.status not in ("resolved", "closed", "cancelled") else ""
    due = sla.due(session=turn.session, ticket_id=ticket.id, kind="resolution")
    if major:  # (its own due time means nothing while the incident is worked: the incident's news does)
        who += major
    elif due is not None and ticket.status not in ("resolved", "waiting", "on_hold"):
        # (past it, "预计 11:42 前解决" at 14:10 is a promise already broken: said as such)
        who += turn.t("status_due" if due > turn.now else "status_overdue", due=turn.local(due))
    title = ticket.title + (turn.t("follows_mark", ticket=ticket.follows_id) if ticket.follows_id else "")
    if ticket.reporter_id != turn.person.id:
        title += turn.t("followed_mark" if followed else "group_mark", reporter=ticket.reporter.name)
    return turn.t("status_line", index=index, ticket=ticket.id, title=title,
                  created=turn.local(ticket.created_at), status=in_words(turn, ticket), who=who)


_NEWS = ("info_added", "comment", "chased")  # what happened lately that the reporter cares to see in a status


def _latest(turn: Turn, ticket: Ticket) -> str:
    """The latest thing that happened to the ticket that its reporter saw or did (conversations/05 row 2: "09:43 您补
    了照片"): what they added, the engineer's answer, their chase — or nothing."""
    event = next((e for e in reversed(tickets.timeline(session=turn.session, ticket_id=ticket.id, public_only=True))
                  if e.kind in _NEWS), None)
    if event is None:
        return ""
    mine = event.actor_id == turn.person.id
    body = (event.body or "").strip().replace("\n", " ")
    short = body if len(body) <= 16 else body[:15] + "…"
    if event.kind == "info_added":
        key = "status_news_added" if short else "status_news_" + _sent(turn, event.id)
        if not mine:
            key += "_by"
    elif event.kind == "comment":
        key = "status_news_comment"
    else:
        key = "status_news_chased" if mine else "status_news_chased_by"
    actor = turn.session.get(Person, event.actor_id) if event.actor_id else None
    return turn.t(key, at=turn.local(event.at), said=short, name=actor.name if actor is not None else "")


def _sent(turn: Turn, event_id: int) -> str:
    """What an addition without words carried: photos, a voice message, or files (a log, a document)."""
    kinds = set(turn.session.scalars(select(Attachment.kind).where(Attachment.event_id == event_id)))
    return "attached" if kinds <= {"image"} else "voice" if kinds == {"voice"} else "files"


def in_words(turn: Turn, ticket: Ticket) -> str:
    """A ticket's state as its reporter is told it (处理中 / 等您回复 …): a reopened ticket nobody holds (its engineer
    left the team or is on leave) waits for someone to take it, it is not being worked on."""
    queued = ticket.status == "reopened" and ticket.assignee is None
    if ticket.assignee is None and ticket.priority == ticket_pages.PAGED_PRIORITY \
            and ticket_pages.paging(session=turn.session, ticket_id=ticket.id) is not None:
        return turn.t("reporter_status_paged")  # (a P1 out of hours: someone on call is being called now)
    return turn.t("reporter_status_reopened_queue" if queued else f"reporter_status_{ticket.status}")
