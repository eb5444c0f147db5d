"""SLA clocks: response (until claimed) and resolution (until resolved) targets in business time.

A policy gives the targets for a ticket's priority (or its category); the calendar is the branch's
business hours, else the team's, else the desk's default, with Chinese public holidays and make-up
workdays — or 7×24 for policies that say so (P1). Waiting on the reporter pauses the resolution
clock. The worker (`check_due`) warns at a share of the target, escalates a breach to the team lead
and later to HQ, each exactly once: the flags live in the clock's row, changed in the same
transaction as the notifications, and on PostgreSQL a clock is taken with `FOR UPDATE SKIP LOCKED`
so several workers never handle the same one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wuyou.desk.absences import present
from wuyou.desk.calendars import BusinessCalendar
from wuyou.desk.conditions import matches
from wuyou.desk.facts import facts_for
from wuyou.desk.hours import ALWAYS, DEFAULT_TZ, calendar_in, ticket_hours
from wuyou.desk.incidents.models import OPEN_STATUSES, Incident, IncidentLink
from wuyou.desk.models import HELD_STATUSES, Person, Region, SlaClock, SlaPolicy, Team, Ticket
from wuyou.desk.org import team_members
from wuyou.desk.timeline import add_event, notify

__all__ = ["DEFAULT_TZ"]

KINDS = ("response", "resolution")


@dataclass(frozen=True)
class Policy:
    name: str
    response_minutes: int
    resolution_minutes: int
    warn_percent: int = 80
    calendar: str = "branch"  # "branch" (its hours, else the team's, else the desk's) or "7x24"


# Used when no policy is stored for a priority: P1 around the clock, the rest in business hours.
DEFAULT_POLICIES = {
    "P1": Policy("P1 默认", 15, 4 * 60, calendar="7x24"),
    "P2": Policy("P2 默认", 30, 4 * 60),
    "P3": Policy("P3 默认", 60, 8 * 60),
    "P4": Policy("P4 默认", 4 * 60, 3 * 9 * 60),
}


def policy_for(*, session: Session, ticket: Ticket, now: datetime | None = None) -> Policy:
    """The first stored policy (by position) whose priority and conditions match, else the default."""
    facts = None
    for row in session.scalars(select(SlaPolicy).order_by(SlaPolicy.position, SlaPolicy.id)):
        if row.priority is not None and row.priority != ticket.priority:
            continue
        if row.conditions:
            facts = facts or facts_for(session=session, ticket=ticket, now=now or ticket.created_at)
            if not matches(row.conditions, facts):
                continue
        return Policy(row.name, row.response_minutes, row.resolution_minutes, row.warn_percent, row.calendar)
    return DEFAULT_POLICIES.get(ticket.priority, DEFAULT_POLICIES["P3"])


def hours_for(*, session: Session, ticket: Ticket, policy: Policy) -> str:
    return ALWAYS if policy.calendar == ALWAYS else ticket_hours(session=session, ticket=ticket)


def _cal(session: Session, clock: SlaClock) -> BusinessCalendar:
    return calendar_in(session, clock.hours, clock.timezone, ticket_id=clock.ticket_id)


def _plan(session: Session, clock: SlaClock, now: datetime) -> None:
    """Set due, warning and next-check moments of a running clock from what it has used so far."""
    cal = _cal(session, clock)
    remaining = timedelta(seconds=max(0, clock.target_seconds - clock.consumed_seconds))
    clock.running_since = now
    clock.due_at = cal.add(now, remaining)
    warn_after = clock.target_seconds * clock.warn_percent / 100 - clock.consumed_seconds
    clock.warn_at = None if clock.warned_at else cal.add(now, timedelta(seconds=max(0.0, warn_after)))
    clock.next_check_at = _next_check(session, clock)


def _escalate_at(session: Session, clock: SlaClock) -> datetime | None:
    """A breach not dealt with within half the target again goes up to HQ."""
    if clock.due_at is None:
        return None
    return _cal(session, clock).add(clock.due_at, timedelta(seconds=clock.target_seconds / 2))


def _next_check(session: Session, clock: SlaClock) -> datetime | None:
    if clock.state != "running":
        return None
    moments = []
    if clock.warned_at is None and clock.warn_at is not None:
        moments.append(clock.warn_at)
    if clock.breached_at is None and clock.due_at is not None:
        moments.append(clock.due_at)
    elif clock.breached_at is not None and clock.escalation_level < 2:
        escalate = _escalate_at(session, clock)
        if escalate is not None:
            moments.append(escalate)
    return min(moments) if moments else None


def start(*, session: Session, ticket: Ticket, now: datetime, tz: str = DEFAULT_TZ,
          kinds: tuple[str, ...] = KINDS) -> list[SlaClock]:
    """Start the ticket's clocks with full targets under its policy."""
    policy = policy_for(session=session, ticket=ticket, now=now)
    hours = hours_for(session=session, ticket=ticket, policy=policy)
    started = []
    for kind in kinds:
        minutes = policy.response_minutes if kind == "response" else policy.resolution_minutes
        clock = SlaClock(ticket_id=ticket.id, kind=kind, policy=policy.name, hours=hours, timezone=tz,
                         target_seconds=minutes * 60, warn_percent=policy.warn_percent, started_at=now,
                         consumed_seconds=0, state="running", escalation_level=0)
        _plan(session, clock, now)
        session.add(clock)
        started.append(clock)
    session.flush()
    add_event(session=session, ticket=ticket, kind="sla_start", now=now, public=False,
              data={c.kind: c.due_at.isoformat() for c in started if c.due_at} | {"policy": policy.name,
                                                                                   "hours": hours})
    return started


