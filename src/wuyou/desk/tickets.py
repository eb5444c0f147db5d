"""Tickets: open, claim, resolve, confirm, reopen, rate — each step validated, on the timeline and notified.

The lifecycle: new → claimed → in_progress ⇄ waiting (on the reporter) → resolved → closed, plus
reopened, cancelled and merged. `TRANSITIONS` says from which states each action may start;
`require` checks it, so an invalid step is refused the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from wuyou.desk import attachments, bursts, replies, sla, ticket_pages
from wuyou.desk.absences import in_force, present
from wuyou.desk.errors import AlreadyClaimed, Forbidden, InvalidTransition, NotFound
from wuyou.desk.incidents.models import Incident
from wuyou.desk.models import (
    HELD_STATUSES,
    Category,
    Person,
    Team,
    TeamMember,
    Ticket,
    TicketEvent,
    TicketFollower,
)
from wuyou.desk.org import team_members
from wuyou.desk.routing import apply_rules, priority_for, route_team
from wuyou.desk.scope import is_staff, staff_filter, ticket_for_staff
from wuyou.desk.timeline import add_event, notify

__all__ = ["add_event", "is_staff", "notify"]

STATUSES = ("new", "claimed", "in_progress", "waiting", "on_hold", "resolved", "closed", "reopened", "cancelled",
            "merged")
OPEN_STATUSES = ("new", "claimed", "in_progress", "waiting", "on_hold", "reopened")
PAUSED_STATUSES = ("waiting", "on_hold")  # the resolution clock stands still
FINAL_STATUSES = ("closed", "cancelled", "merged")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "claim": ("new", "reopened"),
    "release": HELD_STATUSES,
    "note": (*OPEN_STATUSES, "resolved"),
    "reply": OPEN_STATUSES,
    "ask": ("claimed", "in_progress", "reopened", "waiting", "on_hold"),
    "hold": ("claimed", "in_progress", "reopened", "waiting", "on_hold"),
    "unhold": ("on_hold",),
    "add_info": OPEN_STATUSES,
    "transfer": OPEN_STATUSES,
    "priority": OPEN_STATUSES,
    "category": (*OPEN_STATUSES, "resolved", "closed"),  # the reports count by category: fixed after the fact too
    "merge": OPEN_STATUSES,
    "resolve": HELD_STATUSES,
    "confirm": ("resolved",),
    "rate": ("resolved",),
    "reopen": ("resolved", "closed"),
    "cancel": OPEN_STATUSES,
    "chase": OPEN_STATUSES,
}
TITLE_LEN = 40
LOW_RATING = 2  # a rating this low (or lower) reaches the team lead, and the reporter is asked why


def require(ticket: Ticket, action: str) -> None:
    """Refuse `action` unless the ticket's state allows it."""
    if ticket.status not in TRANSITIONS[action]:
        raise InvalidTransition(ticket.status, action)


# What takes a ticket off first-contact resolution: handed on, given back, or the reporter asked back.
NOT_FIRST_CONTACT = ("transferred", "released", "asked")


def first_contact(*, session: Session, ticket: Ticket, resolver: Person) -> bool:
    """Resolved at first contact (the reports' first-contact resolution): by whoever first took it — its first
    claimer, or the engineer routing assigned it to — never transferred or given back, the reporter never asked back
    (追问), never reopened."""
    if ticket.reopen_count:
        return False
    events = session.execute(select(TicketEvent.kind, TicketEvent.actor_id).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.kind.in_(("claimed", *NOT_FIRST_CONTACT)))
        .order_by(TicketEvent.id)).all()
    if any(kind in NOT_FIRST_CONTACT for kind, _ in events):
        return False
    first = next((actor for kind, actor in events if kind == "claimed"), ticket.assignee_id)
    return first == resolver.id


def reporter_side(*, session: Session, ticket: Ticket) -> list[Person]:
    """Who hears about a ticket's progress: its reporter and the reporters of duplicates merged into it."""
    followers = session.scalars(select(TicketFollower).where(TicketFollower.ticket_id == ticket.id)
                                .order_by(TicketFollower.since, TicketFollower.person_id)).all()
    return [ticket.reporter, *(f.person for f in followers if f.person_id != ticket.reporter_id)]


