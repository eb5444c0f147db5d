"""Major incidents: offer and declare, link tickets and reports, status updates broadcast to every affected
reporter once, roles, tasks, notes, severity, mitigation and resolution (which resolves the linked tickets).

Every step is one timeline event and its notifications are outbox rows keyed by event and person, written
in the caller's transaction: a crash loses none and a retry sends none twice."""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wuyou.desk import bursts, outbox, scope
from wuyou.desk.errors import Forbidden, InvalidTransition, NotFound
from wuyou.desk.incidents import evidence, oncall
from wuyou.desk.incidents.models import (
    OPEN_STATUSES,
    SEVERITIES,
    FaultReport,
    Incident,
    IncidentEvent,
    IncidentLink,
    IncidentMember,
    IncidentTask,
    Page,
    SurgeOffer,
)
from wuyou.desk.incidents.oncall import room
from wuyou.desk.models import Branch, Category, Person, Team, TeamMember, Ticket
from wuyou.desk.org import person_named, region_chain
from wuyou.desk.tickets import mark_resolved, resolved_by_incident
from wuyou.desk.timeline import add_event

UPDATE_EVERY = {"SEV1": timedelta(minutes=30), "SEV2": timedelta(hours=1), "SEV3": timedelta(hours=2)}
SUPPRESS_FOR = timedelta(hours=1)
ROLES = ("commander", "comms", "tech_lead")
_REF = re.compile(r"^(?:INC-?)?(\d{1,9})$", re.I)

card = oncall.card


def parse_ref(text: str) -> int | None:
    """7 from `INC-7`, `inc7` or `7`."""
    match = _REF.match(text.strip())
    return int(match.group(1)) if match else None


def get(*, session: Session, incident_id: int) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"incident INC-{incident_id}")
    return incident


def room_groups(incident: Incident, platform: str) -> list[str]:
    """The group chats on a platform that staff made rooms of the incident (besides the one the desk opened)."""
    groups = (incident.war_room or {}).get("groups")
    found = groups.get(platform) if isinstance(groups, dict) else None
    return [str(g) for g in found] if isinstance(found, list) else []


def add_room_group(*, session: Session, incident: Incident, platform: str, chat_id: str) -> bool:
    """Make a group chat one of the incident's rooms (False when it is already). The war-room job rewrites
    `war_room` under the incident's row lock: so does this."""
    session.execute(select(Incident.id).where(Incident.id == incident.id).with_for_update())
    session.refresh(incident, attribute_names=["war_room"])  # as it is now that the row is ours
    if chat_id in room_groups(incident, platform):
        return False
    rooms = copy.deepcopy(incident.war_room or {})  # a new value, or the JSON change goes unseen
    groups = rooms.get("groups")
    rooms["groups"] = {**(groups if isinstance(groups, dict) else {}),
                       platform: [*room_groups(incident, platform), chat_id]}
    incident.war_room = rooms
    session.flush()
    return True


def open_incidents(*, session: Session) -> list[Incident]:
    return list(session.scalars(select(Incident).where(Incident.status.in_(OPEN_STATUSES)).order_by(Incident.id)))


def event(session: Session, incident: Incident, kind: str, now: datetime, *, actor: Person | None = None,
          body: str | None = None, data: dict[str, object] | None = None) -> IncidentEvent:
    """Append one entry to the incident's timeline."""
    return oncall.record(session, incident, kind, now, actor=actor, body=body, data=data)


def timeline(*, session: Session, incident_id: int) -> list[IncidentEvent]:
    return list(session.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident_id)
                                .order_by(IncidentEvent.at, IncidentEvent.id)))


# --- surge offers -----------------------------------------------------------------------------------------------


def duty_leads(*, session: Session, categories: Iterable[Category | None], also: Iterable[str] = ()) -> list[Person]:
    """Who is asked to declare: the leads of the teams of the reports' specialities, else every lead."""
    specialities = {c.speciality for c in categories if c is not None and c.speciality} | set(also)
    teams = session.scalars(select(Team).where(Team.speciality.in_(specialities))).all() if specialities else []
    ids = list(dict.fromkeys(t.lead_id for t in teams if t.lead_id))
    leads = [p for p in (session.get(Person, i) for i in ids) if p is not None and p.active]
    if not leads:
        leads = list(session.scalars(select(Person).where(Person.role == "lead", Person.active).order_by(Person.id)))
    return leads or list(session.scalars(select(Person).where(Person.role == "admin", Person.active)))


def suggested_severity(branches: int) -> str:
    return "SEV1" if branches >= 20 else "SEV2" if branches >= 5 else "SEV3"


def offer(
    *, session: Session, group_key: int, reports: Sequence[FaultReport], title: str, now: datetime,
    category: Category | None = None, ask: bool = True,
) -> SurgeOffer | None:
    """Offer a group of similar reports to the duty lead, once per group; None when it was offered already
    (the offer's evidence is brought up to date) or is suppressed. `ask=False`: the row only, the card not sent (the
    group is declared at once: a card to declare what is declared is a stale button)."""
    branches = sorted({r.branch_code for r in reports if r.branch_code})
    existing = session.scalars(select(SurgeOffer).where(SurgeOffer.group_key == group_key)).first()
    if existing is not None:
        if existing.category_id is None and category is not None:
            existing.category_id = category.id
        existing.report_ids = sorted({*existing.report_ids, *(r.id for r in reports)})
        existing.branches = sorted({*existing.branches, *branches})
        return None
    leads = duty_leads(session=session, categories=[category])
    row = SurgeOffer(group_key=group_key, at=now, title=title[:200], severity=suggested_severity(len(branches)),
                     category_id=category.id if category else None, report_ids=[r.id for r in reports],
                     branches=branches, leads=[p.id for p in leads])
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return None  # another server process offered the same group a moment ago
    for report in reports:
        report.offer_id = report.offer_id or row.id
    if ask:
        _send_offer(session, row, reports, now, "")
    return row


