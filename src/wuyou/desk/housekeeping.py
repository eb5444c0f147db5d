"""Periodic care of the queue: remind a team of tickets nobody claims, release claims that see no
action, remind a reporter who has not answered an engineer's question and resolve the ticket when they never
do, end holds whose time has come (`holds`), and close resolutions the reporter never answered. Run by the
worker; each ticket is taken with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several workers never act on the
same one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from wuyou.desk import holds, sla, ticket_pages, tickets
from wuyou.desk.models import Person, Team, Ticket, TicketEvent
from wuyou.desk.org import team_members
from wuyou.desk.timeline import add_event, notify


@dataclass(frozen=True)
class Rules:
    remind_unclaimed_after: timedelta = timedelta(minutes=30)  # and again every as long, in the ticket's hours …
    remind_unclaimed_times: int = 3  # … at most this often (then the SLA's breach has it go to the lead)
    release_idle_claims_after: timedelta | None = timedelta(hours=4)  # None: never
    close_unconfirmed_after: timedelta = timedelta(days=3)
    remind_waiting_after: timedelta = timedelta(days=1)  # once, in the ticket's business hours
    resolve_waiting_after: timedelta | None = timedelta(days=3)  # None: a question waits for ever


def run(*, session: Session, now: datetime, rules: Rules = Rules(), limit: int = 100) -> int:
    """One round of them all; returns how many tickets were acted on. The caller commits."""
    return (_remind(session, now, rules, limit) + _release(session, now, rules, limit)
            + _release_retired(session, now, limit)
            + _resolve_waiting(session, now, rules, limit) + _remind_waiting(session, now, rules, limit)
            + holds.end_due(session=session, now=now, limit=limit) + _close(session, now, rules, limit))


def _locked(session: Session, stmt: Select[Ticket], limit: int) -> list[Ticket]:
    return list(session.scalars(stmt.order_by(Ticket.id).limit(limit).with_for_update(skip_locked=True, of=Ticket)))


def _remind(session: Session, now: datetime, rules: Rules, limit: int) -> int:
    cutoff = now - rules.remind_unclaimed_after
    stmt = select(Ticket).where(
        Ticket.status.in_(("new", "reopened")), Ticket.assignee_id.is_(None), Ticket.team_code.is_not(None),
        Ticket.created_at <= cutoff, or_(Ticket.last_reminded_at.is_(None), Ticket.last_reminded_at <= cutoff),
    )
    due = _locked(session, stmt, limit)
    reminded = 0
    for ticket in due:
        # Not at night for a ticket of working hours (the engineers' phones), and not all day long: a ticket
        # nobody takes after a few reminders is the lead's, through its SLA breach.
        if not sla.in_hours(session=session, ticket_id=ticket.id, now=now):
            opens = sla.opens_next(session=session, ticket_id=ticket.id, now=now)
            # (looked at again when its hours open, not every round of the night)
            ticket.last_reminded_at = opens - rules.remind_unclaimed_after if opens is not None else now
            continue
        # (counted since it last came back to the queue: reopened, released, transferred)
        back = session.scalar(select(func.max(TicketEvent.at)).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.kind.in_(("reopened", "released", "auto_released",
                                                                        "transferred"))))
        times = session.scalar(select(func.count()).select_from(TicketEvent)
                               .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "reminded",
                                      TicketEvent.at > (back or ticket.created_at)))
        if (times or 0) >= rules.remind_unclaimed_times:
            ticket.last_reminded_at = now  # (looked at again an interval later: it may come back to the queue)
            continue
        reminded += 1
        ticket.last_reminded_at = now
        waited = int((now - ticket.created_at).total_seconds() // 60)
        event = add_event(session=session, ticket=ticket, kind="reminded", now=now, public=False,
                          data={"waited_minutes": waited})
        notify(session=session, event=event, ticket=ticket,
               people=team_members(session=session, team_code=ticket.team_code or ""), template="ticket_unclaimed",
               now=now, extra={"waited_minutes": waited, **sla.due_params(session=session, ticket_id=ticket.id)},
               buttons=[{"label_key": "btn_claim", "action": f"/claim {ticket.id}"}])
    return reminded


RELEASE_LOOKS_AT = 500  # claimed tickets idle longest by the wall clock looked at per round


def _release(session: Session, now: datetime, rules: Rules, limit: int) -> int:
    """A claim nobody has worked for `release_idle_claims_after` of the ticket's business hours goes back to the
    queue, in those hours: a ticket claimed at 14:43 is not taken back at 18:45 with the branch closed (the wall
    clock's four hours), its engineer keeps it overnight."""
    if rules.release_idle_claims_after is None:
        return 0
    idle = rules.release_idle_claims_after
    stale = (Ticket.status == "claimed", Ticket.assignee_id.is_not(None), Ticket.last_activity_at <= now - idle)
    looked = session.scalars(select(Ticket).where(*stale).order_by(Ticket.last_activity_at, Ticket.id)
                             .limit(RELEASE_LOOKS_AT)).all()
    ids = [t.id for t in looked if t.last_activity_at is not None
           and (sla.idle_in_hours(session=session, ticket_id=t.id, since=t.last_activity_at, now=now)
                or timedelta(0)) >= idle]
    due = _locked(session, select(Ticket).where(Ticket.id.in_(ids[:limit]), *stale), limit) if ids else []
    for ticket in due:
        holder = ticket.assignee
        ticket.assignee_id = None
        ticket.claimed_at = None
        ticket.status = "new"
        ticket.last_reminded_at = now  # the release notice is this round's reminder
        session.flush()
        event = add_event(session=session, ticket=ticket, kind="auto_released", now=now,
                          data={"previous": holder.id if holder else None})
        paged = ticket_pages.start(session=session, ticket=ticket, now=now, passing=holder)  # (a P1 at night)
        people = [p for p in _team_and_lead(session, ticket, first=[holder] if holder else [])
                  if paged is None or p.id != paged.id]
        notify(session=session, event=event, ticket=ticket, people=people, template="ticket_auto_released", now=now,
               extra={"holder": holder.name if holder else "",
                      "idle_minutes": int(rules.release_idle_claims_after.total_seconds() // 60)},
               buttons=[{"label_key": "btn_claim", "action": f"/claim {ticket.id}"}])
        # The reporter last heard "已由工程师 X 受理" (as when an engineer gives a ticket back).
        tickets.tell_reporters(session=session, event=event, ticket=ticket, template="ticket_released_reporter",
                               now=now, extra={"previous": holder.name if holder else ""})
    return len(due)


def _team_and_lead(session: Session, ticket: Ticket, first: list[Person] | None = None) -> list[Person]:
    """Whom a ticket given back to its team's queue is told of: `first`, the team's members, and its lead."""
    people = list(first or [])
    if ticket.team_code:
        people += [p for p in team_members(session=session, team_code=ticket.team_code) if p not in people]
    team = session.get(Team, ticket.team_code) if ticket.team_code else None
    lead = session.get(Person, team.lead_id) if team and team.lead_id else None
    if lead is not None and lead.active and lead not in people:
        people.append(lead)
    return people


def _release_retired(session: Session, now: datetime, limit: int) -> int:
    """Tickets still given to someone retired from the desk (`active: false`: they cannot sign in or claim) go back
    to their team's queue, the team and its lead told — they sat under a name nobody answers to."""
    retired = select(Person.id).where(Person.active.is_(False))
    # (one waiting for its reporter or on hold keeps waiting: it comes back when the wait ends and it is worked on)
    stmt = select(Ticket).where(Ticket.assignee_id.in_(retired),
                                Ticket.status.in_(("new", "claimed", "in_progress", "reopened")))
    due = _locked(session, stmt, limit)
    for ticket in due:
        holder = ticket.assignee
        ticket.assignee_id = None
        ticket.claimed_at = None
        if ticket.status in ("claimed", "in_progress"):
            ticket.status = "new"
        session.flush()
        event = add_event(session=session, ticket=ticket, kind="retired_released", now=now,
                          body=holder.name if holder else None, data={"previous": holder.id if holder else None})
        notify(session=session, event=event, ticket=ticket, people=_team_and_lead(session, ticket),
               template="ticket_retired_released",
               now=now, extra={"holder": holder.name if holder else ""},
               buttons=[{"label_key": "btn_claim", "action": f"/claim {ticket.id}"}])
    return len(due)


def _days(span: timedelta) -> str:
    return f"{span.total_seconds() / 86400:g}"


def _question(session: Session, ticket: Ticket) -> TicketEvent | None:
    return session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "asked")
                           .order_by(TicketEvent.id.desc()).limit(1)).first()


def _resolves_at(ticket: Ticket, now: datetime, rules: Rules) -> str:
    """When a question reminded now is taken as answered by nobody (as `_resolve_waiting` decides)."""
    if rules.resolve_waiting_after is None or ticket.waiting_since is None:
        return ""
    after_reminder = now + max(rules.resolve_waiting_after - rules.remind_waiting_after, timedelta(0))
    return max(ticket.waiting_since + rules.resolve_waiting_after, after_reminder).isoformat()


def _remind_waiting(session: Session, now: datetime, rules: Rules, limit: int) -> int:
    """A question the reporter has not answered for a day: asked again once, when their branch is open."""
    stmt = select(Ticket).where(Ticket.status == "waiting", Ticket.waiting_since <= now - rules.remind_waiting_after,
                                or_(Ticket.last_reminded_at.is_(None), Ticket.last_reminded_at < Ticket.waiting_since))
    acted = 0
    for ticket in _locked(session, stmt, limit):
        if not sla.in_hours(session=session, ticket_id=ticket.id, now=now):
            continue  # not at night: the next round in business hours reminds them
        ticket.last_reminded_at = now
        asked = _question(session, ticket)
        asker = session.get(Person, asked.actor_id) if asked is not None and asked.actor_id else ticket.assignee
        event = add_event(session=session, ticket=ticket, kind="waiting_reminded", now=now, public=False,
                          data={"waiting_minutes": int((now - ticket.waiting_since).total_seconds() // 60)
                                if ticket.waiting_since else None})
        resolves = rules.resolve_waiting_after
        notify(session=session, event=event, ticket=ticket, people=[ticket.reporter], template="ticket_question_again",
               now=now, extra={"asker": asker.name if asker is not None else "",
                               "question": asked.body if asked is not None and asked.body else "",
                               "after_key": "question_resolves_after" if resolves else "",
                               "resolve_at": _resolves_at(ticket, now, rules)})
        acted += 1
    return acted


def _resolve_waiting(session: Session, now: datetime, rules: Rules, limit: int) -> int:
    """A question never answered: the ticket is resolved (the reporter can still say it is not fixed, and reopen
    it) and its engineer is told; its resolution clock stops where the question paused it. Only once the reporter
    has been reminded, and in their branch's hours: a question asked before a week's holiday is not resolved
    during it."""
    if rules.resolve_waiting_after is None:
        return 0
    stmt = select(Ticket).where(Ticket.status == "waiting", Ticket.waiting_since <= now - rules.resolve_waiting_after)
    if rules.remind_waiting_after < rules.resolve_waiting_after:  # reminded, and given the rest of the time since
        stmt = stmt.where(Ticket.last_reminded_at >= Ticket.waiting_since, Ticket.last_reminded_at
                          <= now - (rules.resolve_waiting_after - rules.remind_waiting_after))
    due = [t for t in _locked(session, stmt, limit) if sla.in_hours(session=session, ticket_id=t.id, now=now)]
    days = _days(rules.resolve_waiting_after)
    for ticket in due:
        tickets.mark_resolved(session=session, ticket=ticket, now=now, summary=ticket.resolution, first=False)
        event = add_event(session=session, ticket=ticket, kind="auto_resolved", now=now, data={"days": days})
        tickets.tell_reporters(session=session, event=event, ticket=ticket, template="ticket_auto_resolved", now=now,
                               extra={"days": days}, buttons=tickets.confirm_buttons(ticket.id))
        if ticket.assignee is not None:
            notify(session=session, event=event, ticket=ticket, people=[ticket.assignee],
                   template="ticket_auto_resolved_staff", now=now, extra={"days": days})
    return len(due)


def _close(session: Session, now: datetime, rules: Rules, limit: int) -> int:
    stmt = select(Ticket).where(Ticket.status == "resolved", Ticket.resolved_at <= now - rules.close_unconfirmed_after)
    due = _locked(session, stmt, limit)
    for ticket in due:
        ticket.status = "closed"
        ticket.closed_at = now
        session.flush()
        event = add_event(session=session, ticket=ticket, kind="auto_closed", now=now,
                          data={"unconfirmed": ticket.confirmed_at is None})
        notify(session=session, event=event, ticket=ticket, people=[ticket.reporter], template="ticket_auto_closed",
               now=now, extra={"days": _days(rules.close_unconfirmed_after)})
    return len(due)
