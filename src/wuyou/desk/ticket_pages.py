"""On-call pages for P1 tickets. P1 runs 7×24, but its team works its own hours: a P1 ticket that waits for a team
nobody of which is at work (at night, at the weekend, on a holiday) pages the team's on-call order as it stands —
the first person, then after the acknowledgement time the next, then the lead (`oncall.chain`) — until someone
claims it (`接单 N`, the page's button, or "收到" to the page). In hours the team's card is enough: they are at work.

The timers live in the database (`ticket_pages.due_at`) like the incidents' pages: a restart loses none, and the
worker's round takes the due ones `FOR UPDATE SKIP LOCKED`. A page whose ticket no longer waits (claimed, moved to
another team, lowered from P1, cancelled, or made part of an open major incident) ends quietly when it falls due."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from wuyou.desk import sla
from wuyou.desk.absences import is_away, present
from wuyou.desk.hours import DEFAULT_HOURS, DEFAULT_TZ, calendar_in
from wuyou.desk.incidents.models import OPEN_STATUSES, Incident, IncidentLink
from wuyou.desk.incidents.oncall import ACK_TIMEOUT, chain
from wuyou.desk.models import Person, Team, Ticket, TicketEvent, TicketPage
from wuyou.desk.org import team_members
from wuyou.desk.timeline import add_event, notify

PAGED_PRIORITY = "P1"
WAITING = ("new", "reopened")  # (a reopened ticket nobody holds waits in its team's queue as a new one does)


def team_at_work(*, session: Session, team: Team, now: datetime, tz: str = DEFAULT_TZ) -> bool:
    """Whether the team's own hours (else the desk's default) are open now, with its region's calendar days."""
    hours = team.hours or DEFAULT_HOURS
    return calendar_in(session, hours, tz, region=team.region_code).is_open(now)


def waiting(ticket: Ticket, team_code: str | None = None) -> bool:
    """Whether the ticket still waits for someone of its team to take it as a P1 (of `team_code`, when given)."""
    return (ticket.priority == PAGED_PRIORITY and ticket.status in WAITING and ticket.assignee_id is None
            and ticket.team_code is not None and (team_code is None or ticket.team_code == team_code))


def start(*, session: Session, ticket: Ticket, now: datetime, tz: str = DEFAULT_TZ,
          timeout: timedelta = ACK_TIMEOUT, passing: Person | None = None) -> Person | None:
    """Page the first of the team's on-call chain when a P1 ticket waits for a team that is not at work now;
    the person paged (None when no page is needed, or one is running already). `passing`: someone who just gave
    the ticket back, left out of the chain."""
    team = ticket.team
    if team is None or not waiting(ticket) or team_at_work(session=session, team=team, now=now, tz=tz) \
            or _in_incident(session, ticket):
        return None
    running = paging(session=session, ticket_id=ticket.id)
    if running is not None:
        if running.team_code == team.code:
            return None
        running.status = "cancelled"  # (moved to another team: theirs is paged instead)
    people = [p for p in chain(session=session, team=team, now=now, tz=tz) if passing is None or p.id != passing.id]
    if not people:
        return None
    return _page(session, ticket, team, people, 0, now, timeout).person


def _in_incident(session: Session, ticket: Ticket) -> bool:
    """Whether the ticket is one of an open major incident's (its responders are paged for it, and work it)."""
    return session.scalar(select(IncidentLink.id).join(Incident, Incident.id == IncidentLink.incident_id)
                          .where(IncidentLink.ticket_id == ticket.id, Incident.status.in_(OPEN_STATUSES))
                          .limit(1)) is not None


def sweep(*, session: Session, now: datetime, tz: str = DEFAULT_TZ, limit: int = 100) -> int:
    """P1 tickets never paged that still wait while their team's hours have ended (reported at 17:20, nobody took
    them by 17:30): their on-call is paged now. A ticket paged before is left to what followed (taken, or its chain
    ran out and its lead was told; the SLA's escalation goes on)."""
    never_paged = ~select(TicketPage.id).where(TicketPage.ticket_id == Ticket.id).exists()
    no_incident = ~select(IncidentLink.id).where(IncidentLink.ticket_id == Ticket.id).exists()  # (its own pages)
    found = list(session.scalars(select(Ticket).where(
        Ticket.priority == PAGED_PRIORITY, Ticket.status.in_(WAITING), Ticket.assignee_id.is_(None),
        Ticket.team_code.is_not(None), never_paged, no_incident).order_by(Ticket.id).limit(limit)
        .with_for_update(skip_locked=True, of=Ticket)))
    return sum(start(session=session, ticket=ticket, now=now, tz=tz) is not None for ticket in found)


def paging(*, session: Session, ticket_id: int) -> TicketPage | None:
    """The ticket's running page, if any."""
    return session.scalars(select(TicketPage).where(TicketPage.ticket_id == ticket_id,
                                                    TicketPage.status == "paging")).first()


def open_page(*, session: Session, person: Person) -> TicketPage | None:
    """The latest page of this person (running, or passed on while the ticket still waits) whose ticket they can
    still take: what their "收到" answers."""
    for row in session.scalars(select(TicketPage).where(TicketPage.person_id == person.id,
                                                        TicketPage.status.in_(("paging", "missed")))
                               .order_by(TicketPage.id.desc()).limit(5)):
        ticket = session.get(Ticket, row.ticket_id)
        if ticket is not None and waiting(ticket, row.team_code):
            return row
    return None