def offer_again(*, session: Session, offer: SurgeOffer, reports: Sequence[FaultReport], now: datetime) -> None:
    """A withdrawn offer whose group reaches the threshold again with reports the knowledge base did not solve:
    offered again, with all its evidence."""
    offer.status, offer.at = "offered", now
    offer.severity = suggested_severity(len(offer.branches))
    _send_offer(session, offer, reports, now, f":again{len(offer.report_ids)}")


def _send_offer(session: Session, row: SurgeOffer, reports: Sequence[FaultReport], now: datetime, again: str) -> None:
    """The card that asks the duty leads to declare or dismiss."""
    first, last = min(r.at for r in reports), max(r.at for r in reports)
    samples = _varied([r.text for r in reports], 3)
    tickets = sorted(r.ticket_id for r in reports if r.ticket_id)
    people = len({r.person_id for r in reports})  # (the thresholds count people: one who says it twice is one)
    branches = row.branches
    for lead_id in row.leads:
        outbox.enqueue(
            session=session, person_id=lead_id, template="incident_offer",
            params={"offer": row.id, "title": row.title, "reports": len(reports), "branch_count": len(branches),
                    "minutes": max(1, round((last - first).total_seconds() / 60)), "first_due": first.isoformat(),
                    "last_due": last.isoformat(), "branches": evidence.branches_by_region(session, branches),
                    "samples": "\n".join(f"“{s}”" for s in samples),
                    "tickets": evidence.ranges(tickets) or "—", "severity": row.severity, "people_count": people,
                    # (a report is a ticket only once its reporter finishes the dialogue: said, not a number missing)
                    "unfiled_count": len(reports) - len(tickets),
                    "unfiled_key": "incident_offer_unfiled" if len(tickets) < len(reports) else "",
                    "people_key": "incident_offer_people" if people < len(reports) else ""},
            key=f"offer{row.id}{again}:{lead_id}", now=now,
            buttons=[{"label_key": "btn_declare", "action": f"/incident confirm {row.id}"},
                     {"label_key": "btn_dismiss", "action": f"/incident dismiss {row.id}"}],
        )


def _varied(texts: Sequence[str], n: int) -> list[str]:
    """Up to n texts that differ most from each other (greedy), to show the breadth of a group."""
    chosen: list[str] = []
    for text in sorted(dict.fromkeys(texts), key=len, reverse=True):
        if len(chosen) >= n:
            break
        if all(fuzz.ratio(text, c) < 70 for c in chosen):
            chosen.append(text)
    return chosen


def add_to_offer(*, session: Session, group_key: int, report: FaultReport) -> SurgeOffer | None:
    """One more report of a group already offered: added to the offer's evidence (without reading the group's
    other reports again); the offer, or None when this group has none (yet)."""
    existing = offer_for_group(session=session, group_key=group_key)
    if existing is None:
        return None
    if report.id not in existing.report_ids:
        existing.report_ids = [*existing.report_ids, report.id]
    if report.branch_code and report.branch_code not in existing.branches:
        existing.branches = sorted({*existing.branches, report.branch_code})
    if existing.category_id is None and report.category_id is not None:
        existing.category_id = report.category_id
    return existing


def offer_for_group(*, session: Session, group_key: int, lock: bool = False) -> SurgeOffer | None:
    """The offer made for a group; `lock` takes it for update, so that only one process declares it."""
    stmt = select(SurgeOffer).where(SurgeOffer.group_key == group_key)
    return session.scalars(stmt.with_for_update() if lock else stmt).first()


def latest_offer(*, session: Session, lead: Person, now: datetime) -> SurgeOffer | None:
    """The newest open offer made to this lead in the last few hours."""
    rows = session.scalars(select(SurgeOffer).where(SurgeOffer.status == "offered",
                                                    SurgeOffer.at >= now - timedelta(hours=6))
                           .order_by(SurgeOffer.id.desc())).all()
    return next((o for o in rows if lead.id in o.leads or lead.role in ("lead", "admin")), None)


def open_offers(*, session: Session, since: datetime) -> list[SurgeOffer]:
    """Offers made since then that nobody has answered yet."""
    return list(session.scalars(select(SurgeOffer).where(SurgeOffer.status == "offered", SurgeOffer.at >= since)
                                .order_by(SurgeOffer.id)))


def withdraw(*, session: Session, offer: SurgeOffer, solved: int, now: datetime) -> None:
    """An offer whose reports were mostly solved by the reporters with the knowledge base: withdrawn, and the leads
    asked are told (a lead may still declare it)."""
    offer.status = "withdrawn"
    for lead_id in offer.leads:
        outbox.enqueue(session=session, person_id=lead_id, template="incident_offer_withdrawn",
                       params={"offer": offer.id, "title": offer.title, "solved": solved},
                       key=f"offer{offer.id}:withdrawn{len(offer.report_ids)}:{lead_id}", now=now)


def dismiss(*, session: Session, offer_id: int, lead: Person, now: datetime) -> SurgeOffer:
    """No incident: the group is not offered again for an hour."""
    row = session.get(SurgeOffer, offer_id)
    if row is None:
        raise NotFound(f"offer {offer_id}")
    if row.status not in ("offered", "withdrawn"):
        raise InvalidTransition(row.status, "dismiss")
    row.status, row.dismissed_by_id, row.suppressed_until = "dismissed", lead.id, now + SUPPRESS_FOR
    return row