def active(*, session: Session, ticket_id: int, kind: str | None = None) -> list[SlaClock]:
    """The ticket's clocks that are running or paused."""
    stmt = select(SlaClock).where(SlaClock.ticket_id == ticket_id, SlaClock.state != "stopped")
    if kind is not None:
        stmt = stmt.where(SlaClock.kind == kind)
    return list(session.scalars(stmt.order_by(SlaClock.id)))


def opens_next(*, session: Session, ticket_id: int, now: datetime) -> datetime | None:
    """When the business hours of the ticket's response clock next open, if they are closed now (a report in the
    evening, a Sunday); None in hours, for a 7×24 clock, or without a running one."""
    clock = next(iter(active(session=session, ticket_id=ticket_id, kind="response")), None)
    if clock is None or clock.state != "running":
        return None
    cal = _cal(session, clock)
    return None if cal.is_open(now) else cal.next_open(now)


def hold_pauses(*, session: Session, ticket_id: int) -> bool:
    """Whether putting the ticket on hold stops its resolution clock: as its policy says (`on_hold: run` lets the
    wait count), and for the built-in policies it does."""
    clock = next(iter(active(session=session, ticket_id=ticket_id, kind="resolution")), None)
    if clock is None:
        return True
    found = session.scalars(select(SlaPolicy.on_hold).where(SlaPolicy.name == clock.policy)).first()
    return found != "run"


def in_hours(*, session: Session, ticket_id: int, now: datetime) -> bool:
    """Whether the business hours of the ticket's clocks are open now (always for 7×24, or without a clock)."""
    clock = next(iter(active(session=session, ticket_id=ticket_id)), None)
    return clock is None or _cal(session, clock).is_open(now)


def no_hours_between(*, session: Session, clock: SlaClock, start: datetime, end: datetime) -> bool:
    """Whether time went by from `start` to `end` and none of it was in the clock's business hours."""
    return end > start and _cal(session, clock).elapsed(start, end) == timedelta(0)


def idle_in_hours(*, session: Session, ticket_id: int, since: datetime, now: datetime) -> timedelta | None:
    """The time from `since` to `now` in the business hours of the ticket's clocks (all of it for 7×24, or without
    a clock); None while those hours are closed now."""
    clock = next(iter(active(session=session, ticket_id=ticket_id)), None)
    if clock is None:
        return now - since
    cal = _cal(session, clock)
    return cal.elapsed(since, now) if cal.is_open(now) else None


def due(*, session: Session, ticket_id: int, kind: str) -> datetime | None:
    """When the ticket's running clock of this kind runs out (None when paused, stopped or absent)."""
    clocks = active(session=session, ticket_id=ticket_id, kind=kind)
    return clocks[-1].due_at if clocks else None