def answered(*, session: Session, ticket: Ticket, person: Person, now: datetime) -> None:
    """The ticket was claimed: the claimer's running page, if they were the one paged, is answered (someone else's
    is `withdraw`n once the claim is told)."""
    for row in session.scalars(select(TicketPage).where(TicketPage.ticket_id == ticket.id,
                                                        TicketPage.status == "paging",
                                                        TicketPage.person_id == person.id)):
        row.status, row.acked_at = "acked", now


def withdraw(*, session: Session, ticket: Ticket, event: TicketEvent, by: Person, why_key: str, now: datetime,
             extra: dict[str, object] | None = None) -> None:
    """The ticket needs its on-call no more (claimed by someone else, lowered from P1, merged, cancelled, moved to
    another team): the running page ends now, and the one paged is told they need not take it — not left with a
    page that ends unseen and a "收到" that answers nothing. Told with `event`, so that someone told of it already
    (a colleague's claim, told to the team) is not told twice; never `by`, who did it, nor someone it is given to."""
    people: list[Person] = []
    for row in session.scalars(select(TicketPage).where(TicketPage.ticket_id == ticket.id,
                                                        TicketPage.status == "paging")):
        row.status = "cancelled"
        person = session.get(Person, row.person_id)
        if person is not None and person.active and person.id not in (by.id, ticket.assignee_id):
            people.append(person)
    notify(session=session, event=event, ticket=ticket, people=people, template="ticket_page_withdrawn", now=now,
           extra={"by": by.name, "why_key": why_key, **(extra or {})},
           buttons=[{"label_key": "btn_show", "action": f"/show {ticket.id}"}])


def _page(session: Session, ticket: Ticket, team: Team, people: list[Person], step: int, now: datetime,
          timeout: timedelta, missed: Person | None = None) -> TicketPage:
    person = people[step]
    row = TicketPage(ticket_id=ticket.id, team_code=team.code, person_id=person.id, step=step,
                     chain=[p.id for p in people], paged_at=now, due_at=now + timeout, status="paging")
    session.add(row)
    session.flush()
    event = add_event(session=session, ticket=ticket, kind="paged", now=now, public=False,
                      body=person.name,  # (a name reads the same in every language; the step is in data)
                      data={"person": person.id, "team": team.code, "step": step + 1,
                            "missed": missed.id if missed else None})
    minutes = int(timeout.total_seconds() // 60)
    notify(session=session, event=event, ticket=ticket, people=[person],
           template="ticket_page" if missed is None else "ticket_page_next", now=now,
           extra={**sla.due_params(session=session, ticket_id=ticket.id), "step": step + 1, "step_before": step,
                  "missed": missed.name if missed else "", "minutes": minutes},
           buttons=[{"label_key": "btn_claim", "action": f"/claim {ticket.id}"},
                    {"label_key": "btn_show", "action": f"/show {ticket.id}"}])
    return row


def escalate_due(*, session: Session, now: datetime, limit: int = 100) -> int:
    """Pages nobody answered in time: the next in the chain is paged (the one passed by is told they can still take
    it); after the last, the team's lead is told nobody did."""
    due = list(session.scalars(select(TicketPage).where(TicketPage.status == "paging", TicketPage.due_at <= now)
                               .order_by(TicketPage.id).limit(limit).with_for_update(skip_locked=True, of=TicketPage)))
    for row in due:
        ticket = session.get(Ticket, row.ticket_id)
        team = session.get(Team, row.team_code)
        if ticket is None or team is None or not waiting(ticket, row.team_code) or _in_incident(session, ticket):
            # taken meanwhile, moved, lowered or cancelled: nothing to chase; or made part of a major incident since
            # (declared from it, linked to it), whose own pages call its responders, who work it
            row.status = "cancelled"
            continue
        row.status = "missed"
        known = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(row.chain))
                                                    .options(selectinload(Person.absences)))}
        listed = [known.get(pid) for pid in row.chain]  # (with who is away: two statements, not two per person)
        missed = session.get(Person, row.person_id)
        # (someone deactivated meanwhile is passed by; so is someone gone on leave since the page began — marked
        # away by their lead or the HR system — unless everyone left is away)
        after = present([p for p in listed[row.step + 1:] if p is not None and p.active and p.id != row.person_id],
                        now)
        minutes = int((row.due_at - row.paged_at).total_seconds() // 60)
        if not after:
            event = add_event(session=session, ticket=ticket, kind="page_exhausted", now=now, public=False,
                              body=team.name, data={"team": team.code})
            lead = session.get(Person, team.lead_id) if team.lead_id else None
            # (a lead on leave: the team's people at hand hear it instead)
            told = [lead] if lead is not None and lead.active and not is_away(lead, now) else present(
                team_members(session=session, team_code=team.code), now)
            notify(session=session, event=event, ticket=ticket, people=told, template="ticket_page_exhausted",
                   now=now, extra={"minutes": minutes},
                   buttons=[{"label_key": "btn_claim", "action": f"/claim {ticket.id}"},
                            {"label_key": "btn_show", "action": f"/show {ticket.id}"}])
            continue
        chain_now = [p for p in listed[: row.step + 1] if p is not None] + after
        if missed is not None:
            passed = add_event(session=session, ticket=ticket, kind="page_passed", now=now, public=False,
                               body=f"{missed.name} → {after[0].name}", data={"missed": missed.id,
                                                                            "next": after[0].id})
            notify(session=session, event=passed, ticket=ticket, people=[missed], template="ticket_page_passed_on",
                   now=now, extra={"next": after[0].name, "minutes": minutes},
                   buttons=[{"label_key": "btn_claim", "action": f"/claim {ticket.id}"}])
        _page(session, ticket, team, chain_now, row.step + 1, now, row.due_at - row.paged_at, missed=missed)
    return len(due)