# --- declaring --------------------------------------------------------------------------------------------------


def declare(
    *, session: Session, title: str, severity: str, source: str, now: datetime, declarer: Person | None = None,
    category: Category | None = None, reports: Sequence[FaultReport] = (), tickets: Sequence[Ticket] = (),
    specialities: Sequence[str] = (), region_code: str | None = None, started_at: datetime | None = None,
    detected_at: datetime | None = None, fingerprint: str | None = None, offer_row: SurgeOffer | None = None,
    answered: Iterable[str] = (),
) -> Incident:
    """Open an incident: roles, linked reports and tickets, on-call pages, and the first notices (not to the reporters
    in `answered`: the one whose report declared it hears it in the reply)."""
    if severity not in SEVERITIES:
        raise InvalidTransition(severity, "severity")
    ticket_list = list(dict.fromkeys([*tickets, *(t for t in (session.get(Ticket, r.ticket_id) for r in reports
                                                                   if r.ticket_id) if t is not None)]))
    if category is None:
        cats = Counter(t.category_id for t in ticket_list if t.category_id)
        category = session.get(Category, cats.most_common(1)[0][0]) if cats else None
    branches = {r.branch_code for r in reports if r.branch_code} | {t.branch_code for t in ticket_list if t.branch_code}
    if region_code is None:
        region_code = _common_region(session, branches)
    wanted = list(dict.fromkeys([*(s for s in ([category.speciality] if category and category.speciality else [])),
                                 *(category.page if category else []), *specialities]))
    starts = [r.at for r in reports] + [t.created_at for t in ticket_list]
    incident = Incident(
        title=title[:200], severity=severity, status="active", source=source, fingerprint=fingerprint,
        category_id=category.id if category else None, region_code=region_code, specialities=wanted,
        declared_by_id=declarer.id if declarer else None, started_at=started_at or min(starts, default=now),
        detected_at=detected_at or (offer_row.at if offer_row else None), declared_at=now,
        next_update_at=now + UPDATE_EVERY[severity], war_room={},
    )
    leads = duty_leads(session=session, categories=[category], also=wanted)
    commander = declarer if declarer is not None and declarer.role != "reporter" else (leads[0] if leads else None)
    incident.commander_id = commander.id if commander else None
    comms = _regional_lead(session, branches, exclude=commander, region_code=region_code) or commander
    incident.comms_id = comms.id if comms else None
    session.add(incident)
    session.flush()
    if offer_row is not None:
        offer_row.status, offer_row.incident_id = "declared", incident.id
    event(session, incident, "declared", now, actor=declarer, body=title,
          data={"source": source, "severity": severity, "reports": len(reports), "tickets": len(ticket_list)})
    for person in dict.fromkeys(p for p in (commander, comms) if p is not None):
        if person is not None and session.get(IncidentMember, (incident.id, person.id)) is None:
            session.add(IncidentMember(incident_id=incident.id, person_id=person.id, kind="responder",
                                       added_at=now, joined_at=now))
    session.flush()
    for report in reports:
        report.incident_id = incident.id
    for ticket in ticket_list:
        _link(session, incident, ticket, now)
    paged: list[str] = []
    for speciality in wanted:
        team = oncall.team_for(session=session, speciality=speciality, region_code=region_code, branches=branches,
                               near=declarer)
        if team is None:
            continue
        people = oncall.chain(session=session, team=team, now=now)
        if people:
            oncall.page(session=session, incident=incident, team=team, people=people, step=0, now=now)
            paged.append(f"{people[0].name}（{team.name}）")
    announced = event(session, incident, "announced", now, data={"paged": "、".join(paged) or "—"})
    params = {**card(incident), **evidence.impact(session, incident, now),
              "commander": commander.name if commander else "—",
              "comms": comms.name if comms else "—",
              **({"paged": "、".join(paged)} if paged else {"paged_key": "incident_nobody_paged"}),
              "tickets": len(ticket_list),
              "branch_count": len(branches),
              "counts_key": "incident_counts" if branches or ticket_list else "incident_counts_none"}
    for person in room(session=session, incident=incident):
        if person.id not in {p for p in _paged_ids(session, incident)}:
            outbox.enqueue(session=session, person_id=person.id, template="incident_declared", params=params,
                           key=f"inc{incident.id}:ev{announced.id}:{person.id}", now=now,
                           buttons=[{"label_key": "btn_board", "action": f"/incident {incident.ref} show"}])
    tell_reporters(session=session, incident=incident, ev=announced, template="incident_linked_reporter", now=now,
                   exclude=answered)
    return incident


def _paged_ids(session: Session, incident: Incident) -> set[str]:
    return set(session.scalars(select(Page.person_id).where(Page.incident_id == incident.id)))


def _common_region(session: Session, branches: set[str]) -> str | None:
    chains = [region_chain(session=session, region_code=b.region_code)
              for b in (session.get(Branch, c) for c in branches) if b is not None]
    if not chains:
        return None
    common = [code for code in chains[0] if all(code in c for c in chains[1:])]
    return common[0] if common else None


def _regional_lead(session: Session, branches: set[str], *, exclude: Person | None,
                   region_code: str | None = None) -> Person | None:
    """The lead of a team serving the most affected region (the communications role); with no branch affected yet
    (a monitoring alert's), of the incident's region."""
    regions = Counter(b.region_code for b in (session.get(Branch, c) for c in branches) if b is not None)
    if not regions and region_code is not None:
        regions[region_code] = 1
    # The most affected first; of regions as affected, by code (not by the order a set of branches happens in).
    for region, _ in sorted(regions.items(), key=lambda item: (-item[1], item[0])):
        for code in region_chain(session=session, region_code=region)[:-1]:  # not HQ: that is the commander's
            team = session.scalars(select(Team).where(Team.region_code == code, Team.lead_id.is_not(None))
                                   .order_by(Team.code)).first()
            if team is not None and team.lead_id and (exclude is None or team.lead_id != exclude.id):
                return session.get(Person, team.lead_id)
    return None


