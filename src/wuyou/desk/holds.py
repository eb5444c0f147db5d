"""Tickets on hold: waiting on someone other than the reporter — a vendor or carrier, spare parts, a visit booked
for a later day. The engineer says why and until when; the reporter is told; the resolution clock stands still
(as it does while a question waits on the reporter) unless the ticket's SLA policy says `on_hold: run`; at the
time the hold ends by itself and the engineer is reminded, or earlier when they say so. What the reporter adds
meanwhile reaches the engineer and keeps the hold.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from wuyou.desk import sla
from wuyou.desk.absences import is_away
from wuyou.desk.calendars import BusinessCalendar
from wuyou.desk.errors import InvalidTransition, NotAllowed
from wuyou.desk.hours import DEFAULT_TZ, calendar_in, ticket_hours
from wuyou.desk.models import Person, Team, Ticket
from wuyou.desk.scope import ticket_for_staff
from wuyou.desk.tickets import add_event, notify, require, tell_reporters
from wuyou.desk.working import holder_or_lead

LONGEST = timedelta(days=90)


def ticket_calendar(*, session: Session, ticket: Ticket) -> BusinessCalendar:
    """The business hours the ticket counts in, in its clocks' time zone."""
    clock = next(iter(sla.active(session=session, ticket_id=ticket.id)), None)
    return calendar_in(session, ticket_hours(session=session, ticket=ticket), clock.timezone if clock else DEFAULT_TZ,
                       ticket_id=ticket.id)


def end_of_hold(*, session: Session, ticket: Ticket, until: datetime | date | None, now: datetime) -> datetime:
    """When a hold ends: the moment given; a day given, when its business hours open; nothing given, when they
    open on the next day the branch is open."""
    cal = ticket_calendar(session=session, ticket=ticket)
    if isinstance(until, datetime):
        return until
    if until is None:
        until = now.astimezone(cal.tz).date() + timedelta(days=1)
    return cal.next_open(datetime.combine(until, time(0), cal.tz))


def hold(*, session: Session, ticket_id: int, person: Person, reason: str, until: datetime | date | None,
         now: datetime) -> Ticket:
    """Put a ticket on hold (or move the end of its hold), telling the reporter why and until when."""
    ticket = ticket_for_staff(session=session, ticket_id=ticket_id, person=person)
    require(ticket, "hold")
    if ticket.assignee_id is None:
        raise InvalidTransition(ticket.status, "hold")
    holder_or_lead(session, person, ticket)
    ends = end_of_hold(session=session, ticket=ticket, until=until, now=now)
    if ends <= now:
        raise NotAllowed("hold_past")
    if ends - now > LONGEST:
        raise NotAllowed("hold_too_long")
    pauses = sla.hold_pauses(session=session, ticket_id=ticket.id)
    if pauses:
        sla.pause(session=session, ticket=ticket, now=now)  # (a clock already paused stays as it is)
    else:
        sla.resume(session=session, ticket=ticket, now=now)  # `on_hold: run`: the wait counts, a question's too
    moved = ticket.status == "on_hold"
    ticket.status = "on_hold"
    ticket.waiting_since = ticket.waiting_since or now
    ticket.hold_until, ticket.hold_reason = ends, reason.strip() or None
    ticket.last_activity_at = now
    session.flush()
    event = add_event(session=session, ticket=ticket, kind="held", now=now, actor=person, body=ticket.hold_reason,
                      data={"until": ends.isoformat(), "moved": moved, "clock_paused": pauses})
    tell_reporters(session=session, event=event, ticket=ticket, template="ticket_on_hold", now=now,
                   extra={"reason": ticket.hold_reason or "", "until_due": ends.isoformat(), "by": person.name})
    return ticket


def unhold(*, session: Session, ticket_id: int, person: Person, now: datetime) -> Ticket:
    """End a hold before its time: back to work, the resolution clock running again."""
    ticket = ticket_for_staff(session=session, ticket_id=ticket_id, person=person)
    require(ticket, "unhold")
    holder_or_lead(session, person, ticket)
    _back_to_work(session, ticket, now)
    event = add_event(session=session, ticket=ticket, kind="unheld", now=now, actor=person)
    tell_reporters(session=session, event=event, ticket=ticket, template="ticket_unheld", now=now,
                   extra={"by": person.name})
    return ticket


def _back_to_work(session: Session, ticket: Ticket, now: datetime) -> int:
    """Minutes the hold lasted; the ticket in progress again and its clock running."""
    paused = int((now - ticket.waiting_since).total_seconds() // 60) if ticket.waiting_since else 0
    ticket.status = "in_progress"
    ticket.waiting_since = ticket.hold_until = None
    ticket.last_activity_at = now
    session.flush()
    sla.resume(session=session, ticket=ticket, now=now)
    return paused


def _to_remind(session: Session, ticket: Ticket, now: datetime) -> list[Person]:
    """Its engineer; away (on leave since the hold began), the team's lead as well, for someone to pick it up."""
    people = [ticket.assignee] if ticket.assignee is not None else []
    if not people or is_away(people[0], now):
        team = session.get(Team, ticket.team_code) if ticket.team_code else None
        lead = session.get(Person, team.lead_id) if team is not None and team.lead_id else None
        people += [lead] if lead is not None and lead not in people else []
    return people


def end_due(*, session: Session, now: datetime, limit: int = 100) -> int:
    """Holds whose time has come end by themselves: the ticket is back in progress and its engineer reminded — and
    their lead when they are away (the worker's round; `FOR UPDATE SKIP LOCKED`, so two workers never end the
    same one)."""
    due = list(session.scalars(select(Ticket).where(Ticket.status == "on_hold", Ticket.hold_until <= now)
                               .order_by(Ticket.id).limit(limit).with_for_update(skip_locked=True, of=Ticket)))
    for ticket in due:
        reason = ticket.hold_reason or ""
        paused = _back_to_work(session, ticket, now)
        event = add_event(session=session, ticket=ticket, kind="hold_ended", now=now, public=False,
                          data={"paused_minutes": paused})
        notify(session=session, event=event, ticket=ticket, people=_to_remind(session, ticket, now),
               template="ticket_hold_ended", now=now,
               extra={"reason": reason, **sla.due_params(session=session, ticket_id=ticket.id)},
               buttons=[{"label_key": "btn_show", "action": f"/show {ticket.id}"}])
    return len(due)