def tell_reporters(
    *,
    session: Session,
    event: TicketEvent,
    ticket: Ticket,
    template: str,
    now: datetime,
    extra: dict[str, Any] | None = None,
    buttons: Sequence[dict[str, str]] = (),
) -> None:
    """Tell the reporter (with `template` and its buttons) and every follower (a short progress note)."""
    notify(session=session, event=event, ticket=ticket, people=[ticket.reporter], template=template, now=now,
            extra=extra, buttons=buttons)
    followers = reporter_side(session=session, ticket=ticket)[1:]
    if followers:
        actor = session.get(Person, event.actor_id) if event.actor_id else None
        notify(session=session, event=event, ticket=ticket, people=followers, template="follower_update",
                now=now, extra={"what_key": f"event_{event.kind}", "body": event.body or "",
                                "by": f"{actor.name} " if actor is not None else ""})


def open_ticket(
    *,
    session: Session,
    reporter: Person,
    category: Category | None,
    urgency: int,
    description: str,
    channel: str,
    now: datetime,
    chat_id: str | None = None,
    chat_thread: str | None = None,
    kb_offered: Sequence[str] = (),
    title: str | None = None,
    tz: str = sla.DEFAULT_TZ,
    attachment_ids: Sequence[int] = (),
    tell_team: bool = True,
    follows: Ticket | None = None,
    self_helped: tuple[str, datetime] | None = None,
    group_for: timedelta = timedelta(0),
) -> Ticket:
    """Create a ticket, route it (default team and priority, then the routing rules), start its SLA clocks
    and notify the team's engineers (or the engineer a rule assigned). `tell_team=False` for a ticket of an open
    major incident: its responders are on it already, and a storm must not page the team once per branch.
    `follows`: an earlier ticket of the reporter whose problem is back after it could be reopened — the two are
    linked both ways on their timelines, and its engineer is told along with the team. `self_helped`: an article
    the reporter solved a problem with lately, among those offered for this one (on the ticket and its card).
    `group_for`: while an earlier ticket of the category waits unclaimed in the team's queue, the team hears of
    this one on a grouped card held back up to this long (`bursts`; zero: every ticket is announced at once)."""
    team = route_team(session=session, category=category, branch=reporter.branch)
    text = " ".join((title or description).split())
    ticket = Ticket(
        reporter_id=reporter.id,
        branch_code=reporter.branch_code,
        category_id=category.id if category else None,
        priority=priority_for(category=category, urgency=urgency),
        urgency=urgency,
        status="new",
        team_code=team.code if team else None,
        title=text[:TITLE_LEN] or (category.name if category else "—"),
        description=description,
        channel=channel,
        chat_id=chat_id,
        chat_thread=chat_thread if chat_id else None,
        kb_offered=list(kb_offered),
        created_at=now,
        follows_id=follows.id if follows is not None else None,
    )
    session.add(ticket)
    session.flush()
    session.refresh(ticket)
    created = add_event(
        session=session,
        ticket=ticket,
        kind="created",
        now=now,
        actor=reporter,
        body=description,
        data={"channel": channel, "urgency": urgency, "kb_offered": list(kb_offered),
              "attachments": list(attachment_ids),
              **({"self_helped": {"article": self_helped[0], "at": self_helped[1].isoformat()}}
                 if self_helped else {})},
    )
    attachments.link(session=session, ids=attachment_ids, person=reporter, ticket_id=ticket.id, event_id=created.id)
    if follows is not None:
        add_event(session=session, ticket=ticket, kind="follows", now=now, actor=reporter, body=f"#{follows.id}",
                  data={"ticket": follows.id})
        add_event(session=session, ticket=follows, kind="followed_up", now=now, actor=reporter, body=f"#{ticket.id}",
                  data={"ticket": ticket.id}, public=False)
    outcome = apply_rules(session=session, ticket=ticket, now=now, tz=tz)
    if not tell_team:  # a ticket of an open incident: the incident's responders work it, not a rule's assignee
        ticket.assignee = None
    routed = add_event(
        session=session,
        ticket=ticket,
        kind="routed",
        now=now,
        body=ticket.team.name if ticket.team else None,
        data={"team": ticket.team_code, "priority": ticket.priority, "assignee": ticket.assignee_id,
              "tags": ticket.tags, "rules": outcome.matched},
    )
    sla.start(session=session, ticket=ticket, now=now, tz=tz)
    due: dict[str, Any] = sla.due_params(session=session, ticket_id=ticket.id)
    # (the photos or files it came with: the card says so — they were seen only with 查看)
    due |= {"attached_key": "card_attached" if attachment_ids else "", "attached_count": len(attachment_ids)}
    if self_helped:  # the card says so: "上周五按 KB-P001 自助处理过一次"
        due |= {"history_key": "card_self_helped", "history_article": self_helped[0],
                "history_at": self_helped[1].isoformat()}
    claim_button = [{"label_key": "btn_claim", "action": f"/claim {ticket.id}"},
                    {"label_key": "btn_show", "action": f"/show {ticket.id}"}]
    if ticket.assignee is not None:
        notify(session=session, event=routed, ticket=ticket, people=[ticket.assignee], template="ticket_assigned",
               now=now, extra={**due, "by_key": "bot_name", "from_team": "", "reason": "", "late_key": "",
                               "due_line_key": sla.assigned_due_line(due, now)},
               buttons=claim_button)
    elif ticket.team_code is not None and tell_team:
        members = present(team_members(session=session, team_code=ticket.team_code), now)
        first = bursts.first_of_burst(session=session, ticket=ticket, now=now) \
            if follows is None and group_for > timedelta(0) else None
        wait = bursts.wait(now=now, hold=group_for, response_due=datetime.fromisoformat(due["response_due"])
                           if due["response_due"] else None)
        if first is not None and wait > timedelta(0):  # the team knows of this fault: one card for them all
            routed.data = {**routed.data, "grouped_with": first.id}
            # A P1 out of hours is paged on its own even so: the page of the first ticket is that ticket's, which its
            # taker claims alone (this one, not paged, was left to nobody: the lead who took the first never heard
            # of it, its reporter was told engineers would take it as in hours). The one paged has it on no card.
            paged = ticket_pages.start(session=session, ticket=ticket, now=now, tz=tz)
            bursts.hold(session=session, event=routed, ticket=ticket, first=first,
                        people=[p for p in members if paged is None or p.id != paged.id], now=now, send_at=now + wait)
        else:
            # A P1 for a team out of its hours pages its on-call first (the page is that person's card).
            paged = ticket_pages.start(session=session, ticket=ticket, now=now, tz=tz)
            _announce(session, ticket, routed, [p for p in members if paged is None or p.id != paged.id], follows,
                      due, claim_button, now)
    others = [p for p in outcome.notify if p.id != ticket.assignee_id]
    if others:
        notify(session=session, event=routed, ticket=ticket, people=others, template="ticket_rule_notify", now=now,
               extra={**due, "rules": "、".join(outcome.matched)})
    return ticket