# --- linking ----------------------------------------------------------------------------------------------------


def _link(session: Session, incident: Incident, ticket: Ticket, now: datetime,
          actor: Person | None = None) -> IncidentEvent | None:
    """Link the ticket (once): the timeline entry, or None when it was linked already."""
    if session.scalars(select(IncidentLink).where(IncidentLink.incident_id == incident.id,
                                                  IncidentLink.ticket_id == ticket.id)).first() is not None:
        return None
    session.add(IncidentLink(incident_id=incident.id, ticket_id=ticket.id, at=now))
    session.flush()
    # A grouped card still held back no longer offers it to be claimed: the incident's people have it.
    bursts.drop(session=session, ticket=ticket, now=now)
    add_event(session=session, ticket=ticket, kind="incident_linked", now=now, body=incident.ref, actor=actor,
              data={"incident": incident.id})
    return event(session, incident, "linked", now, actor=actor,
                 data={"ticket": ticket.id, "branch": ticket.branch_code, "reporter": ticket.reporter.name})


def link_ticket(*, session: Session, incident: Incident, ticket: Ticket, now: datetime) -> bool:
    """Link a ticket to the incident (once); its reporter then hears every status update."""
    return _link(session, incident, ticket, now) is not None


def link_more(*, session: Session, incident: Incident, actor: Person, tickets: Sequence[Ticket],
              now: datetime) -> list[Ticket]:
    """Tickets found to be about the incident after it was declared, linked by someone who serves them: each one's
    reporter is told once, and the incident's resolution resolves them. Returns those newly linked."""
    _require_open(incident, "link")
    return [ticket for ticket in tickets if _link_and_tell(session, incident, ticket, now, actor)]


def _link_and_tell(session: Session, incident: Incident, ticket: Ticket, now: datetime, actor: Person | None) -> bool:
    """Link a ticket found to be about the incident after its declaration, and tell its reporter (once)."""
    ev = _link(session, incident, ticket, now, actor=actor)
    if ev is None:
        return False
    outbox.enqueue(session=session, person_id=ticket.reporter_id, template="incident_linked_reporter",
                   params={**card(incident), "ticket": ticket.id, "ticket_note_key": "incident_your_ticket"},
                   key=f"inc{incident.id}:ev{ev.id}:{ticket.reporter_id}", now=now, ticket_id=ticket.id)
    return True


def unlink(*, session: Session, incident: Incident, actor: Person, tickets: Sequence[Ticket],
           now: datetime) -> list[Ticket]:
    """Tickets linked by mistake (a printer fault taken for the 医保 outage): no longer the incident's — its
    resolution will not resolve them, their reporters stop hearing its news and are told their ticket is worked on
    its own. Returns those unlinked."""
    _require_open(incident, "unlink")
    done = []
    for ticket in tickets:
        link = session.scalars(select(IncidentLink).where(IncidentLink.incident_id == incident.id,
                                                          IncidentLink.ticket_id == ticket.id)).first()
        if link is None:
            continue
        session.delete(link)
        for report in session.scalars(select(FaultReport).where(FaultReport.ticket_id == ticket.id,
                                                                FaultReport.incident_id == incident.id)):
            report.incident_id = None
        add_event(session=session, ticket=ticket, kind="incident_unlinked", now=now, body=incident.ref, actor=actor,
                  data={"incident": incident.id})
        ev = event(session, incident, "unlinked", now, actor=actor,
                   data={"ticket": ticket.id, "branch": ticket.branch_code, "reporter": ticket.reporter.name})
        outbox.enqueue(session=session, person_id=ticket.reporter_id, template="incident_unlinked_reporter",
                       params={**card(incident), "ticket": ticket.id}, now=now,
                       key=f"inc{incident.id}:ev{ev.id}:{ticket.reporter_id}", ticket_id=ticket.id)
        done.append(ticket)
    session.flush()
    return done


STRAGGLERS_WITHIN = timedelta(hours=2)  # how far back a declared offer's reports are looked at again


def link_stragglers(*, session: Session, now: datetime) -> int:
    """Reports a declared offer counted that are not the incident's: made while it was being declared, in another
    request's transaction that could not see it yet (nine branches report at once; two were left out, asked for a
    category, their tickets never linked). Each becomes the incident's now, its ticket linked, its reporter told.
    Returns how many. Run by the worker's incident round."""
    count = 0
    offers = session.scalars(select(SurgeOffer).where(SurgeOffer.status == "declared", SurgeOffer.incident_id
                                                      .is_not(None), SurgeOffer.at >= now - STRAGGLERS_WITHIN))
    for row in offers:
        incident = session.get(Incident, row.incident_id)
        if incident is None or incident.status not in OPEN_STATUSES:
            continue
        for report in session.scalars(select(FaultReport).where(FaultReport.id.in_(row.report_ids),
                                                                FaultReport.incident_id.is_(None))
                                      .with_for_update(skip_locked=True, of=FaultReport)):
            report.incident_id = incident.id
            count += 1
            ticket = session.get(Ticket, report.ticket_id) if report.ticket_id else None
            if ticket is not None and ticket.status not in ("resolved", "closed", "cancelled", "merged"):
                _link_and_tell(session, incident, ticket, now, None)
            elif ticket is None:  # still in the ticket dialogue, or gone: told; their answer joins the incident
                outbox.enqueue(session=session, person_id=report.person_id, template="incident_linked_reporter",
                               params={**card(incident), "ticket_note": ""}, now=now,
                               key=f"inc{incident.id}:straggler{report.id}")
    session.flush()
    return count


