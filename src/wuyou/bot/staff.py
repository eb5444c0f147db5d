"""The engineer's side: queue, claim, mine, show, resolve, and turning solved tickets into KB articles."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from wuyou.bot import incidents, solutions
from wuyou.bot.commands import BY_NAME, Command
from wuyou.bot.messages import Button
from wuyou.desk import attachments, sla, ticket_pages, tickets
from wuyou.desk.hours import ALWAYS
from wuyou.desk.models import Person, SlaClock, Ticket, TicketEvent
from wuyou.desk.timeline import notify, said
from wuyou.kb import articles
from wuyou.kb.errors import ArticleExists

if TYPE_CHECKING:
    from wuyou.bot.engine import Turn


def _line(turn: Turn, ticket: Ticket, due: tuple[datetime, bool] | None = None, kind: str = "response") -> str:
    """One ticket of a list, with when its clock (`kind`) runs out — or that it has, or that it waits on the
    reporter, or is on hold."""
    if ticket.status == "waiting":
        clock = turn.t("line_waiting")
    elif ticket.status == "on_hold":
        clock = turn.t("line_on_hold", until=turn.local(ticket.hold_until), reason=ticket.hold_reason or "")
    elif due is None:
        clock = ""
    else:
        clock = turn.t(f"line_{kind}_breached" if due[1] else f"line_{kind}_due", due=turn.local(due[0]))
    return turn.t(
        "queue_line",
        ticket=ticket.id,
        priority=ticket.priority,
        category=ticket.category.path if ticket.category else turn.t("category_none"),
        branch=ticket.branch.name if ticket.branch else "—",
        reporter=ticket.reporter.name,
        title=ticket.title,
        created=turn.local(ticket.created_at),
        clock=clock,
    )


def cmd_queue(turn: Turn, command: Command) -> None:
    queue = tickets.team_queue(session=turn.session, person=turn.person)
    if not queue:
        turn.say("queue_empty")
        return
    due = sla.dues(session=turn.session, ticket_ids=[t.id for t in queue], kind="response")
    turn.say("queue_list", count=len(queue), lines="\n".join(_line(turn, t, due.get(t.id)) for t in queue),
             buttons=tuple(Button(turn.t("btn_claim_n", ticket=t.id), f"/claim {t.id}") for t in queue[:5]))


def cmd_mine(turn: Turn, command: Command) -> None:
    mine = tickets.assigned_to(session=turn.session, person=turn.person)
    if not mine:
        turn.say("mine_empty")
        return
    due = sla.dues(session=turn.session, ticket_ids=[t.id for t in mine], kind="resolution")
    turn.say("mine_list", count=len(mine),
             lines="\n".join(_line(turn, t, due.get(t.id), "resolution") for t in mine))


def contact(turn: Turn, ticket: Ticket) -> str:
    """Where the branch is and whom to call, for an engineer going on site ("" when the org file has neither)."""
    branch, reporter = ticket.branch, ticket.reporter
    parts = [turn.t("contact_address", address=branch.address) if branch and branch.address else "",
             turn.t("contact_branch_phone", phone=branch.phone) if branch and branch.phone else "",
             turn.t("contact_reporter_phone", name=reporter.name, phone=reporter.phone) if reporter.phone else ""]
    shown = " · ".join(p for p in parts if p)
    return "\n" + shown if shown else ""


def _all_outside(turn: Turn, clock: SlaClock) -> bool:
    """A stopped clock that used none of its hours though time went by: it all happened out of hours (a claim a
    few seconds after a report at night said "响应用时 1 分钟", its timeline 未用工作时间)."""
    return not clock.consumed_seconds and sla.no_hours_between(session=turn.session, clock=clock,
                                                               start=clock.started_at, end=turn.now)


def cmd_claim(turn: Turn, command: Command) -> None:
    if command.ticket is None:
        turn.say("need_ticket_number", command="接单")
        return
    ticket = tickets.claim(session=turn.session, ticket_id=command.ticket, engineer=turn.person, now=turn.now)
    minutes = sla.minutes_begun((turn.now - tickets.asked_at(session=turn.session, ticket=ticket)).total_seconds())
    response = sla.last_stopped(session=turn.session, ticket_id=ticket.id, kind="response")
    # Taken out of the clock's hours: the minutes are the reporter's wait, but none of the SLA's time.
    outside = response is not None and _all_outside(turn, response)
    over = response.consumed_seconds - response.target_seconds if response is not None and response.met is False \
        else 0
    clock = next(iter(sla.active(session=turn.session, ticket_id=ticket.id, kind="resolution")), None)
    due = clock.due_at if clock is not None else None
    warn = clock.warn_at if clock is not None and clock.warned_at is None else None
    turn.say("claim_ok", ticket=ticket.id, minutes=minutes, reporter=ticket.reporter.name,
             outside=turn.t("claim_outside_hours") if outside else "",
             late=turn.t("claim_late", over=sla.minutes_begun(over)) if over > 0 else "",
             branch=ticket.branch.name if ticket.branch else "—", contact=contact(turn, ticket),
             said=said(ticket) or ticket.title, due=turn.local(due),
             warn=turn.t("claim_warn", at=turn.local(warn)) if warn is not None and warn > turn.now else "")


def answer_page(turn: Turn, text: str) -> bool:
    """"收到" from someone paged for a P1 ticket (and for no incident, whose page comes first): they take the
    ticket, as 接单 N would."""
    if turn.person.role == "reporter" or not incidents.acknowledges(text) or incidents.paged_for(turn) is not None:
        return False
    page = ticket_pages.open_page(session=turn.session, person=turn.person)
    if page is None:
        return False
    cmd_claim(turn, Command(BY_NAME["claim"], page.ticket_id, ""))
    return True


def cmd_resolve(turn: Turn, command: Command) -> None:
    if command.ticket is None:
        turn.say("need_ticket_number", command="解决")
        return
    if not command.rest:
        turn.say("resolve_needs_summary", ticket=command.ticket)
        return
    ticket, linked = solutions.resolve(session=turn.session, ticket_id=command.ticket, engineer=turn.person,
                                       summary=command.rest, now=turn.now)
    clock = sla.last_stopped(session=turn.session, ticket_id=ticket.id, kind="resolution")
    took = "" if clock is None or clock.met is None else "\n" + turn.t(
        "resolve_took_none" if _all_outside(turn, clock)  # (not "1 分钟（按工作时间）")
        else "resolve_took_always" if clock.hours == ALWAYS else "resolve_took",  # (a P1: 7×24, not 工作时间)
        took=duration(turn, clock.consumed_seconds // 60 if clock.consumed_seconds >= 3600
                      else max(1, sla.minutes_begun(clock.consumed_seconds))),
        verdict=turn.t("sla_in_time" if clock.met else "sla_late"))
    if linked:
        turn.say("resolve_ok_linked", ticket=ticket.id, reporter=ticket.reporter.name, articles="、".join(linked),
                 took=took)
    else:
        turn.say("resolve_ok", ticket=ticket.id, reporter=ticket.reporter.name, took=took,
                 buttons=(Button(turn.t("btn_draft"), f"/draft {ticket.id}"),))


_CLOCK_MECHANICS = ("sla_start", "sla_pause", "sla_resume")


def duration(turn: Turn, minutes: int) -> str:
    """Minutes as people say them: 35 分钟, 6 小时 4 分."""
    return minutes_said(turn.t, minutes)


def minutes_said(t: Callable[..., str], minutes: int) -> str:
    return t("duration_hm", hours=minutes // 60, minutes=minutes % 60) if minutes >= 60 else \
        t("duration_m", minutes=minutes)


def _event_body(turn: Turn, event: TicketEvent, files: dict[int | None, list[str]], *, text: bool = True) -> str:
    """What follows an event's name on the timeline: its text (unless not `text`) and the names of the files that
    came with it (`files`: by event), or for SLA events which clock and how long. The report without its text is
    still who made it and how (报修 张三（微信公众号）)."""
    if not text and event.kind == "created":
        reporter = turn.session.get(Person, event.actor_id) if event.actor_id else None
        shown = (f" {reporter.name}" if reporter is not None else "") + _reported(turn.t, event.data or {})
    else:
        shown = _event_text(turn, event) if text else ""
    return shown + "".join(f" 📎 {name}" for name in files.get(event.id, ()))


def _event_text(turn: Turn, event: TicketEvent) -> str:
    return event_text(turn.session, event, t=turn.t, local=turn.local)


def event_text(session: Session, event: TicketEvent, *, t: Callable[..., str],
               local: Callable[[datetime | None], str]) -> str:
    """What follows an event's name on a timeline, in chat and on the ticket's page: who (by name) and what they
    said, or for SLA events which clock and how long (`t`: the reader's catalogue, `local`: the desk's clock)."""
    clock = event.data.get("clock") if event.data else None
    if event.kind.startswith("sla_") and clock:
        used = event.data.get("used_minutes")
        what = t(f"sla_clock_{clock}")
        if used is None:
            return f" {what}"
        # (working time: a ticket answered out of hours used none of it, which "用时 0 分钟" would hide)
        return f" {what}" + (t("sla_used", took=minutes_said(t, used)) if used else t("sla_used_none"))
    if event.kind in ("sla_start", "sla_recalculated") and event.data:  # when each clock falls due (again)
        return "".join(f" {t(f'show_{kind}_due', due=local(datetime.fromisoformat(event.data[kind])))}"
                       for kind in ("response", "resolution") if event.data.get(kind))
    answered = event.data.get("chase_answered_minutes") if event.data else None
    until = event.data.get("until") if event.kind == "held" and event.data else None
    actor = session.get(Person, event.actor_id) if event.actor_id else None
    who = f" {actor.name}" if actor is not None else ""  # 接单 李伟, 评分 张三 …
    if actor is not None and event.body and event.body.startswith(f"{actor.name}："):
        who = ""  # (its text names them already: 王琳：打印机卡纸了)
    if event.kind == "chased" and event.data and event.data.get("count"):
        return who + t("chase_nth", count=event.data["count"])
    if event.kind == "rated" and event.data and event.data.get("score"):
        return f"{who} {event.data['score']} ⭐" + (f" {event.body}" if event.body else "")
    if event.kind == "created" and event.data:  # 报修 张三（微信公众号 · 推荐过 KB-P001 没解决）：…
        who += _reported(t, event.data)
    return (who + (("：" if who else " ") + event.body if event.body else "")
            + (t("held_until", until=local(datetime.fromisoformat(until))) if until else "")
            + (t("chase_answered", minutes=answered) if answered is not None else ""))


def _reported(t: Callable[..., str], data: dict[str, Any]) -> str:
    """How a ticket came in: the channel, and the articles the reporter was offered first and that did not help."""
    channel = str(data.get("channel") or "")
    try:
        via = t(f"platform_{channel}") if channel else ""
    except KeyError:  # (a channel with no name of its own: the API, a test)
        via = channel
    tried = [str(a) for a in data.get("kb_offered") or []]
    parts = [via, t("created_tried", articles="、".join(tried)) if tried else ""]
    shown = " · ".join(p for p in parts if p)
    return t("created_how", how=shown) if shown else ""


def cmd_show(turn: Turn, command: Command) -> None:
    if command.ticket is None and re.match(r"^INC-?\d+$", command.rest.strip(), re.I):
        incidents.cmd_incident(turn, Command(command.spec, None, f"{command.rest.strip()} show"))
        return
    if command.ticket is None:
        turn.say("need_ticket_number", command="查看")
        return
    ticket = tickets.visible_to_staff(session=turn.session, ticket_id=command.ticket, person=turn.person)
    events = tickets.timeline(session=turn.session, ticket_id=ticket.id)
    files: dict[int | None, list[str]] = {}
    for kept in attachments.of_ticket(session=turn.session, ticket_id=ticket.id):
        files.setdefault(kept.event_id, []).append(kept.name)
    # Staff see internal notes and what the SLA clocks did (warned, breached, met); the clocks' mechanics (started,
    # paused, resumed: the question asked or the hold shows why) are on the ticket's page, not in a chat answer.
    lines = "\n".join(
        turn.t("timeline_line", at=turn.local(e.at), what=turn.t(f"event_{e.kind}"),
               body=_event_body(turn, e, files, text=not (e.kind == "created" and e.body == ticket.description)))
        for e in events if e.kind not in _CLOCK_MECHANICS
    )
    clocks = {c.kind: c for c in sla.active(session=turn.session, ticket_id=ticket.id)}
    paused = turn.t("show_paused_hold", until=turn.local(ticket.hold_until)) if ticket.status == "on_hold" \
        else turn.t("show_paused")
    parts = [turn.t(f"show_{kind}_due", due=turn.local(c.due_at)) if c.due_at else paused
             for kind, c in clocks.items()]
    following = tickets.reporter_side(session=turn.session, ticket=ticket)[1:]  # reported it again, or merged in
    turn.say("show_ticket", ticket=ticket.id, priority=ticket.priority, sla=" · ".join(parts) or "—",
             followers=turn.t("show_followers", names="、".join(p.name for p in following)) if following else "",
             status=turn.t(f"status_{ticket.status}")
             + (turn.t("show_reopens", count=ticket.reopen_count) if ticket.reopen_count else ""),
             assignee=ticket.assignee.name if ticket.assignee else turn.t("nobody"),
             branch=ticket.branch.name if ticket.branch else "—", reporter=ticket.reporter.name,
             contact=contact(turn, ticket),
             category=ticket.category.path if ticket.category else turn.t("category_none"),
             description=ticket.description,
             lines=lines, url=f"{turn.engine.public_url}/tickets/{ticket.id}")


def cmd_draft(turn: Turn, command: Command) -> None:
    """A KB article draft from a resolved ticket: its wording as the symptoms, the resolution as the steps."""
    if command.ticket is None:
        turn.say("need_ticket_number", command="转知识")
        return
    ticket = tickets.visible_to_staff(session=turn.session, ticket_id=command.ticket, person=turn.person)
    if not ticket.resolution:
        turn.say("draft_needs_resolution", ticket=ticket.id)
        return
    article_id = f"KB-T{ticket.id}"
    existing = articles.get_doc(session=turn.session, article_id=article_id)
    if existing is not None and existing.status != "published":
        # Drafted before (the resolution's button, then the rating's): rewritten, it lost what the lead had edited
        # in the console; archived, it was said to be published.
        turn.say(f"draft_{existing.status}", article=article_id,
                 url=f"{turn.engine.public_url}/console/kb/{article_id}")
        return
    try:
        articles.save_draft(
            session=turn.session, article_id=article_id, title=ticket.title,
            category=ticket.category.path if ticket.category else "", symptoms=ticket.description,
            steps=ticket.resolution, source=f"ticket {ticket.id}", now=turn.now,
        )
    except ArticleExists:
        turn.say("draft_exists", article=article_id)
        return
    event = tickets.add_event(session=turn.session, ticket=ticket, kind="kb_drafted", now=turn.now,
                              actor=turn.person, body=article_id)
    # The team's lead publishes it: told it waits for review (it waited unseen until someone said so).
    lead = turn.session.get(Person, ticket.team.lead_id) if ticket.team is not None and ticket.team.lead_id else None
    if lead is not None and lead.active and lead.id != turn.person.id:
        notify(session=turn.session, event=event, ticket=ticket, people=[lead], template="kb_draft_for_review",
               now=turn.now, extra={"by": turn.person.name, "article": article_id, "article_path": f"/kb/{article_id}"},
               buttons=[{"label_key": "btn_publish", "action": f"/publish {article_id}"}])
    turn.say("draft_ok", ticket=ticket.id, article=article_id, url=f"{turn.engine.public_url}/kb/{article_id}")


def cmd_publish(turn: Turn, command: Command) -> None:
    """Publish a draft so that the bot suggests it (leads and admins)."""
    article_id = command.rest.split()[0] if command.rest.strip() else ""
    if not article_id:
        turn.say("publish_needs_id")
        return
    if turn.person.role not in ("lead", "admin"):
        turn.say("publish_forbidden")
        return
    doc = articles.publish(session=turn.session, article_id=article_id, now=turn.now)
    if doc is None:
        turn.say("article_not_found", article=article_id)
        return
    turn.say("publish_ok", article=doc.id, title=doc.title)