def _announce(session: Session, ticket: Ticket, routed: TicketEvent, members: list[Person], follows: Ticket | None,
              due: dict[str, Any], buttons: list[dict[str, str]], now: datetime) -> None:
    """The team's card of a new ticket (a follow-up's also to the engineer of the ticket it follows)."""
    if follows is None:
        notify(session=session, event=routed, ticket=ticket, people=members, template="ticket_new", now=now,
               extra=due, buttons=buttons)
        return
    before = [follows.assignee] if follows.assignee is not None and follows.assignee.active else []
    notify(session=session, event=routed, ticket=ticket, people=[*before, *members],
           template="ticket_new_follow_up", now=now, extra={**due, **_earlier(follows)}, buttons=buttons)


def _earlier(ticket: Ticket) -> dict[str, Any]:
    """What a follow-up's notice says of the ticket it follows."""
    return {"earlier": ticket.id, "earlier_engineer": ticket.assignee.name if ticket.assignee else "—",
            "earlier_summary": ticket.resolution or "—"}


def follow_ups(*, session: Session, ticket_id: int) -> list[Ticket]:
    """The tickets that report this one's problem again (`open_ticket`'s `follows`), oldest first."""
    return list(session.scalars(select(Ticket).where(Ticket.follows_id == ticket_id).order_by(Ticket.id)))


def get_ticket(*, session: Session, ticket_id: int) -> Ticket:
    """The ticket with this number, or NotFound."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"ticket {ticket_id}")
    return ticket


def visible_to_staff(*, session: Session, ticket_id: int, person: Person) -> Ticket:
    """The ticket if this staff member's scope covers it; NotFound otherwise (existence not revealed)."""
    return ticket_for_staff(session=session, ticket_id=ticket_id, person=person)


def asked_at(*, session: Session, ticket: Ticket) -> datetime:
    """When the ticket last asked for an engineer's response: when it was reported, or reopened since."""
    if not ticket.reopen_count:
        return ticket.created_at
    reopened = session.scalar(select(func.max(TicketEvent.at)).where(TicketEvent.ticket_id == ticket.id,
                                                                     TicketEvent.kind == "reopened"))
    return reopened or ticket.created_at