ALIKE_BEFORE = timedelta(minutes=30)  # how long before the incident's start a ticket may have begun it


def unlinked_alike(*, session: Session, incident: Incident, limit: int = 20) -> list[Ticket]:
    """Open tickets of the incident's category filed since a little before it started that are not linked to it:
    most are the same fault, worded too differently for the surge detector (医保刷不了了 / 社保卡结算一直转圈). For
    whoever works the incident to link, not linked by themselves."""
    if incident.category_id is None:
        return []
    linked = select(IncidentLink.ticket_id).where(IncidentLink.incident_id == incident.id)
    return list(session.scalars(
        select(Ticket).where(Ticket.category_id == incident.category_id,
                             Ticket.created_at >= incident.started_at - ALIKE_BEFORE,
                             Ticket.status.in_(("new", "claimed", "in_progress", "waiting", "on_hold", "reopened")),
                             Ticket.id.not_in(linked))
        .order_by(Ticket.id).limit(limit)))


def link_reported_before(*, session: Session, incident: Incident, now: datetime, limit: int = 200) -> list[Ticket]:
    """Open tickets a monitoring alert's incident covers that were filed before it was declared: from a little
    before its start, in its region (everywhere when it has none), of a catalog leaf of one of its specialities —
    the branch that said 网断了 five minutes before the router's alert fired. The rule a report made after the
    alert follows (bot.surge alert_covers); each reporter is told once, and the incident's resolution resolves
    their ticket. Only tickets nobody has taken: one an engineer works (VPN 在家连不上, claimed, a question answered)
    is theirs to judge — linked, the incident's summary resolved it. Returns those newly linked."""
    if not incident.specialities:
        return []
    linked = select(IncidentLink.ticket_id).where(IncidentLink.incident_id == incident.id)
    candidates = session.scalars(
        select(Ticket).join(Category, Category.id == Ticket.category_id)
        .where(Category.speciality.in_(incident.specialities),
               Ticket.created_at >= incident.started_at - ALIKE_BEFORE, Ticket.created_at <= now,
               Ticket.status == "new", Ticket.id.not_in(linked))
        .order_by(Ticket.id).limit(limit)).all()
    chains: dict[str | None, list[str]] = {}
    out: list[Ticket] = []
    for ticket in candidates:
        if incident.region_code is not None:
            branch = session.get(Branch, ticket.branch_code) if ticket.branch_code else None
            if branch is None:
                continue
            if branch.region_code not in chains:
                chains[branch.region_code] = region_chain(session=session, region_code=branch.region_code)
            if incident.region_code not in chains[branch.region_code]:
                continue
        if _link_and_tell(session, incident, ticket, now, None):
            out.append(ticket)
    return out


def ticket_reopened(*, session: Session, ticket: Ticket, reason: str, now: datetime) -> Incident | None:
    """A ticket the incident's resolution resolved, reopened by its reporter ("还没好"): the fault may not be over
    for that branch — on the incident's timeline, and its commander told (the war-room too while it is open).
    Returns the incident."""
    number = resolved_by_incident(session=session, ticket=ticket)
    incident = session.get(Incident, number) if number is not None else None
    if incident is None:
        return None
    ev = event(session, incident, "ticket_reopened", now, body=reason or None,
               data={"ticket": ticket.id, "reporter": ticket.reporter.name, "branch": ticket.branch_code})
    params = {"ticket": ticket.id, "reporter": ticket.reporter.name, "reason": reason,
              "said_key": "incident_reopen_said" if reason else "",
              "branch": ticket.branch.name if ticket.branch else "", "team": ticket.team.name if ticket.team else ""}
    if incident.status in OPEN_STATUSES:
        tell_room(session=session, incident=incident, ev=ev, template="incident_ticket_reopened", now=now,
                  params=params)
    elif incident.commander is not None and incident.commander.active:
        commander = incident.commander.id
        outbox.enqueue(session=session, person_id=commander, template="incident_ticket_reopened",
                       params={**card(incident), **params}, key=f"inc{incident.id}:ev{ev.id}:{commander}", now=now)
    return incident


def open_incident_of(*, session: Session, ticket_id: int) -> tuple[Incident, IncidentEvent | None] | None:
    """The open incident a ticket is linked to, with its latest status update (None before the first)."""
    incident = session.scalars(select(Incident).join(IncidentLink, IncidentLink.incident_id == Incident.id)
                               .where(IncidentLink.ticket_id == ticket_id, Incident.status.in_(OPEN_STATUSES))
                               .order_by(Incident.id.desc()).limit(1)).first()
    if incident is None:
        return None
    latest = session.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident.id,
                                                         IncidentEvent.kind == "update")
                             .order_by(IncidentEvent.id.desc()).limit(1)).first()
    return incident, latest


def linked_tickets(*, session: Session, incident_id: int) -> list[Ticket]:
    return list(session.scalars(select(Ticket).join(IncidentLink, IncidentLink.ticket_id == Ticket.id)
                                .where(IncidentLink.incident_id == incident_id).order_by(Ticket.id)))


def readable(*, session: Session, incident: Incident, person: Person, found: Sequence[Ticket]) -> list[Ticket]:
    """The tickets among `found` (the incident's, or look-alikes) this person may read: all of them for someone in
    the incident (a role, paged or joined: a war-room works every branch's reports); for other staff those of the
    regions they serve (as `GET /tickets/N` answers them); for a reporter their own and their branch's."""
    if not scope.is_staff(person):
        return [t for t in found if scope.reporter_may_see(person, t)]
    if not found or person.id in {p.id for p in room(session=session, incident=incident)}:
        return list(found)
    allowed = set(session.scalars(select(Ticket.id).where(Ticket.id.in_([t.id for t in found]),
                                                          scope.staff_filter(session=session, person=person))))
    return [t for t in found if t.id in allowed]


