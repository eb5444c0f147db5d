"""On-call: which team answers for a speciality in an area, its chain of people, pages with an
acknowledgement timer that escalate to the next in order, and the times to acknowledge and assemble.

The timers live in the database (`pages.due_at`), so a restart loses none; the worker's round takes the
due pages `FOR UPDATE SKIP LOCKED`, so two workers never escalate the same page twice."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from wuyou.desk import outbox
from wuyou.desk.absences import present
from wuyou.desk.errors import Place
from wuyou.desk.hours import DEFAULT_TZ
from wuyou.desk.incidents import evidence
from wuyou.desk.incidents.models import Incident, IncidentEvent, IncidentMember, OncallOverride, Page
from wuyou.desk.incidents.rotation import Rotation, order_at
from wuyou.desk.models import Branch, Person, Team, TeamMember
from wuyou.desk.org import region_chain
from wuyou.desk.webhooks import service as webhooks

ACK_TIMEOUT = timedelta(minutes=5)


def team_for(*, session: Session, speciality: str, region_code: str | None,
             branches: Collection[str] = (), near: Person | None = None) -> Team | None:
    """The team of this speciality nearest to the area (its region or the nearest ancestor; HQ last); given the
    affected branches, the team nearest to most of them (a fault in Shanghai and Hangzhou pages Shanghai's team, not
    the first team by code of a region nobody reported from). An incident of no known area yet (declared in chat,
    nothing linked) pages a team of the speciality that `near` (who asks) leads or is in, before the first by code
    (a Shanghai lead's 应急 呼叫 … 终端 paged Beijing's)."""
    teams = list(session.scalars(select(Team).where(Team.speciality == speciality).order_by(Team.code)))
    if not teams:
        return None
    if near is not None and region_code is None and not branches:
        own = [t for t in teams if t.lead_id == near.id] or [
            t for t in teams if session.get(TeamMember, (t.code, near.id)) is not None]
        if own:
            return own[0]
    regions = [r for r in session.scalars(select(Branch.region_code).where(Branch.code.in_(branches)))] \
        if branches else []
    nearest = Counter(t.code for t in (_nearest(session, teams, r) for r in regions) if t is not None)
    if nearest:
        code = min(nearest, key=lambda c: (-nearest[c], c))  # the most branches; of equals, by code
        return next(t for t in teams if t.code == code)
    return _nearest(session, teams, region_code)


def _nearest(session: Session, teams: list[Team], region_code: str | None) -> Team | None:
    chain = region_chain(session=session, region_code=region_code) if region_code else []
    for code in chain:
        for team in teams:
            if team.region_code == code:
                return team
    roots = [t for t in teams if t.region_code == (chain[-1] if chain else t.region_code)]
    return roots[0] if roots else teams[0]


def chain(*, session: Session, team: Team, now: datetime, tz: str = DEFAULT_TZ) -> list[Person]:
    """Who is paged, in order: the team's on-call order as it stands now (its members if none is set;
    rotated at the hand-overs, overrides first), then its lead."""
    rows = session.execute(
        select(Person, TeamMember.oncall_position, TeamMember.position)
        .join(TeamMember, TeamMember.person_id == Person.id)
        .where(TeamMember.team_code == team.code, Person.active)
        .options(selectinload(Person.absences))  # (who is away: one statement for the team, not one per person)
    ).all()
    oncall = sorted((r for r in rows if r[1] is not None), key=lambda r: r[1] or 0)
    by_id = {r[0].id: r[0] for r in rows}
    order = [r[0].id for r in (oncall or sorted(rows, key=lambda r: r[2]))]
    overrides = [(o.person_id, o.starts_at, o.ends_at) for o in session.scalars(
        select(OncallOverride).where(OncallOverride.team_code == team.code, OncallOverride.ends_at > now))]
    rotation = Rotation.parse(team.oncall_rotation, Place("team", name=team.code)) if team.oncall_rotation else None
    people = []
    for pid in order_at(order, rotation, now, ZoneInfo(tz), overrides):
        person = by_id.get(pid) or session.get(Person, pid)
        if person is not None and person.active:
            people.append(person)
    lead = session.get(Person, team.lead_id) if team.lead_id else None
    if lead is not None and lead.active and lead not in people:
        people.append(lead)
    return present(people, now)  # (those on leave are passed by, unless nobody else is left)


def page(
    *, session: Session, incident: Incident, team: Team, people: list[Person], step: int, now: datetime,
    timeout: timedelta = ACK_TIMEOUT, missed: Person | None = None,
) -> Page:
    """Page `people[step]` for the team and start the acknowledgement timer."""
    person = people[step]
    row = Page(incident_id=incident.id, team_code=team.code, speciality=team.speciality, person_id=person.id,
               step=step, chain=[p.id for p in people], paged_at=now, due_at=now + timeout, status="paging")
    session.add(row)
    member = session.get(IncidentMember, (incident.id, person.id))
    if member is None:
        session.add(IncidentMember(incident_id=incident.id, person_id=person.id, kind="responder",
                                   speciality=team.speciality, added_at=now))
    session.flush()
    event = record(session, incident, "paged", now, data={
        "person": person.id, "name": person.name, "team": team.code, "team_name": team.name, "step": step + 1,
        "missed": missed.name if missed else None})
    outbox.enqueue(
        session=session, person_id=person.id, template="incident_page" if missed is None else "incident_page_next",
        params={**card(incident), **evidence.impact(session, incident, now), "team": team.name, "step": step + 1,
                "step_before": step,
                "missed": missed.name if missed else "",
                "minutes": int(timeout.total_seconds() // 60)},
        key=f"inc{incident.id}:ev{event.id}:{person.id}", now=now,
        buttons=[{"label_key": "btn_ack", "action": f"/incident {incident.ref} join"},
                 {"label_key": "btn_board", "action": f"/incident {incident.ref} show"}],
    )
    return row


def acknowledge(*, session: Session, incident: Incident, person: Person, now: datetime) -> Page | None:
    """The person answers a page (or joins): the first answer of a team stops its chain. Returns the page
    answered in time, or None for a late answer or a join without a page (recorded as joined)."""
    pages = list(session.scalars(select(Page).where(Page.incident_id == incident.id, Page.person_id == person.id)
                                 .order_by(Page.id)))
    answered = next((p for p in pages if p.status == "paging"), None)
    member = session.get(IncidentMember, (incident.id, person.id))
    if member is None:
        member = IncidentMember(incident_id=incident.id, person_id=person.id, kind="responder", added_at=now)
        session.add(member)
    member.kind = "responder"
    member.joined_at = member.joined_at or now
    if answered is None:
        record(session, incident, "joined", now, actor=person, data={"late": bool(pages)})
        return None
    answered.status, answered.acked_at = "acked", now
    member.speciality = answered.speciality
    for other in session.scalars(select(Page).where(Page.incident_id == incident.id, Page.status == "paging",
                                                    Page.speciality == answered.speciality, Page.id != answered.id)):
        other.status = "cancelled"
    first = min(session.scalars(select(Page.paged_at).where(Page.incident_id == incident.id,
                                                            Page.speciality == answered.speciality)))
    if incident.tech_lead_id is None:
        incident.tech_lead_id = person.id
    session.flush()
    record(session, incident, "acked", now, actor=person, data={
        "speciality": answered.speciality, "team": answered.team_code,
        "seconds": int((now - first).total_seconds()),
        "seconds_this_page": int((now - answered.paged_at).total_seconds())})
    if incident.assembled_at is None and _assembled(session, incident):
        incident.assembled_at = now
        record(session, incident, "assembled", now, data={"seconds": int((now - incident.declared_at).total_seconds())})
    return answered


def _assembled(session: Session, incident: Incident) -> bool:
    """Every paged speciality has someone who acknowledged."""
    rows = session.execute(select(Page.speciality, Page.status).where(Page.incident_id == incident.id)).all()
    paged = {s for s, _ in rows}
    return bool(paged) and paged <= {s for s, status in rows if status == "acked"}


def room(*, session: Session, incident: Incident) -> list[Person]:
    """The war-room: role holders, paged and joined responders, and subscribers."""
    people: list[Person] = []
    for role_holder in (incident.commander, incident.comms, incident.tech_lead):
        if role_holder is not None and role_holder not in people:
            people.append(role_holder)
    for member in session.scalars(select(IncidentMember).where(IncidentMember.incident_id == incident.id)):
        if member.person not in people:
            people.append(member.person)
    return people


def escalate_due(*, session: Session, now: datetime, limit: int = 100) -> int:
    """Pages not acknowledged in time: mark them missed and page the next in the chain."""
    due = list(session.scalars(select(Page).where(Page.status == "paging", Page.due_at <= now).order_by(Page.id)
                               .limit(limit).with_for_update(skip_locked=True, of=Page)))
    for row in due:
        row.status = "missed"
        incident = session.get(Incident, row.incident_id)
        team = session.get(Team, row.team_code)
        if incident is None or team is None or incident.status not in ("active", "mitigated"):
            continue
        people = [p for p in (session.get(Person, pid) for pid in row.chain) if p is not None]
        missed = session.get(Person, row.person_id)
        if row.step + 1 >= len(people):
            record(session, incident, "chain_exhausted", now, data={"team": team.code, "team_name": team.name})
            if incident.commander_id:
                outbox.enqueue(session=session, person_id=incident.commander_id, template="incident_nobody_acked",
                               params={**card(incident), "team": team.name}, now=now,
                               key=f"inc{incident.id}:exhausted:{row.id}")
            continue
        nxt = page(session=session, incident=incident, team=team, people=people, step=row.step + 1, now=now,
                   timeout=row.due_at - row.paged_at, missed=missed)
        outbox.enqueue(session=session, person_id=row.person_id, template="incident_page_passed_on",
                       params={**card(incident), "next": nxt.person.name}, now=now,
                       key=f"inc{incident.id}:passed:{row.id}",
                       buttons=[{"label_key": "btn_ack", "action": f"/incident {incident.ref} join"}])
        for person in room(session=session, incident=incident):  # the war-room sees who is paged now
            if person.id not in (row.person_id, nxt.person_id):
                outbox.enqueue(session=session, person_id=person.id, template="incident_paging_next",
                               params={**card(incident), "room": incident.id, "missed": missed.name if missed else "",
                                       "next": nxt.person.name, "team": team.name, "step": nxt.step + 1,
                                       "minutes": int((row.due_at - row.paged_at).total_seconds() // 60)},
                               now=now, key=f"inc{incident.id}:paging:{nxt.id}:{person.id}")
    return len(due)


def card(incident: Incident) -> dict[str, object]:
    """The facts every incident notification shows, as template parameters."""
    return {"incident": incident.ref, "severity": incident.severity, "title": incident.title,
            "board_path": f"/incidents/{incident.ref}"}


def record(session: Session, incident: Incident, kind: str, now: datetime, *, actor: Person | None = None,
           body: str | None = None, data: dict[str, object] | None = None) -> IncidentEvent:
    event = IncidentEvent(incident_id=incident.id, at=now, actor_id=actor.id if actor else None, kind=kind,
                          body=body, data=data or {})
    session.add(event)
    session.flush()
    webhooks.emit(session=session, event=f"incident.{kind}", key=f"ie{event.id}", now=now, payload={
        "incident": {"id": incident.ref, "number": incident.id, "title": incident.title,
                     "severity": incident.severity, "status": incident.status},
        "actor": actor.id if actor else None, "body": body, "data": data or {},
    })
    return event