def claim(*, session: Session, ticket_id: int, engineer: Person, now: datetime) -> Ticket:
    """Take an unclaimed ticket — also one assigned to a colleague who has not taken it yet (routing's or a
    transfer's choice, or a reopened ticket back with its engineer): they are told with the team. Exactly one of
    several simultaneous claimers wins."""
    ticket = visible_to_staff(session=session, ticket_id=ticket_id, person=engineer)
    assigned = ticket.assignee_id
    # The conditional update is the arbiter: it succeeds only while nobody holds the ticket.
    result = session.execute(
        update(Ticket)
        .where(
            Ticket.id == ticket_id,
            Ticket.assignee_id.is_(None) | Ticket.claimed_at.is_(None),
            Ticket.status.in_(TRANSITIONS["claim"]),
        )
        .values(assignee_id=engineer.id, status="claimed", claimed_at=now, last_activity_at=now,
                first_claimed_at=func.coalesce(Ticket.first_claimed_at, now))
        .execution_options(synchronize_session=False)
    )
    session.refresh(ticket)
    if getattr(result, "rowcount", 0) != 1:
        if ticket.assignee is not None and ticket.status in OPEN_STATUSES:
            raise AlreadyClaimed(ticket.assignee.name, ticket.claimed_at)
        raise InvalidTransition(ticket.status, "claim")
    response_minutes = sla.minutes_begun((now - asked_at(session=session, ticket=ticket)).total_seconds())
    sla.stop(session=session, ticket=ticket, now=now, kind="response")
    ticket_pages.answered(session=session, ticket=ticket, person=engineer, now=now)
    event = add_event(
        session=session,
        ticket=ticket,
        kind="claimed",
        now=now,
        actor=engineer,
        data={"response_minutes": response_minutes,
              **({"assigned_to": assigned} if assigned is not None and assigned != engineer.id else {})},
    )
    tell_reporters(session=session, event=event, ticket=ticket, template="ticket_claimed", now=now,
                   extra=sla.due_params(session=session, ticket_id=ticket.id))
    unheard = bursts.drop(session=session, ticket=ticket, now=now)  # (its grouped card has not gone out yet)
    if ticket.team_code and not unheard:
        colleagues = [
            p for p in team_members(session=session, team_code=ticket.team_code) if p.id != engineer.id
        ]
        if assigned is not None and assigned != engineer.id and all(p.id != assigned for p in colleagues):
            previous = session.get(Person, assigned)  # assigned from outside the team: told all the same
            colleagues += [previous] if previous is not None else []
        notify(
            session=session,
            event=event,
            ticket=ticket,
            people=colleagues,
            template="ticket_claimed_team",
            now=now,
        )
    # Someone paged for it who is not of the team (the lead, a cover from elsewhere), or whose team has not heard of it
    # yet (a grouped card): told their page is over.
    ticket_pages.withdraw(session=session, ticket=ticket, event=event, by=engineer, why_key="page_off_claimed",
                          now=now)
    return ticket


def resolve(
    *, session: Session, ticket_id: int, engineer: Person, summary: str, now: datetime
) -> Ticket:
    """Mark the ticket resolved with a summary and ask the reporter to confirm. Resolving a ticket given to you that
    you had not taken yet takes it first (its response time is the moment you resolved it)."""
    ticket = visible_to_staff(session=session, ticket_id=ticket_id, person=engineer)
    if ticket.status == "new" and ticket.assignee_id == engineer.id:
        ticket = claim(session=session, ticket_id=ticket_id, engineer=engineer, now=now)
    require(ticket, "resolve")
    if ticket.assignee_id is None:
        raise InvalidTransition(ticket.status, "resolve")
    if ticket.assignee_id != engineer.id and engineer.role == "engineer":
        raise Forbidden("only the assignee or a lead may resolve")
    summary = replies.expand(session=session, ticket=ticket, person=engineer, text=summary)
    mark_resolved(session=session, ticket=ticket, now=now, summary=summary,
                  first=first_contact(session=session, ticket=ticket, resolver=engineer))
    event = add_event(session=session, ticket=ticket, kind="resolved", now=now, actor=engineer, body=summary)
    tell_reporters(
        session=session,
        event=event,
        ticket=ticket,
        template="ticket_resolved",
        now=now,
        extra={"summary": summary, "resolver": engineer.name},
        buttons=confirm_buttons(ticket.id),
    )
    return ticket