def affected_branches(*, session: Session, incident_id: int) -> list[str]:
    codes = {t.branch_code for t in linked_tickets(session=session, incident_id=incident_id) if t.branch_code}
    codes |= set(session.scalars(select(FaultReport.branch_code).where(FaultReport.incident_id == incident_id,
                                                                       FaultReport.branch_code.is_not(None))))
    return sorted(c for c in codes if c)


def reporters(*, session: Session, incident: Incident) -> list[tuple[Person, int | None]]:
    """Everyone who reported the fault, once each, with their linked ticket if they have one."""
    out: dict[str, tuple[Person, int | None]] = {}
    for ticket in linked_tickets(session=session, incident_id=incident.id):
        out.setdefault(ticket.reporter_id, (ticket.reporter, ticket.id))
    for report in session.scalars(select(FaultReport).where(FaultReport.incident_id == incident.id)
                                  .order_by(FaultReport.id)):
        out.setdefault(report.person_id, (report.person, report.ticket_id))
    return list(out.values())


def tell_reporters(*, session: Session, incident: Incident, ev: IncidentEvent, template: str, now: datetime,
                   params: dict[str, object] | None = None, exclude: Iterable[str] = ()) -> int:
    """One message per reporter (with their own ticket number), keyed so that no one hears an event twice."""
    room_ids = {p.id for p in room(session=session, incident=incident)} | set(exclude)
    count = 0
    for person, ticket_id in reporters(session=session, incident=incident):
        if person.id in room_ids:
            continue
        outbox.enqueue(session=session, person_id=person.id, template=template,
                       params={**card(incident), **(params or {}), "ticket": ticket_id or "",
                               "ticket_note_key": "incident_your_ticket" if ticket_id else "",
                               "after_key": "incident_resolved_ticket" if ticket_id else "incident_resolved_no_ticket"},
                       key=f"inc{incident.id}:ev{ev.id}:{person.id}", now=now, ticket_id=ticket_id)
        count += 1
    return count


def tell_room(*, session: Session, incident: Incident, ev: IncidentEvent, template: str, now: datetime,
              params: dict[str, object] | None = None, exclude: Iterable[str] = ()) -> int:
    skip = set(exclude)
    count = 0
    for person in room(session=session, incident=incident):
        if person.id in skip:
            continue
        # `room` marks a war-room message: where the person sits in the incident's group or topic on the
        # platform it would go to, the group carries it and the 1:1 copy is left out.
        outbox.enqueue(session=session, person_id=person.id, template=template,
                       params={**card(incident), **(params or {}), "room": incident.id},
                       key=f"inc{incident.id}:ev{ev.id}:{person.id}", now=now)
        count += 1
    return count


# --- working the incident ---------------------------------------------------------------------------------------


def _require_open(incident: Incident, action: str) -> None:
    if incident.status not in OPEN_STATUSES:
        raise InvalidTransition(incident.status, action)


def _may_speak(incident: Incident, person: Person) -> None:
    if person.role in ("lead", "admin"):
        return
    if person.id not in {incident.commander_id, incident.comms_id, incident.tech_lead_id}:
        raise Forbidden("only the commander, communications or tech lead may do this")


def post_update(*, session: Session, incident: Incident, author: Person, text: str, now: datetime) -> tuple[int, int]:
    """A status update, broadcast to the war-room and to every reporter once. Returns (reporters, branches)."""
    _require_open(incident, "update")
    _may_speak(incident, author)
    ev = event(session, incident, "update", now, actor=author, body=text)
    incident.next_update_at = now + UPDATE_EVERY[incident.severity]
    tell_room(session=session, incident=incident, ev=ev, template="incident_update", now=now,
              params={"body": text, "at_due": now.isoformat(), "author": author.name}, exclude=[author.id])
    told = tell_reporters(session=session, incident=incident, ev=ev, template="incident_update_reporter", now=now,
                          params={"body": text, "at_due": now.isoformat(), "author": author.name})
    return told, len(affected_branches(session=session, incident_id=incident.id))


def note(*, session: Session, incident: Incident, author: Person, text: str, now: datetime) -> IncidentEvent:
    """A remark for the timeline, relayed to the war-room. From someone paged who has not answered: the answer (they
    are at work on it — the page does not pass on to the next in the chain, nor count them as missed)."""
    if incident.status in ("active", "mitigated") and session.scalars(select(Page.id).where(
            Page.incident_id == incident.id, Page.person_id == author.id, Page.status == "paging")).first():
        join(session=session, incident=incident, person=author, now=now)
    ev = event(session, incident, "note", now, actor=author, body=text)
    tell_room(session=session, incident=incident, ev=ev, template="incident_note", now=now,
              params={"author": author.name, "body": text}, exclude=[author.id])
    return ev


def set_role(*, session: Session, incident: Incident, actor: Person, role: str, person: Person, now: datetime) -> None:
    _require_open(incident, "role")
    _may_speak(incident, actor)
    if role not in ROLES:
        raise InvalidTransition(role, "role")
    setattr(incident, f"{role}_id", person.id)
    if session.get(IncidentMember, (incident.id, person.id)) is None:
        session.add(IncidentMember(incident_id=incident.id, person_id=person.id, kind="responder", added_at=now))
    session.flush()
    ev = event(session, incident, "role", now, actor=actor, data={"role": role, "person": person.id,
                                                                  "name": person.name})
    tell_room(session=session, incident=incident, ev=ev, template="incident_role", now=now,
              params={"role_key": f"role_{role}", "name": person.name})