def minutes_to(*, session: Session, ticket_id: int, kind: str, now: datetime) -> tuple[int, str] | None:
    """The clock's own minutes from now to its due time (negative past it), and the catalogue key saying whose
    minutes (working hours, 7×24); None without one running: at 17:14 with the branch closing at 17:30, a due time
    of 09:02 tomorrow is 48 minutes away, not 948."""
    clocks = active(session=session, ticket_id=ticket_id, kind=kind)
    due_at = clocks[-1].due_at if clocks else None
    if due_at is None:
        return None
    cal = _cal(session, clocks[-1])
    ahead = cal.elapsed(now, due_at) if due_at > now else -cal.elapsed(due_at, now)
    return int(ahead.total_seconds() // 60), _basis_key(clocks[-1])


def _basis_key(clock: SlaClock) -> str:
    """The catalogue key naming whose minutes a clock counts (7×24, or working hours)."""
    return "sla_basis_always" if clock.hours == ALWAYS else "sla_basis_hours"


def dues(*, session: Session, ticket_ids: Sequence[int], kind: str) -> dict[int, tuple[datetime, bool]]:
    """Of each ticket's running clock of this kind: when it runs out and whether it has (breached); one statement
    for a whole queue."""
    if not ticket_ids:
        return {}
    rows = session.execute(select(SlaClock.ticket_id, SlaClock.due_at, SlaClock.breached_at)
                           .where(SlaClock.ticket_id.in_(ticket_ids), SlaClock.kind == kind,
                                  SlaClock.state == "running").order_by(SlaClock.id))
    return {row.ticket_id: (row.due_at, row.breached_at is not None) for row in rows if row.due_at is not None}


def last_stopped(*, session: Session, ticket_id: int, kind: str) -> SlaClock | None:
    """The ticket's clock of this kind that stopped last (with its business time used and its verdict)."""
    return session.scalars(select(SlaClock).where(SlaClock.ticket_id == ticket_id, SlaClock.kind == kind,
                                                  SlaClock.state == "stopped")
                           .order_by(SlaClock.stopped_at.desc(), SlaClock.id.desc())).first()


def due_params(*, session: Session, ticket_id: int) -> dict[str, str]:
    """`response_due` and `resolution_due` of running clocks as ISO strings ("" when none), for notifications."""
    out = {"response_due": "", "resolution_due": ""}
    for clock in active(session=session, ticket_id=ticket_id):
        if clock.due_at is not None:
            out[f"{clock.kind}_due"] = clock.due_at.isoformat()
    return out


def assigned_due_line(due: dict[str, str], now: datetime) -> str:
    """The catalogue key of an assignment card's deadline line: the response's too while it is still to come (a
    P1's fifteen minutes are what the engineer must meet first; one passed already, the card says how late)."""
    if due["response_due"] and due["resolution_due"] and datetime.fromisoformat(due["response_due"]) > now:
        return "assigned_due_line_both"
    return "assigned_due_line" if due["resolution_due"] else ""


def minutes_begun(seconds: float) -> int:
    """Whole minutes, counting one begun as one: how long something took or is left, shown to people (a claim
    after 30 min 40 s against a 30-minute target is "31 分钟", not a "30" that reads as met)."""
    return -int(-seconds // 60)


def stop(*, session: Session, ticket: Ticket, now: datetime, kind: str | None = None, counts: bool = True) -> None:
    """Stop clocks: met if before their due time and never breached. `counts=False` (a cancelled or merged
    ticket) stops them without a verdict."""
    for clock in active(session=session, ticket_id=ticket.id, kind=kind):
        if clock.state == "running" and clock.running_since is not None:
            clock.consumed_seconds += int(_cal(session, clock).elapsed(clock.running_since, now).total_seconds())
        clock.state = "stopped"
        clock.stopped_at = now
        clock.running_since = None
        clock.next_check_at = None
        clock.met = (clock.breached_at is None and clock.consumed_seconds <= clock.target_seconds) if counts else None
        if counts:
            if clock.kind == "response":  # the reports' copy: the first response's verdict, as its time is the
                if ticket.response_met is None:  # first claim's (a reopen's or a transfer's new clock does not
                    ticket.response_met = clock.met  # undo an answer given in time)
            else:  # the latest resolution's verdict (a reopened ticket resolved late was not resolved in time)
                ticket.resolution_met = clock.met
            used = minutes_begun(clock.consumed_seconds)  # 30 min 40 s against 30 is "31", not "30"
            add_event(session=session, ticket=ticket, kind="sla_met" if clock.met else "sla_missed", now=now,
                      public=False, body=f"{used}",
                      data={"clock": clock.kind, "used_minutes": used, "target_minutes": clock.target_seconds // 60})
    session.flush()


def pause(*, session: Session, ticket: Ticket, now: datetime) -> None:
    """Waiting on the reporter: the resolution clock stops counting."""
    for clock in active(session=session, ticket_id=ticket.id, kind="resolution"):
        if clock.state != "running" or clock.running_since is None:
            continue
        clock.consumed_seconds += int(_cal(session, clock).elapsed(clock.running_since, now).total_seconds())
        clock.state = "paused"
        clock.running_since = None
        clock.due_at = clock.warn_at = clock.next_check_at = None
        add_event(session=session, ticket=ticket, kind="sla_pause", now=now, public=False,
                  data={"clock": clock.kind, "used_minutes": clock.consumed_seconds // 60})
    session.flush()


def resume(*, session: Session, ticket: Ticket, now: datetime) -> None:
    """The reporter answered: the resolution clock counts again and its due time moves by the pause."""
    for clock in active(session=session, ticket_id=ticket.id, kind="resolution"):
        if clock.state != "paused":
            continue
        clock.state = "running"
        _plan(session, clock, now)
        add_event(session=session, ticket=ticket, kind="sla_resume", now=now, public=False,
                  data={"clock": clock.kind, "due": clock.due_at.isoformat() if clock.due_at else None})
    session.flush()


def restart(*, session: Session, ticket: Ticket, now: datetime) -> None:
    """A reopened ticket gets both clocks again with full targets (the old ones end without a verdict)."""
    tz = next((c.timezone for c in active(session=session, ticket_id=ticket.id)), None)
    if tz is None:
        last = session.scalars(select(SlaClock).where(SlaClock.ticket_id == ticket.id)
                               .order_by(SlaClock.id.desc())).first()
        tz = last.timezone if last else DEFAULT_TZ
    stop(session=session, ticket=ticket, now=now, counts=False)
    start(session=session, ticket=ticket, now=now, tz=tz)


def replan(*, session: Session, ticket: Ticket, now: datetime) -> None:
    """The priority changed: running clocks take the new policy's targets, keeping the time already used."""
    policy = policy_for(session=session, ticket=ticket)
    for clock in active(session=session, ticket_id=ticket.id):
        minutes = policy.response_minutes if clock.kind == "response" else policy.resolution_minutes
        if clock.state == "running" and clock.running_since is not None:
            clock.consumed_seconds += int(_cal(session, clock).elapsed(clock.running_since, now).total_seconds())
        clock.policy, clock.target_seconds, clock.warn_percent = policy.name, minutes * 60, policy.warn_percent
        clock.hours = hours_for(session=session, ticket=ticket, policy=policy)
        if clock.state == "running":
            _plan(session, clock, now)
    session.flush()


def recalculate(*, session: Session, now: datetime) -> int:
    """The desk's own days changed (a closure, a make-up workday): every running clock but 7×24 counts the time it
    has used under them and gets new due times; each ticket whose due time moved says so on its timeline. Returns
    how many did."""
    moved: dict[int, dict[str, str]] = {}
    for clock in session.scalars(select(SlaClock).where(SlaClock.state == "running", SlaClock.hours != ALWAYS)
                                 .order_by(SlaClock.id)):
        before = clock.due_at
        if clock.running_since is not None:
            clock.consumed_seconds += int(_cal(session, clock).elapsed(clock.running_since, now).total_seconds())
        _plan(session, clock, now)
        if clock.due_at != before and clock.due_at is not None:
            moved.setdefault(clock.ticket_id, {})[clock.kind] = clock.due_at.isoformat()
    for ticket_id, dues in moved.items():
        ticket = session.get(Ticket, ticket_id)
        if ticket is not None:
            add_event(session=session, ticket=ticket, kind="sla_recalculated", now=now, public=False, data=dues)
    session.flush()
    return len(moved)


# --- the worker --------------------------------------------------------------------------------------------


def check_due(*, session: Session, now: datetime, limit: int = 100) -> int:
    """Fire the warnings, breaches and escalations that are due; returns how many clocks were handled.
    The caller commits."""
    stmt = (
        select(SlaClock)
        .where(SlaClock.state == "running", SlaClock.next_check_at.is_not(None), SlaClock.next_check_at <= now)
        .order_by(SlaClock.next_check_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    clocks = list(session.scalars(stmt))
    for clock in clocks:
        ticket = session.get(Ticket, clock.ticket_id)
        if ticket is not None:
            _check(session, clock, ticket, now)
    session.flush()
    return len(clocks)


def _team_lead(session: Session, ticket: Ticket) -> Person | None:
    team = session.get(Team, ticket.team_code) if ticket.team_code else None
    return session.get(Person, team.lead_id) if team is not None and team.lead_id else None


def _hq(session: Session) -> list[Person]:
    """Leads of teams at the root of the region tree, else the admins."""
    roots = select(Region.code).where(Region.parent_code.is_(None))
    leads = session.scalars(select(Person).join(Team, Team.lead_id == Person.id)
                            .where(Team.region_code.in_(roots)).order_by(Person.id)).unique().all()
    return list(leads) or list(session.scalars(select(Person).where(Person.role == "admin", Person.active)))


def _above(session: Session, ticket: Ticket) -> list[Person]:
    """Whom a breach goes up to the second time: HQ's leads other than the ticket's team lead, who heard the
    first time (an HQ team's lead is one of them); the admins when that leaves nobody (one lead leads HQ)."""
    lead = _team_lead(session, ticket)
    told = {lead.id} if lead is not None else set()
    above = [p for p in _hq(session) if p.id not in told]
    if not above:
        above = [p for p in session.scalars(select(Person).where(Person.role == "admin", Person.active)
                                            .order_by(Person.id)) if p.id not in told]
    return above or _hq(session)


def _workers(session: Session, ticket: Ticket) -> list[Person]:
    if ticket.assignee is not None:
        return [ticket.assignee]
    return team_members(session=session, team_code=ticket.team_code) if ticket.team_code else []


def _open_incident(session: Session, ticket_id: int) -> str | None:
    """The reference of the open major incident the ticket is linked to, if any."""
    found = session.scalar(select(Incident).join(IncidentLink, IncidentLink.incident_id == Incident.id)
                           .where(IncidentLink.ticket_id == ticket_id, Incident.status.in_(OPEN_STATUSES)).limit(1))
    return found.ref if found is not None else None


def _loads(session: Session, ticket: Ticket, now: datetime) -> str:
    """Who of the ticket's team is at work, with how many open tickets each holds (李伟 2 · 王芳 0): whom the lead
    may give an unclaimed ticket to (conversations/06 row 3)."""
    members = present(team_members(session=session, team_code=ticket.team_code), now) if ticket.team_code else []
    counts = dict(session.execute(select(Ticket.assignee_id, func.count()).where(
        Ticket.assignee_id.in_([m.id for m in members]), Ticket.status.in_(HELD_STATUSES))
        .group_by(Ticket.assignee_id)).all()) if members else {}
    return " · ".join(f"{m.name} {counts.get(m.id, 0)}" for m in members)


def _check(session: Session, clock: SlaClock, ticket: Ticket, now: datetime) -> None:
    """Warn, breach, escalate. A ticket linked to an open major incident is worked there: what falls due is recorded
    (the reports count it) but nobody is told — its reporter was told the incident is being handled, and the
    incident's people already have it; "responded late, the lead is on it" to the reporter and a breach to the
    commander would be noise in the middle of it (conversations/08)."""
    incident = _open_incident(session, ticket.id)
    if incident is not None:
        _record_quietly(session, clock, ticket, now, incident)
        return
    # Nobody holds it, or the one assigned it has not taken it yet: the warning's button takes it.
    claim = [{"label_key": "btn_claim", "action": f"/claim {ticket.id}"}] \
        if ticket.assignee is None or ticket.status == "new" else []
    times = {"clock_key": f"sla_clock_{clock.kind}", "target_minutes": clock.target_seconds // 60,
             "basis_key": _basis_key(clock)}
    if clock.warned_at is None and clock.warn_at is not None and clock.warn_at <= now:
        clock.warned_at = now
        # In the clock's own time (business hours): at 17:14 with 48 working minutes left, due 09:02 tomorrow is
        # "48", not the 948 minutes to tomorrow morning. 5 min 30 s left: "6".
        due = clock.due_at or now
        left = max(0, minutes_begun(_cal(session, clock).elapsed(now, due).total_seconds())) if due > now else 0
        event = add_event(session=session, ticket=ticket, kind="sla_warn", now=now, public=False,
                          body=f"{clock.warn_percent}%", data={"clock": clock.kind, "percent": clock.warn_percent})
        # Past its time already (a raised priority, a round that comes late): not "还剩 0 分钟" beside the breach.
        notify(session=session, event=event, ticket=ticket, people=_workers(session, ticket),
               template="sla_warn" if due > now else "sla_warn_overdue",
               now=now, extra={**times, "percent": clock.warn_percent, "left_minutes": left,
                               "clock_due": due.isoformat(),
                               "waited_minutes": int((now - ticket.created_at).total_seconds() // 60)},
               buttons=claim)
    if clock.breached_at is None and clock.due_at is not None and clock.due_at <= now:
        clock.breached_at = now
        clock.escalation_level = 1
        lead = _team_lead(session, ticket)
        people = [lead] if lead is not None else _hq(session)
        event = add_event(session=session, ticket=ticket, kind="sla_breach", now=now, public=False,
                          body=", ".join(p.name for p in people), data={"clock": clock.kind, "level": 1,
                                                                         "to": [p.id for p in people]})
        notify(session=session, event=event, ticket=ticket, people=people, template="sla_breach", now=now,
               extra={**times, "reported_at": ticket.created_at.isoformat(),
                      "loads_key": "sla_breach_loads" if ticket.assignee is None and ticket.team_code else "",
                      "loads_list": _loads(session, ticket, now) if ticket.assignee is None else ""},
               buttons=[{"label_key": "btn_show", "action": f"/show {ticket.id}"}])
        if clock.kind == "response":
            notify(session=session, event=event, ticket=ticket, people=[ticket.reporter],
                   template="sla_breach_reporter", now=now, extra={"lead": people[0].name if people else ""})
    elif clock.breached_at is not None and clock.escalation_level < 2:
        escalate = _escalate_at(session, clock)
        if escalate is not None and escalate <= now:
            clock.escalation_level = 2
            people = _above(session, ticket)
            event = add_event(session=session, ticket=ticket, kind="sla_escalated", now=now, public=False,
                              body=", ".join(p.name for p in people),
                              data={"clock": clock.kind, "level": 2, "to": [p.id for p in people]})
            notify(session=session, event=event, ticket=ticket, people=people, template="sla_escalated", now=now,
                   extra=times, buttons=[{"label_key": "btn_show", "action": f"/show {ticket.id}"}])
    clock.next_check_at = _next_check(session, clock)


def _record_quietly(session: Session, clock: SlaClock, ticket: Ticket, now: datetime, incident: str) -> None:
    """What `_check` does for a ticket of an open incident: the events, no notices (no escalation either)."""
    if clock.warned_at is None and clock.warn_at is not None and clock.warn_at <= now:
        clock.warned_at = now
        add_event(session=session, ticket=ticket, kind="sla_warn", now=now, public=False,
                  body=f"{clock.warn_percent}%", data={"clock": clock.kind, "percent": clock.warn_percent,
                                                      "incident": incident})
    if clock.breached_at is None and clock.due_at is not None and clock.due_at <= now:
        clock.breached_at = now
        clock.escalation_level = 2  # (escalating it after the incident would be news of nothing)
        add_event(session=session, ticket=ticket, kind="sla_breach", now=now, public=False, body=incident,
                  data={"clock": clock.kind, "level": 1, "to": [], "incident": incident})
    clock.next_check_at = _next_check(session, clock)