def mark_resolved(*, session: Session, ticket: Ticket, now: datetime, summary: str | None,
                  first: bool | None) -> None:
    """The ticket resolved, awaiting its reporter's confirmation: no question or hold left, its SLA clocks stopped
    with their verdicts (an engineer's resolution, the queue care's, an incident's)."""
    ticket.status = "resolved"
    ticket.resolved_at = ticket.last_activity_at = now
    ticket.confirmed_at = ticket.waiting_since = ticket.hold_until = None
    ticket.resolution = summary
    ticket.first_contact = first
    session.flush()
    sla.stop(session=session, ticket=ticket, now=now)
    bursts.drop(session=session, ticket=ticket, now=now)  # a grouped card still held back does not list it


def confirm_buttons(ticket_id: int) -> list[dict[str, str]]:
    """解决了 / 没解决 under a resolution."""
    return [{"label_key": "btn_solved", "action": f"/confirm {ticket_id}"},
            {"label_key": "btn_not_solved", "action": f"/reopen {ticket_id}"}]


REOPEN_WITHIN = timedelta(days=3)


def _own_resolved(session: Session, ticket_id: int, reporter: Person, action: str = "confirm") -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.reporter_id != reporter.id:
        raise NotFound(f"ticket {ticket_id}")
    require(ticket, action)
    return ticket


def comment_rating(*, session: Session, ticket_id: int, reporter: Person, text: str, now: datetime) -> Ticket:
    """What the reporter says of their rating afterwards (asked after a low one): kept with the rating, and its
    engineer (and, for a low rating, the team lead) hear it."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.reporter_id != reporter.id or ticket.rating is None:
        raise NotFound(f"ticket {ticket_id}")
    text = text.strip()[:1000]
    ticket.rating_comment = f"{ticket.rating_comment}\n{text}" if ticket.rating_comment else text
    event = add_event(session=session, ticket=ticket, kind="rating_comment", now=now, actor=reporter, body=text,
                      data={"score": ticket.rating})
    lead = _lead_of(session, ticket) if ticket.rating <= LOW_RATING else None
    resolver = _incident_resolver(session, ticket) or ticket.assignee
    people = [p for p in (resolver, lead) if p is not None]
    notify(session=session, event=event, ticket=ticket, people=people, template="ticket_rating_comment", now=now,
           extra={"score": ticket.rating, "comment": text, "assignee": resolver_name(session, ticket)})
    return ticket


def confirm(*, session: Session, ticket_id: int, reporter: Person, now: datetime) -> Ticket:
    """The reporter confirms the fix; the ticket then waits for a rating."""
    ticket = _own_resolved(session, ticket_id, reporter)
    if ticket.confirmed_at is None:
        ticket.confirmed_at = now
        add_event(session=session, ticket=ticket, kind="confirmed", now=now, actor=reporter)
    return ticket


def reopen(
    *, session: Session, ticket_id: int, reporter: Person, reason: str, now: datetime
) -> Ticket:
    """The reporter says it is not fixed (until `REOPEN_WITHIN` after the resolution): back to the same engineer,
    told what they did last time and the new SLA times, with a 收到 button (claiming it again acknowledges it and
    stops the new response clock). If that engineer has left the team (or the desk), the ticket goes back to the
    team's queue and the team lead is told; the lead is also told of a second reopen and any after it."""
    ticket = _own_resolved(session, ticket_id, reporter, "reopen")
    if not may_reopen(ticket, now=now):
        raise InvalidTransition(ticket.status, "reopen")
    last = {"last_resolved_at": ticket.resolved_at.isoformat() if ticket.resolved_at else "",
            "summary": ticket.resolution or "—"}
    incident = resolved_by_incident(session=session, ticket=ticket)
    ticket.status = "reopened"
    ticket.closed_at = None
    ticket.claimed_at = None  # the assignee acknowledges by claiming again; that stops the new response clock
    ticket.reopen_count += 1
    ticket.resolved_at = None
    ticket.first_contact = None
    ticket.confirmed_at = None
    members = team_members(session=session, team_code=ticket.team_code) if ticket.team_code else []
    lead = session.get(Person, ticket.team.lead_id) if ticket.team is not None and ticket.team.lead_id else None
    engineer = ticket.assignee
    absence = in_force(engineer, now) if engineer is not None else None
    away = absence is not None
    if engineer is not None and (away or not (engineer.active and (ticket.team_code is None or engineer in members
                                                                   or engineer == lead))):
        ticket.assignee = None  # gone, or on leave: the team's queue takes it
    session.flush()
    event = add_event(
        session=session, ticket=ticket, kind="reopened", now=now, actor=reporter, body=reason or None,
        data={"count": ticket.reopen_count, **({"returned_to_queue": engineer.id} if engineer is not None
                                                 and ticket.assignee_id is None else {}),
              **({"incident": incident} if incident is not None else {})},
    )
    sla.restart(session=session, ticket=ticket, now=now)
    extra = {"reason": reason or "", "reason_line_key": "reopened_reason" if reason else "",
             "count": ticket.reopen_count, **last,
             "before": engineer.name if engineer is not None else "—",
             "away_due": absence.ends_at.isoformat() if absence is not None else "",
             "queue_note_key": "reopened_queue_away" if away else "reopened_queue_gone" if engineer is not None
             else "reopened_queue_incident" if incident is not None else "reopened_queue_none",
             "incident_ref": f"INC-{incident}" if incident is not None else "",
             **sla.due_params(session=session, ticket_id=ticket.id)}
    if ticket.assignee is not None:
        notify(session=session, event=event, ticket=ticket, people=[ticket.assignee], template="ticket_reopened",
               now=now, extra=extra, buttons=[{"label_key": "btn_received", "action": f"/claim {ticket.id}"},
                                              {"label_key": "btn_show", "action": f"/show {ticket.id}"}])
    else:
        # (a P1 back in the queue of a team out of its hours pages its on-call, as one given back does: not the one on
        # leave it went back from)
        paged = ticket_pages.start(session=session, ticket=ticket, now=now, passing=engineer)
        notify(session=session, event=event, ticket=ticket,
               people=[p for p in present([m for m in members if m != lead], now) if paged is None or p.id != paged.id],
               template="ticket_reopened_queue", now=now, extra=extra,
               buttons=[{"label_key": "btn_claim", "action": f"/claim {ticket.id}"}])
    # (the incident's commander hears of it from the incident, in its words: not twice when they lead the team too)
    commander = session.scalar(select(Incident.commander_id).where(Incident.id == incident)) if incident else None
    if lead is not None and lead.id != ticket.assignee_id and lead.id != commander \
            and (ticket.assignee is None or ticket.reopen_count > 1):
        notify(session=session, event=event, ticket=ticket, people=[lead], template="ticket_reopened_lead", now=now,
               extra={**extra, "note_key": "reopened_note_again" if ticket.assignee is not None
                      else "reopened_note_away" if away else "reopened_note_gone" if engineer is not None
                      else "reopened_note_incident" if incident is not None else "reopened_note_none"})
    return ticket