def add_task(*, session: Session, incident: Incident, actor: Person, title: str, owner: Person | None,
             due: datetime | None, now: datetime) -> IncidentTask:
    task = IncidentTask(incident_id=incident.id, title=title, owner_id=owner.id if owner else None, due_at=due,
                        created_at=now)
    session.add(task)
    session.flush()
    ev = event(session, incident, "task", now, actor=actor, body=title,
               data={"task": task.id, "owner": owner.name if owner else None})
    if owner is not None:
        outbox.enqueue(session=session, person_id=owner.id, template="incident_task",
                       params={**card(incident), "body": title, "by": actor.name,
                               "when_due": due.isoformat() if due else ""},
                       key=f"inc{incident.id}:ev{ev.id}:{owner.id}", now=now)
    return task


def complete_task(
    *, session: Session, incident: Incident, actor: Person, task_id: int, now: datetime
) -> IncidentTask:
    task = session.get(IncidentTask, task_id)
    if task is None or task.incident_id != incident.id:
        raise NotFound(f"task {task_id}")
    if task.done_at is None:
        task.done_at = now
        event(session, incident, "task_done", now, actor=actor, body=task.title, data={"task": task.id})
    return task


def set_severity(*, session: Session, incident: Incident, actor: Person, severity: str, now: datetime) -> None:
    _require_open(incident, "sev")
    _may_speak(incident, actor)
    if severity not in SEVERITIES:
        raise InvalidTransition(severity, "severity")
    before, incident.severity = incident.severity, severity
    incident.next_update_at = min(incident.next_update_at or now + UPDATE_EVERY[severity], now + UPDATE_EVERY[severity])
    ev = event(session, incident, "severity", now, actor=actor, data={"from": before, "to": severity})
    tell_room(session=session, incident=incident, ev=ev, template="incident_severity", now=now,
              params={"before": before}, exclude=[actor.id])


def join(*, session: Session, incident: Incident, person: Person, now: datetime) -> Page | None:
    """Answer a page or join the war-room."""
    _require_open(incident, "join")
    answered = oncall.acknowledge(session=session, incident=incident, person=person, now=now)
    if answered is not None:
        ev = event(session, incident, "ack_notice", now, data={"person": person.id})
        missed = [p.person.name for p in session.scalars(select(Page).where(
            Page.incident_id == incident.id, Page.team_code == answered.team_code, Page.status == "missed")
            .order_by(Page.id))]
        tell_room(session=session, incident=incident, ev=ev, template="incident_acked_room", now=now,
                  params={"name": person.name, "at_due": now.isoformat(),
                          "role_key": "incident_acked_tech_lead" if incident.tech_lead_id == person.id else "",
                          "missed_names": "、".join(dict.fromkeys(missed)),
                          "missed_key": "incident_acked_missed" if missed else ""}, exclude=[person.id])
    return answered


def joined_late(session: Session, incident: Incident, person: Person) -> str:
    """Who took the page over, for someone paged who joins after another answered it ("" when they were not paged,
    or answered it themselves): the commander joining is not told someone else "took it over"."""
    holder = incident.tech_lead
    if holder is None or holder.id == person.id:
        return ""
    paged = session.scalars(select(Page.id).where(Page.incident_id == incident.id, Page.person_id == person.id))
    return holder.name if paged.first() is not None else ""


def _may_page(session: Session, incident: Incident, actor: Person) -> None:
    """Who may call more people in: a lead or admin, a role holder, someone who answered a page for it, or staff
    serving a branch it affects (HQ serves all). Anyone of the staff may join and add notes, but joining does not
    make one a responder who can page oneself in and take a role (and so resolve other regions' tickets)."""
    if actor.role in ("lead", "admin") or actor.id in {incident.commander_id, incident.comms_id, incident.tech_lead_id}:
        return
    if session.scalars(select(Page.id).where(Page.incident_id == incident.id, Page.person_id == actor.id,
                                             Page.status == "acked")).first() is not None:
        return
    regions = scope.staff_regions(session=session, person=actor)
    if regions is None:
        return
    affected = {b.region_code for b in (session.get(Branch, c) for c in affected_branches(
        session=session, incident_id=incident.id)) if b is not None}
    if incident.region_code is not None:
        affected.add(incident.region_code)
    if not affected & regions:
        raise Forbidden("only the incident's responders, leads, or staff serving an affected branch may page")


def page_more(*, session: Session, incident: Incident, actor: Person, target: str, now: datetime) -> str | None:
    """Page one more speciality (its team's on-call order in the incident's area), a team by code, or a person
    (not oneself: that is joining). Returns who was paged, or None when nothing matches."""
    _require_open(incident, "page")
    _may_page(session, incident, actor)
    team = session.get(Team, target) or session.scalars(select(Team).where(Team.name == target)).first() or \
        oncall.team_for(session=session, speciality=_speciality_named(session, target),
                        region_code=incident.region_code,
                        branches=affected_branches(session=session, incident_id=incident.id), near=actor)
    if team is not None:
        people = oncall.chain(session=session, team=team, now=now)
        if not people:
            return None
        if team.speciality not in incident.specialities:
            incident.specialities = [*incident.specialities, team.speciality]
        oncall.page(session=session, incident=incident, team=team, people=people, step=0, now=now)
        return f"{people[0].name}（{team.name}）"
    person = person_named(session=session, word=target)
    if person is None or person.role == "reporter" or person.id == actor.id:
        return None
    teams = session.scalars(select(Team).join(TeamMember, TeamMember.team_code == Team.code)
                            .where(TeamMember.person_id == person.id).order_by(Team.code)).all()
    home = teams[0] if teams else None
    if home is None:
        return None
    oncall.page(session=session, incident=incident, team=home, people=[person], step=0, now=now)
    return person.name


def _speciality_named(session: Session, word: str) -> str:
    """A speciality as people name it: its code (network), or a catalog category whose leaves all share one (网络,
    终端 for 终端设备, 医保 for 医保接口); the word itself when nothing else fits."""
    if len(word) < 2 or session.scalar(select(Team.code).where(Team.speciality == word).limit(1)) is not None:
        return word
    named = [c for c in session.scalars(select(Category)) if word in c.name or c.name in word]
    leaves = [c for c in session.scalars(select(Category).where(Category.parent_id.in_([c.id for c in named])))]
    found = {c.speciality for c in [*named, *leaves] if c.speciality}
    return found.pop() if len(found) == 1 else word


def subscribe(*, session: Session, incident: Incident, person: Person, now: datetime) -> None:
    if session.get(IncidentMember, (incident.id, person.id)) is None:
        session.add(IncidentMember(incident_id=incident.id, person_id=person.id, kind="subscriber", added_at=now))
        session.flush()


def mitigate(*, session: Session, incident: Incident, actor: Person, text: str, now: datetime) -> None:
    """Service restored by a workaround; the cause is still being fixed."""
    if incident.status != "active":
        raise InvalidTransition(incident.status, "mitigate")
    _may_speak(incident, actor)
    incident.status, incident.mitigated_at = "mitigated", now
    ev = event(session, incident, "mitigated", now, actor=actor, body=text)
    tell_room(session=session, incident=incident, ev=ev, template="incident_mitigated", now=now,
              params={"body": text, "at_due": now.isoformat()}, exclude=[actor.id])
    tell_reporters(session=session, incident=incident, ev=ev, template="incident_mitigated", now=now,
                   params={"body": text, "at_due": now.isoformat()})


def resolve(*, session: Session, incident: Incident, actor: Person, summary: str, now: datetime) -> int:
    """Resolve the incident and every open linked ticket; everyone hears it once. Returns tickets resolved."""
    _require_open(incident, "resolve")
    _may_speak(incident, actor)
    incident.status, incident.resolved_at, incident.summary = "resolved", now, summary
    incident.mitigated_at = incident.mitigated_at or now
    incident.next_update_at = None
    for row in session.scalars(select(Page).where(Page.incident_id == incident.id, Page.status == "paging")):
        row.status = "cancelled"
    resolved = 0
    for ticket in linked_tickets(session=session, incident_id=incident.id):
        if ticket.status in ("new", "claimed", "in_progress", "waiting", "on_hold", "reopened"):
            # The incident's resolution: no engineer's contact to judge (first_contact None).
            mark_resolved(session=session, ticket=ticket, now=now, summary=summary, first=None)
            add_event(session=session, ticket=ticket, kind="resolved", now=now, actor=actor, body=summary,
                      data={"incident": incident.id})
            resolved += 1
    ev = event(session, incident, "resolved", now, actor=actor, body=summary, data={"tickets": resolved})
    params = {"body": summary, "at_due": now.isoformat(), "tickets": resolved,
              "branch_count": len(affected_branches(session=session, incident_id=incident.id)),
              "report_path": f"/incidents/{incident.ref}/report", **durations(incident)}
    params["assembly_key"] = "incident_assembled_in" if params["to_assemble"] is not None else "incident_not_assembled"
    tell_room(session=session, incident=incident, ev=ev, template="incident_resolved_room", now=now, params=params)
    tell_reporters(session=session, incident=incident, ev=ev, template="incident_resolved_reporter", now=now,
                   params=params)
    return resolved


def close(*, session: Session, incident: Incident, actor: Person, now: datetime) -> None:
    if incident.status != "resolved":
        raise InvalidTransition(incident.status, "close")
    _may_speak(incident, actor)
    incident.status, incident.closed_at = "closed", now
    event(session, incident, "closed", now, actor=actor)


def durations(incident: Incident) -> dict[str, object]:
    """Minutes from the first report to each milestone (None where not reached)."""
    def minutes(a: datetime | None, b: datetime | None) -> int | None:
        return None if a is None or b is None else round((b - a).total_seconds() / 60)

    return {"to_detect": minutes(incident.started_at, incident.detected_at or incident.declared_at),
            "to_declare": minutes(incident.started_at, incident.declared_at),
            "to_assemble": minutes(incident.declared_at, incident.assembled_at),
            "to_mitigate": minutes(incident.started_at, incident.mitigated_at),
            "to_resolve": minutes(incident.started_at, incident.resolved_at),
            "since_declared": minutes(incident.declared_at, incident.resolved_at)}


def remind_updates(*, session: Session, now: datetime, limit: int = 50) -> int:
    """Ask the communications lead for a status update when the severity's cadence has passed."""
    due = list(session.scalars(select(Incident).where(Incident.status.in_(OPEN_STATUSES),
                                                      Incident.next_update_at <= now)
                               .order_by(Incident.id).limit(limit).with_for_update(skip_locked=True, of=Incident)))
    for incident in due:
        incident.next_update_at = now + UPDATE_EVERY[incident.severity]
        ev = event(session, incident, "update_reminder", now)
        for person_id in dict.fromkeys(p for p in (incident.comms_id, incident.commander_id) if p):
            outbox.enqueue(session=session, person_id=person_id, template="incident_update_reminder",
                           params={**card(incident)}, key=f"inc{incident.id}:ev{ev.id}:{person_id}", now=now)
    return len(due)