def resolved_by_incident(*, session: Session, ticket: Ticket) -> int | None:
    """The number of the major incident whose resolution resolved the ticket last, if one did."""
    data = session.scalar(select(TicketEvent.data).where(TicketEvent.ticket_id == ticket.id,
                                                         TicketEvent.kind == "resolved")
                          .order_by(TicketEvent.id.desc()).limit(1))
    found = (data or {}).get("incident")
    return int(found) if found else None


def returned_to_queue(*, session: Session, ticket: Ticket) -> Person | None:
    """The engineer a reopened ticket was taken from (gone from the team, or on leave), if its last reopening did."""
    data = session.scalar(select(TicketEvent.data).where(TicketEvent.ticket_id == ticket.id,
                                                         TicketEvent.kind == "reopened")
                          .order_by(TicketEvent.id.desc()).limit(1))
    before = (data or {}).get("returned_to_queue")
    return session.get(Person, before) if before else None


def _lead_of(session: Session, ticket: Ticket) -> Person | None:
    """The lead of the ticket's team, unless they are its engineer."""
    team = session.get(Team, ticket.team_code) if ticket.team_code else None
    lead = session.get(Person, team.lead_id) if team is not None and team.lead_id else None
    return lead if lead is not None and lead.id != ticket.assignee_id else None


def rate(
    *, session: Session, ticket_id: int, reporter: Person, score: int, comment: str, now: datetime
) -> Ticket:
    """Record the reporter's 1–5 rating and close the ticket; a low one reaches the team lead too."""
    if not 1 <= score <= 5:
        raise ValueError("score must be 1..5")
    ticket = _own_resolved(session, ticket_id, reporter, "rate")
    if ticket.confirmed_at is None:
        ticket.confirmed_at = now
        add_event(session=session, ticket=ticket, kind="confirmed", now=now, actor=reporter)
    ticket.rating = score
    ticket.rating_comment = comment or None
    ticket.status = "closed"
    ticket.closed_at = now
    session.flush()
    event = add_event(
        session=session,
        ticket=ticket,
        kind="rated",
        now=now,
        actor=reporter,
        body=comment or None,
        data={"score": score},
    )
    add_event(session=session, ticket=ticket, kind="closed", now=now)
    resolver = _incident_resolver(session, ticket) or ticket.assignee  # (an incident's: not the on-call never there)
    if resolver is not None:
        notify(
            session=session,
            event=event,
            ticket=ticket,
            people=[resolver],
            template="ticket_rated",
            now=now,
            extra={"score": score, "comment": comment},
            # a fix the reporter was happy with is worth keeping (conversations/03 row 16)
            buttons=[{"label_key": "btn_draft", "action": f"/draft {ticket.id}"}] if score > LOW_RATING else [],
        )
    lead = _lead_of(session, ticket) if score <= LOW_RATING else None
    if lead is not None:
        notify(session=session, event=event, ticket=ticket, people=[lead], template="ticket_rated_low", now=now,
               extra={"score": score, "comment": comment, "assignee": resolver_name(session, ticket)})
    return ticket


def _last_resolver(session: Session, ticket: Ticket) -> Person | None:
    """Who resolved the ticket last (its engineer, or an incident's resolver)."""
    actor = session.scalars(select(TicketEvent.actor_id).where(TicketEvent.ticket_id == ticket.id,
                                                              TicketEvent.kind == "resolved")
                            .order_by(TicketEvent.id.desc())).first()
    return session.get(Person, actor) if actor else None


def _incident_resolver(session: Session, ticket: Ticket) -> Person | None:
    """Who resolved the major incident whose resolution resolved the ticket, if one did."""
    if resolved_by_incident(session=session, ticket=ticket) is None:
        return None
    person = _last_resolver(session, ticket)
    return person if person is not None and person.active else None


def resolver_name(session: Session, ticket: Ticket) -> str:
    """Who resolved the ticket, for the lead's eyes: a major incident's resolution (INC-1 · 徐明, whoever it was
    assigned to), its engineer, else whoever resolved it, else "—"."""
    incident = resolved_by_incident(session=session, ticket=ticket)
    if ticket.assignee is not None and incident is None:
        return ticket.assignee.name
    person = _last_resolver(session, ticket)
    name = person.name if person is not None else "—"
    return f"INC-{incident} · {name}" if incident is not None else name


def team_queue(*, session: Session, person: Person, limit: int = 20) -> list[Ticket]:
    """Unclaimed tickets of the person's teams (all teams for an admin) within their scope, by priority."""
    stmt = select(Ticket).where(
        Ticket.assignee_id.is_(None),
        Ticket.status.in_(("new", "reopened")),
        staff_filter(session=session, person=person),
    )
    if person.role != "admin":
        member = select(TeamMember.team_code).where(TeamMember.person_id == person.id)
        led = select(Team.code).where(Team.lead_id == person.id)
        stmt = stmt.where(Ticket.team_code.in_(member) | Ticket.team_code.in_(led))
    return list(session.scalars(stmt.order_by(Ticket.priority, Ticket.id).limit(limit)))


def assigned_to(*, session: Session, person: Person) -> list[Ticket]:
    """Open tickets the person holds (or has been assigned and has yet to accept)."""
    stmt = select(Ticket).where(Ticket.assignee_id == person.id, Ticket.status.in_(OPEN_STATUSES))
    return list(session.scalars(stmt.order_by(Ticket.priority, Ticket.id)))


def reported_by(*, session: Session, reporter: Person, include_resolved: bool = True) -> list[Ticket]:
    """The reporter's unfinished tickets, newest first; `include_resolved`: and those resolved that wait for their word
    (one they confirmed is done, a rating or not)."""
    open_now = Ticket.status.in_(OPEN_STATUSES)
    unfinished = open_now | ((Ticket.status == "resolved") & Ticket.confirmed_at.is_(None)) if include_resolved \
        else open_now
    stmt = select(Ticket).where(Ticket.reporter_id == reporter.id, unfinished)
    return list(session.scalars(stmt.order_by(Ticket.id.desc())))


def under_way(*, session: Session, person: Person) -> list[Ticket]:
    """The person's unfinished tickets and the unfinished ones they follow (reported in their group by someone
    else, or a duplicate of theirs merged into), newest first."""
    followed = [t for t in followed_by(session=session, person=person) if t.status in OPEN_STATUSES]
    both = {t.id: t for t in [*reported_by(session=session, reporter=person, include_resolved=False), *followed]}
    return sorted(both.values(), key=lambda t: -t.id)


def open_in_chat(*, session: Session, channel: str, chat_id: str, since: datetime) -> list[Ticket]:
    """The open tickets opened from one group chat since `since`, newest first."""
    stmt = select(Ticket).where(Ticket.chat_id == chat_id, Ticket.created_at >= since, Ticket.channel == channel,
                                Ticket.status.in_(OPEN_STATUSES))
    return list(session.scalars(stmt.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(20)))


def open_at_branches(*, session: Session, branch_codes: Collection[str], since: datetime) -> list[Ticket]:
    """The open tickets reported at these branches since `since`, newest first."""
    if not branch_codes:
        return []
    stmt = select(Ticket).where(Ticket.branch_code.in_(sorted(branch_codes)), Ticket.created_at >= since,
                                Ticket.status.in_(OPEN_STATUSES))
    return list(session.scalars(stmt.order_by(Ticket.created_at.desc(), Ticket.id.desc())
                                .limit(20 * len(branch_codes))))  # (about twenty a branch)


def followed_by(*, session: Session, person: Person) -> list[Ticket]:
    """The unfinished tickets someone follows without having reported them, newest first."""
    stmt = (select(Ticket).join(TicketFollower, TicketFollower.ticket_id == Ticket.id)
            .where(TicketFollower.person_id == person.id, Ticket.reporter_id != person.id,
                   Ticket.status.in_((*OPEN_STATUSES, "resolved"))))
    return list(session.scalars(stmt.order_by(Ticket.id.desc())))


UPSET_TAG = "报修人着急"


def mark_upset(*, session: Session, ticket: Ticket, reporter: Person, text: str, now: datetime) -> None:
    """The reporter is angry or asks for a person: the ticket is tagged for its engineer (once) and what they said
    goes on the timeline as an internal event."""
    if UPSET_TAG not in (ticket.tags or []):
        ticket.tags = [*(ticket.tags or []), UPSET_TAG]
    add_event(session=session, ticket=ticket, kind="reporter_upset", now=now, actor=reporter, body=text[:500],
              public=False)


def awaiting_reporter(*, session: Session, reporter: Person) -> Ticket | None:
    """The reporter's most recently resolved ticket that still needs a confirmation or rating."""
    stmt = (
        select(Ticket)
        .where(Ticket.reporter_id == reporter.id, Ticket.status == "resolved")
        .order_by(Ticket.resolved_at.desc(), Ticket.id.desc())
    )
    return session.scalars(stmt).first()


# How far back a report is compared with its reporter's resolved tickets: within REOPEN_WITHIN it may reopen one,
# after that it may follow one up (a new ticket linked to it).
FOLLOW_UP_WITHIN = timedelta(days=30)


def earlier_of(*, session: Session, reporter_ids: Sequence[str], now: datetime,
               within: timedelta = FOLLOW_UP_WITHIN) -> tuple[list[tuple[int, str, str]], list[tuple[int, str, str]]]:
    """(unfinished, recently resolved): (id, reporter id, description) of the reporters' tickets not yet resolved,
    newest first, and of those resolved (confirmed or not) in the last `within` and not reopened since, most recently
    resolved first. One light statement for them all (a batch of reports asks it)."""
    if not reporter_ids:
        return [], []
    rows = session.execute(
        select(Ticket.id, Ticket.reporter_id, Ticket.description, Ticket.status, Ticket.resolved_at)
        .where(Ticket.reporter_id.in_(reporter_ids),
               Ticket.status.in_(OPEN_STATUSES) | (Ticket.status.in_(("resolved", "closed"))
                                                   & (Ticket.resolved_at > now - within)))).all()
    unfinished = sorted((r for r in rows if r.status in OPEN_STATUSES), key=lambda r: -r.id)
    resolved = sorted((r for r in rows if r.status not in OPEN_STATUSES), key=lambda r: (r.resolved_at, r.id),
                      reverse=True)
    return ([(r.id, r.reporter_id, r.description) for r in unfinished],
            [(r.id, r.reporter_id, r.description) for r in resolved])


def may_reopen(ticket: Ticket, *, now: datetime) -> bool:
    """Whether `reopen` would take the ticket: resolved and not yet closed, or closed within `REOPEN_WITHIN` of
    its resolution."""
    if ticket.status == "resolved":
        return True
    return ticket.status == "closed" and ticket.resolved_at is not None and now - ticket.resolved_at < REOPEN_WITHIN


def timeline(*, session: Session, ticket_id: int, public_only: bool = False) -> list[TicketEvent]:
    """The ticket's events in order."""
    stmt = select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
    if public_only:
        stmt = stmt.where(TicketEvent.public)
    return list(session.scalars(stmt.order_by(TicketEvent.at, TicketEvent.id)))
