"""Working a ticket after it is claimed: release, notes, questions to the reporter and their answers,
public replies, transfer, priority, merging duplicates, parent/child links, cancelling and chasing.

Every function checks scope (`desk.scope`) and state (`tickets.require`), puts an event on the
timeline, and queues its notifications in the same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from wuyou.desk import attachments, bursts, replies, sla, ticket_pages
from wuyou.desk.absences import present
from wuyou.desk.errors import Forbidden, InvalidTransition, NotAllowed, NotFound, NotServing, TooSoon
from wuyou.desk.models import (
    HELD_STATUSES,
    Category,
    Person,
    Region,
    Team,
    TeamMember,
    Ticket,
    TicketEvent,
    TicketFollower,
)
from wuyou.desk.org import PRIORITIES, region_chain, team_members, teams_of
from wuyou.desk.scope import is_staff, serves, team_serves_branch, ticket_for_reporter, ticket_for_staff
from wuyou.desk.tickets import (
    OPEN_STATUSES,
    PAUSED_STATUSES,
    REOPEN_WITHIN,
    add_event,
    notify,
    require,
    tell_reporters,
)

CHASE_INTERVAL = timedelta(minutes=30)


def _lead_or_admin(session: Session, person: Person, ticket: Ticket) -> bool:
    if person.role == "admin":
        return True
    if person.role != "lead":
        return False
    return serves(session=session, person=person, ticket=ticket)


def holder_or_lead(session: Session, person: Person, ticket: Ticket) -> None:
    """Only the assignee, a lead serving the ticket or an admin may act on a held ticket."""
    if ticket.assignee_id != person.id and not _lead_or_admin(session, person, ticket):
        raise Forbidden("only the assignee or a lead")


def _touch(ticket: Ticket, actor: Person, now: datetime) -> None:
    """The assignee did something: a claimed ticket is now being worked on."""
    if ticket.assignee_id == actor.id:
        ticket.last_activity_at = now
        if ticket.status == "claimed":
            ticket.status = "in_progress"


def _unpause(session: Session, ticket: Ticket, now: datetime) -> None:
    """A ticket waiting on its reporter or on hold that leaves its engineer (given back, transferred): the question
    or the hold goes with them, and the resolution clock runs again."""
    if ticket.status in PAUSED_STATUSES:
        sla.resume(session=session, ticket=ticket, now=now)
    ticket.waiting_since = ticket.hold_until = ticket.hold_reason = None


def release(*, session: Session, ticket_id: int, person: Person, now: datetime, reason: str = "") -> Ticket:
    """Give a claimed ticket back to the team's queue."""
    ticket = ticket_for_staff(session=session, ticket_id=ticket_id, person=person)
    require(ticket, "release")
    if ticket.assignee_id is None:
        raise InvalidTransition(ticket.status, "release")
    holder_or_lead(session, person, ticket)
    previous = ticket.assignee
    _unpause(session, ticket, now)
    ticket.assignee_id = None
    ticket.claimed_at = None
    ticket.status = "new"
    session.flush()
    event = add_event(session=session, ticket=ticket, kind="released", now=now, actor=person, body=reason or None,
                      data={"previous": previous.id if previous else None})
    if ticket.team_code:
        paged = ticket_pages.start(session=session, ticket=ticket, now=now, passing=person)  # (a P1 at night)
        people = [p for p in team_members(session=session, team_code=ticket.team_code)
                  if p.id != person.id and (paged is None or p.id != paged.id)]
        notify(session=session, event=event, ticket=ticket, people=people, template="ticket_released", now=now,
               extra={"by": person.name}, buttons=[{"label_key": "btn_claim", "action": f"/claim {ticket.id}"}])
    # The reporter last heard "已由工程师 X 受理": told that someone else of the team will take it (never the reason,
    # which is the team's).
    tell_reporters(session=session, event=event, ticket=ticket, template="ticket_released_reporter", now=now,
                   extra={"previous": previous.name if previous else ""})
    return ticket


def note(*, session: Session, ticket_id: int, person: Person, text: str, now: datetime) -> tuple[Ticket, list[Person]]:
    """An internal note: on the timeline for staff, never shown to the reporter. Colleagues it @-mentions ("@王芳
    帮忙看下网络") who may see the ticket are told, with the note (`mentioned`); returns the ticket and them."""
    ticket = ticket_for_staff(session=session, ticket_id=ticket_id, person=person)
    require(ticket, "note")
    _touch(ticket, person, now)
    told = [p for p in mentioned(session=session, text=text)
            if p.id != person.id and serves(session=session, person=p, ticket=ticket)]
    event = add_event(session=session, ticket=ticket, kind="note", now=now, actor=person, body=text, public=False,
                      data={"mentioned": [p.id for p in told]} if told else None)
    notify(session=session, event=event, ticket=ticket, people=told, template="note_mention", now=now,
           extra={"by": person.name, "body": text}, buttons=[{"label_key": "btn_show", "action": f"/show {ticket.id}"}])
    return ticket, told


def mentioned(*, session: Session, text: str) -> list[Person]:
    """The staff a text @-mentions, by name or id ("@王芳", "@wang.fang"), the longest match at each @."""
    if "@" not in text:
        return []
    staff = session.scalars(select(Person).where(Person.active, Person.role.in_(("engineer", "lead", "admin"))))
    names = sorted(((key, p) for p in staff for key in (p.name, p.id) if key), key=lambda pair: -len(pair[0]))
    found: dict[str, Person] = {}
    for at in re.finditer("@", text):
        rest = text[at.end():].lower()
        match = next((p for key, p in names if rest.startswith(key.lower())), None)
        if match is not None:
            found.setdefault(match.id, match)
    return list(found.values())


def _answering_chase(session: Session, ticket: Ticket, now: datetime) -> dict[str, int]:
    """When the reporter chased the ticket and staff have not answered them since: how long the answer took (the
    event that answers carries it: conversations/05, "the chase is marked answered")."""
    if ticket.last_chased_at is None:
        return {}
    answered = session.scalar(select(func.count()).select_from(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.kind.in_(("comment", "asked")),
        TicketEvent.at >= ticket.last_chased_at))
    return {} if answered else {"chase_answered_minutes": int((now - ticket.last_chased_at).total_seconds() // 60)}


def reply(*, session: Session, ticket_id: int, person: Person, text: str, now: datetime) -> Ticket:
    """A public comment to the reporter (and followers)."""
    ticket = ticket_for_staff(session=session, ticket_id=ticket_id, person=person)
    require(ticket, "reply")
    text = replies.expand(session=session, ticket=ticket, person=person, text=text)
    _touch(ticket, person, now)
    event = add_event(session=session, ticket=ticket, kind="comment", now=now, actor=person, body=text,
                      data=_answering_chase(session, ticket, now) or None)
    tell_reporters(session=session, event=event, ticket=ticket, template="ticket_comment", now=now,
                   extra={"author": person.name, "text": text})
    return ticket


def ask(*, session: Session, ticket_id: int, person: Person, question: str, now: datetime) -> Ticket:
    """Ask the reporter for details: the ticket waits on the reporter (the SLA clock pauses)."""
    ticket = ticket_for_staff(session=session, ticket_id=ticket_id, person=person)
    require(ticket, "ask")
    question = replies.expand(session=session, ticket=ticket, person=person, text=question)
    if ticket.assignee_id is None:
        raise InvalidTransition(ticket.status, "ask")
    holder_or_lead(session, person, ticket)
    sla.pause(session=session, ticket=ticket, now=now)  # (a clock already paused stays as it is)
    # Since when the reporter has been waited for (their reminder counts from it): asked again, since the first
    # question; asked while on hold, since now — the hold ends, the reporter's answer is awaited.
    ticket.waiting_since = ticket.waiting_since if ticket.status == "waiting" and ticket.waiting_since else now
    ticket.status = "waiting"
    ticket.hold_until = ticket.hold_reason = None
    ticket.last_activity_at = now
    session.flush()
    event = add_event(session=session, ticket=ticket, kind="asked", now=now, actor=person, body=question,
                      data=_answering_chase(session, ticket, now) or None)
    notify(session=session, event=event, ticket=ticket, people=[ticket.reporter], template="ticket_question",
           now=now, extra={"asker": person.name, "question": question})
    return ticket


def waiting_on(*, session: Session, reporter: Person) -> Ticket | None:
    """The reporter's ticket that is waiting for their answer (the most recently asked), if any."""
    stmt = (
        select(Ticket)
        .where(Ticket.reporter_id == reporter.id, Ticket.status == "waiting")
        .order_by(Ticket.waiting_since.desc(), Ticket.id.desc())
    )
    return session.scalars(stmt).first()


# Photos sent right after the answer to an engineer's question belong with it: the question is answered by the first
# message, and the second photo of a burst comes seconds later.
ANSWER_BURST = timedelta(minutes=10)


def just_answered(*, session: Session, reporter: Person, now: datetime) -> Ticket | None:
    """The reporter's open ticket they added to in the last `ANSWER_BURST` (their answer to its question), if any."""
    stmt = (
        select(Ticket)
        .join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
        .where(Ticket.reporter_id == reporter.id, Ticket.status.in_(OPEN_STATUSES),
               TicketEvent.kind == "info_added", TicketEvent.actor_id == reporter.id,
               TicketEvent.at >= now - ANSWER_BURST)
        .order_by(TicketEvent.at.desc(), TicketEvent.id.desc())
    )
    return session.scalars(stmt).first()


def waiting_among(*, session: Session, reporter_ids: Collection[str]) -> set[str]:
    """Which of these reporters have a ticket waiting for their answer (one statement for all of them)."""
    if not reporter_ids:
        return set()
    return set(session.scalars(_WAITING, {"ids": list(set(reporter_ids))}))


_WAITING = select(Ticket.reporter_id).where(Ticket.reporter_id.in_(bindparam("ids", expanding=True)),
                                            Ticket.status == "waiting")  # (built once: every batch runs it)


def add_info(
    *, session: Session, ticket_id: int, reporter: Person, text: str, now: datetime,
    attachment_ids: Sequence[int] = (), for_branch: bool = False,
) -> Ticket:
    """The reporter adds information to an open ticket; a waiting ticket goes back to work. `for_branch`: a
    colleague of the reporter's branch does, for them (answering the engineer's question in their group)."""
    ticket = ticket_for_reporter(session=session, ticket_id=ticket_id, person=reporter, own=not for_branch)
    require(ticket, "add_info")
    paused = None
    if ticket.status == "waiting":
        paused = int((now - ticket.waiting_since).total_seconds() // 60) if ticket.waiting_since else 0
        ticket.status = "in_progress"
        ticket.waiting_since = None
        sla.resume(session=session, ticket=ticket, now=now)
    session.flush()
    event = add_event(session=session, ticket=ticket, kind="info_added", now=now, actor=reporter, body=text or None,
                      data={"attachments": list(attachment_ids), "paused_minutes": paused})
    linked = attachments.link(session=session, ids=attachment_ids, person=reporter, ticket_id=ticket.id,
                              event_id=event.id)
    people = [ticket.assignee] if ticket.assignee else (
        team_members(session=session, team_code=ticket.team_code) if ticket.team_code else [])
    notify(session=session, event=event, ticket=ticket, people=people,
           template="ticket_info_added" if text.strip() else "ticket_info_attached", now=now,
           extra={"text": text, "count": linked, "page_path": f"/tickets/{ticket.id}" if linked else "",
                  "reporter": reporter.name,  # (who wrote it: a colleague answering for the reporter, by name)
                  "attachments_note_key": "attachments_note" if linked else ""})
    return ticket


@dataclass(frozen=True)
class Candidate:
    """Someone a ticket may be transferred to, with how many open tickets they hold."""

    person: Person
    team: Team
    load: int


def candidates(*, session: Session, ticket: Ticket) -> list[Candidate]:
    """Engineers of teams that serve the ticket's branch with the category's speciality, least loaded first."""
    chain = region_chain(session=session, region_code=ticket.branch.region_code) if ticket.branch else []
    speciality = ticket.category.speciality if ticket.category else None
    teams = session.scalars(select(Team).order_by(Team.code)).all()
    eligible = [t for t in teams if (not chain or t.region_code in chain) and (speciality is None or
                                                                             t.speciality == speciality)]
    eligible.sort(key=lambda t: chain.index(t.region_code) if t.region_code in chain else len(chain))
    out: list[Candidate] = []
    seen: set[str] = set()
    for team in eligible:
        for person in team_members(session=session, team_code=team.code):
            if person.id not in seen and is_staff(person) and person.id != ticket.assignee_id:
                seen.add(person.id)
                out.append(Candidate(person, team, load(session=session, person_id=person.id)))
    return sorted(out, key=lambda c: c.load)


def load(*, session: Session, person_id: str) -> int:
    """How many open tickets a person holds."""
    return int(session.scalar(
        select(func.count()).select_from(Ticket).where(Ticket.assignee_id == person_id,
                                                       Ticket.status.in_(HELD_STATUSES))
    ) or 0)


def _find_target(session: Session, target: str) -> Team | Person | None:
    team = session.get(Team, target) or session.scalars(select(Team).where(Team.name == target)).first()
    if team is not None:
        return team
    return session.get(Person, target) or session.scalars(select(Person).where(Person.name == target)).first()


def transfer(*, session: Session, ticket_id: int, person: Person, target: str, now: datetime,
             reason: str = "") -> Ticket:
    """Move a ticket to another team (back to its queue) or assign it to an engineer (who accepts by claiming).
    The target must serve the ticket's branch: its region or an ancestor of it. Those it goes to are told who sent
    it, from which team, and why (`reason`, when given)."""
    ticket = ticket_for_staff(session=session, ticket_id=ticket_id, person=person)
    require(ticket, "transfer")
    if ticket.assignee_id is not None and ticket.assignee_id != person.id and not _lead_or_admin(
            session, person, ticket):
        raise Forbidden("only the assignee or a lead may transfer a claimed ticket")
    found = _find_target(session, target.strip())
    if found is None:
        raise NotServing(target, "unknown")
    if isinstance(found, Team):
        if not team_serves_branch(session=session, team=found, branch=ticket.branch):
            _refused(session, ticket, person, found.name, [found], now)
        new_team, assignee = found, None
    else:
        if not is_staff(found):
            raise NotServing(found.name, "role")
        serving = [t for t in teams_of(session=session, person_id=found.id)
                   if session.get(TeamMember, (t.code, found.id)) is not None
                   and team_serves_branch(session=session, team=t, branch=ticket.branch)]
        if not serving:
            _refused(session, ticket, person, found.name, [t for t in teams_of(session=session, person_id=found.id)
                                                           if session.get(TeamMember, (t.code, found.id))], now)
        same = [t for t in serving if t.code == ticket.team_code]
        new_team, assignee = (same or serving)[0], found
    previous, from_team = ticket.assignee, ticket.team
    if assignee is None and previous is None and from_team is not None and from_team.code == new_team.code:
        raise NotAllowed("same_team")  # (accepted, it sent the team its card again)
    ticket.team_code = new_team.code
    ticket.assignee_id = assignee.id if assignee else None
    ticket.claimed_at = None
    _unpause(session, ticket, now)
    if ticket.status in HELD_STATUSES:
        ticket.status = "new"
    session.flush()
    session.refresh(ticket)
    event = add_event(session=session, ticket=ticket, kind="transferred", now=now, actor=person,
                      body=(assignee.name if assignee else new_team.name) + (f"：{reason}" if reason else ""),
                      data={"team": new_team.code, "assignee": assignee.id if assignee else None,
                            "previous": previous.id if previous else None, "reason": reason or None})
    claim_button = [{"label_key": "btn_claim", "action": f"/claim {ticket.id}"},
                    {"label_key": "btn_show", "action": f"/show {ticket.id}"}]
    moved = from_team is not None and from_team.code != new_team.code
    if moved or assignee is not None:  # a page of its team's on-call ends (the new team's may start below)
        ticket_pages.withdraw(session=session, ticket=ticket, event=event, by=person, why_key="page_off_transferred",
                              now=now, extra={"to": assignee.name if assignee else new_team.name})
    why = {"by": person.name, "reason_text": reason, "reason_key": "transfer_reason" if reason else "",
           "from_team_name": from_team.name if moved and from_team is not None else "",
           "from_team_key": "transfer_from_team" if moved else ""}
    if assignee is not None:
        due = sla.due_params(session=session, ticket_id=ticket.id)
        left = sla.minutes_to(session=session, ticket_id=ticket.id, kind="response", now=now)
        notify(session=session, event=event, ticket=ticket, people=[assignee], template="ticket_assigned", now=now,
               extra={**why, **due, "late_key": "assigned_late" if left is not None and left[0] < 0 else "",
                      "late_minutes": -left[0] if left is not None else 0,
                      "due_line_key": sla.assigned_due_line(due, now)},
               buttons=claim_button)
    else:
        # (its response clock stopped when it was first claimed: the card gives the resolution's alone; a P1 the team
        # is out of its hours for pages its on-call, whose page is their card)
        paged = ticket_pages.start(session=session, ticket=ticket, now=now)
        notify(session=session, event=event, ticket=ticket, now=now, buttons=claim_button,
               people=[p for p in present(team_members(session=session, team_code=new_team.code), now)
                       if paged is None or p.id != paged.id], template="ticket_transferred_in",
               extra={**sla.due_params(session=session, ticket_id=ticket.id), **why})
    if previous is not None and previous.id != person.id:
        notify(session=session, event=event, ticket=ticket, people=[previous], template="ticket_taken_away",
               now=now, extra={"by": person.name, "to": assignee.name if assignee else new_team.name})
    if previous is not None and (assignee is None or assignee.id != previous.id):
        # The reporter last heard "已由工程师 X 受理": told who has it now (a team, or an engineer to take it).
        tell_reporters(session=session, event=event, ticket=ticket, template="ticket_transferred_reporter", now=now,
                       extra={"previous": previous.name, "target": assignee.name if assignee else new_team.name})
    return ticket


def _refused(session: Session, ticket: Ticket, person: Person, target: str, teams: Sequence[Team],
             now: datetime) -> None:
    add_event(session=session, ticket=ticket, kind="transfer_refused", now=now, actor=person, body=target,
              data={"reason": "region"}, public=False)
    def region(team: Team) -> str:
        found = session.get(Region, team.region_code)
        return found.name if found is not None else team.region_code

    # (a person: their teams and regions, 青岛终端组（青岛分公司）; a team: its region — not 北京终端组（北京…）again)
    where = "、".join(region(t) if t.name == target else f"{t.name}（{region(t)}）" for t in teams)
    branch = ticket.branch.name if ticket.branch else ""
    session.commit()  # the refusal stays on the timeline although the transfer does not happen
    raise NotServing(target, "region", teams=where, branch=branch)


def set_priority(*, session: Session, ticket_id: int, person: Person, priority: str, now: datetime) -> Ticket:
    ticket = ticket_for_staff(session=session, ticket_id=ticket_id, person=person)
    require(ticket, "priority")
    priority = priority.upper()
    if priority not in PRIORITIES:
        raise ValueError(f"priority must be one of {', '.join(PRIORITIES)}")
    if priority != ticket.priority:
        before = ticket.priority
        ticket.priority = priority
        _touch(ticket, person, now)
        sla.replan(session=session, ticket=ticket, now=now)
        event = add_event(session=session, ticket=ticket, kind="priority", now=now, actor=person,
                          body=f"{before} → {priority}", data={"from": before, "to": priority})
        # Its engineer hears it (P3 → P1 at night moved the due time to 05:57, nobody told); a ticket nobody holds
        # raised, its team (their cards said P3).
        raised = PRIORITIES.index(priority) < PRIORITIES.index(before) if before in PRIORITIES else True
        told = [ticket.assignee] if ticket.assignee is not None else present(
            team_members(session=session, team_code=ticket.team_code), now) if raised and ticket.team_code else []
        # (whoever raised it is not paged for it: they know, and are at work)
        paged = ticket_pages.start(session=session, ticket=ticket, now=now, passing=person) if raised else None
        if before == ticket_pages.PAGED_PRIORITY and not raised:  # (its page, if any, ends: told so)
            ticket_pages.withdraw(session=session, ticket=ticket, event=event, by=person, why_key="page_off_priority",
                                  now=now, extra={"to": priority})
        due = sla.due_params(session=session, ticket_id=ticket.id)
        notify(session=session, event=event, ticket=ticket,
               people=[p for p in told if p.id != person.id and (paged is None or p.id != paged.id)],
               template="ticket_priority_changed", now=now,
               extra={"by": person.name, "from": before, "to": priority, **due,
                      "due_key": "priority_changed_due" if due["resolution_due"] else ""},
               buttons=[{"label_key": "btn_show", "action": f"/show {ticket.id}"}])
    return ticket


def set_category(*, session: Session, ticket_id: int, person: Person, category: Category | None,
                 now: datetime) -> Ticket:
    """Put the ticket in another catalog leaf (or none): the reports count it there, and its running SLA clocks take
    the targets of the policy that now matches (a category's own targets, or a policy's category condition). The
    team stays: moving the work is a transfer."""
    ticket = ticket_for_staff(session=session, ticket_id=ticket_id, person=person)
    require(ticket, "category")
    if (category.id if category else None) == ticket.category_id:
        return ticket
    before = ticket.category.path if ticket.category else "—"
    ticket.category_id = category.id if category else None
    ticket.category = category
    if ticket.status in OPEN_STATUSES:
        _touch(ticket, person, now)
    sla.replan(session=session, ticket=ticket, now=now)
    add_event(session=session, ticket=ticket, kind="category", now=now, actor=person,
              body=f"{before} → {category.path if category else '—'}", public=False,
              data={"from": before, "to": category.path if category else None})
    return ticket


def merge(*, session: Session, duplicate_id: int, main_id: int, person: Person, now: datetime) -> Ticket:
    """Close a duplicate into its main ticket: the duplicate's reporter is told and follows the main one."""
    if duplicate_id == main_id:
        raise NotAllowed("same")
    duplicate = ticket_for_staff(session=session, ticket_id=duplicate_id, person=person)
    main = ticket_for_staff(session=session, ticket_id=main_id, person=person)
    require(duplicate, "merge")
    # Into a ticket that is finished — closed, or resolved — the duplicate's fault would be finished too, unseen:
    # merge the other way round, or reopen the main one first.
    if main.status in ("cancelled", "merged", "closed", "resolved"):
        raise InvalidTransition(main.status, "merge")
    duplicate.status = "merged"
    sla.stop(session=session, ticket=duplicate, now=now, counts=False)
    bursts.drop(session=session, ticket=duplicate, now=now)
    duplicate.merged_into_id = main.id
    duplicate.closed_at = now
    duplicate.waiting_since = None
    follow(session=session, ticket=main, person=duplicate.reporter, now=now)
    for follower in session.scalars(select(TicketFollower).where(TicketFollower.ticket_id == duplicate.id)).all():
        follow(session=session, ticket=main, person=follower.person, now=now)
    session.flush()
    event = add_event(session=session, ticket=duplicate, kind="merged", now=now, actor=person, body=f"#{main.id}",
                      data={"into": main.id})
    add_event(session=session, ticket=main, kind="merged_in", now=now, actor=person, body=f"#{duplicate.id}",
              data={"duplicate": duplicate.id, "reporter": duplicate.reporter_id})
    notify(session=session, event=event, ticket=duplicate, people=[duplicate.reporter], template="ticket_merged",
           now=now, extra={"main": main.id, "main_status_key": f"status_{main.status}"})
    if duplicate.assignee is not None and duplicate.assignee_id != person.id:
        notify(session=session, event=event, ticket=duplicate, people=[duplicate.assignee],
               template="ticket_merged_staff", now=now, extra={"main": main.id, "by": person.name})
    ticket_pages.withdraw(session=session, ticket=duplicate, event=event, by=person, why_key="page_off_merged",
                          now=now, extra={"main": main.id})
    return main


def follow(*, session: Session, ticket: Ticket, person: Person, now: datetime) -> None:
    """Add someone to the ticket's followers (idempotent; the reporter already follows)."""
    if person.id == ticket.reporter_id or session.get(TicketFollower, (ticket.id, person.id)) is not None:
        return
    session.add(TicketFollower(ticket_id=ticket.id, person_id=person.id, since=now))
    session.flush()


def not_fixed_for_follower(*, session: Session, person: Person, text: str, now: datetime) -> Ticket | None:
    """Someone who follows a ticket just resolved (a colleague who reported it too, a merged duplicate's reporter)
    says it is not fixed: its engineer and its reporter hear it in their words (reopening is the reporter's to
    do). The newest such ticket, or None when they follow none."""
    ticket = session.scalars(
        select(Ticket).join(TicketFollower, TicketFollower.ticket_id == Ticket.id)
        .where(TicketFollower.person_id == person.id, Ticket.reporter_id != person.id, Ticket.status == "resolved",
               Ticket.resolved_at >= now - REOPEN_WITHIN)  # (as long as its reporter may reopen it)
        .order_by(Ticket.resolved_at.desc())).first()
    if ticket is None:
        return None
    event = add_event(session=session, ticket=ticket, kind="follower_not_fixed", now=now, actor=person, body=text)
    people = [p for p in (ticket.assignee, ticket.reporter) if p is not None and p.active and p.id != person.id]
    notify(session=session, event=event, ticket=ticket, people=people, template="ticket_follower_not_fixed", now=now,
           extra={"follower": person.name, "said": text},
           buttons=[{"label_key": "btn_show", "action": f"/show {ticket.id}"}])
    return ticket


def unfollow(*, session: Session, ticket_id: int, person: Person) -> None:
    """Take someone off a ticket's followers (nothing when they do not follow it)."""
    row = session.get(TicketFollower, (ticket_id, person.id))
    if row is not None:
        session.delete(row)
        session.flush()


def link_parent(*, session: Session, child_id: int, parent_id: int, person: Person, now: datetime) -> Ticket:
    """Make one ticket the child of another (a branch's fault that is part of a bigger one)."""
    child = ticket_for_staff(session=session, ticket_id=child_id, person=person)
    parent = ticket_for_staff(session=session, ticket_id=parent_id, person=person)
    ancestor: Ticket | None = parent
    while ancestor is not None:
        if ancestor.id == child.id:
            raise NotAllowed("cycle")
        ancestor = session.get(Ticket, ancestor.parent_id) if ancestor.parent_id else None
    child.parent_id = parent.id
    session.flush()
    add_event(session=session, ticket=child, kind="linked", now=now, actor=person, body=f"#{parent.id}",
              data={"parent": parent.id}, public=False)
    add_event(session=session, ticket=parent, kind="child_linked", now=now, actor=person, body=f"#{child.id}",
              data={"child": child.id}, public=False)
    return child


def children(*, session: Session, ticket_id: int) -> list[Ticket]:
    return list(session.scalars(select(Ticket).where(Ticket.parent_id == ticket_id).order_by(Ticket.id)))


def cancel(*, session: Session, ticket_id: int, person: Person, reason: str, now: datetime) -> Ticket:
    """Withdraw a ticket: its reporter, or a lead / admin serving it."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"ticket {ticket_id}")
    if ticket.reporter_id != person.id and not _lead_or_admin(session, person, ticket):
        raise NotFound(f"ticket {ticket_id}")
    require(ticket, "cancel")
    ticket.status = "cancelled"
    sla.stop(session=session, ticket=ticket, now=now, counts=False)
    bursts.drop(session=session, ticket=ticket, now=now)
    ticket.closed_at = now
    ticket.waiting_since = None
    session.flush()
    event = add_event(session=session, ticket=ticket, kind="cancelled", now=now, actor=person, body=reason or None)
    people = [ticket.assignee] if ticket.assignee else (
        team_members(session=session, team_code=ticket.team_code) if ticket.team_code else [])
    if ticket.reporter_id != person.id:
        people = [*people, ticket.reporter]
    notify(session=session, event=event, ticket=ticket, people=[p for p in people if p.id != person.id],
           template="ticket_cancelled", now=now, extra={"by": person.name, "reason": reason})
    ticket_pages.withdraw(session=session, ticket=ticket, event=event, by=person, why_key="page_off_cancelled",
                          now=now)  # (the one paged, when not of the team told above)
    return ticket


def _follows(session: Session, ticket: Ticket, person: Person) -> bool:
    return session.get(TicketFollower, (ticket.id, person.id)) is not None


def chase(*, session: Session, ticket_id: int, person: Person, now: datetime) -> tuple[Ticket, list[Person]]:
    """The reporter, a follower (someone of the group who reported it again) or a lead urges a ticket, at most once
    per `CHASE_INTERVAL` whoever it is; returns who was pinged."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or (ticket.reporter_id != person.id and not _follows(session, ticket, person)
                          and not _lead_or_admin(session, person, ticket)):
        raise NotFound(f"ticket {ticket_id}")
    require(ticket, "chase")
    if ticket.last_chased_at is not None and now - ticket.last_chased_at < CHASE_INTERVAL:
        last = session.execute(select(TicketEvent.actor_id, TicketEvent.data).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "chased").order_by(TicketEvent.id.desc())
            .limit(1)).first()
        last_by = last.actor_id if last is not None else None
        other = session.get(Person, last_by) if last_by is not None and last_by != person.id else None
        told = [p for i in ((last.data or {}).get("to") or [] if last is not None else [])
                if (p := session.get(Person, i)) is not None]
        add_event(session=session, ticket=ticket, kind="chase_refused", now=now, actor=person, public=False)
        session.commit()
        raise TooSoon(ticket.last_chased_at, ticket.last_chased_at + CHASE_INTERVAL,
                      by=other.name if other is not None else None, told=told)
    ticket.last_chased_at = now
    ticket.chase_count += 1
    session.flush()
    event = add_event(session=session, ticket=ticket, kind="chased", now=now, actor=person,
                      body=str(ticket.chase_count), data={"count": ticket.chase_count})
    team = session.get(Team, ticket.team_code) if ticket.team_code else None
    lead = session.get(Person, team.lead_id) if team and team.lead_id else None
    if ticket.assignee is not None:
        working_on = [ticket.assignee]
    else:
        working_on = team_members(session=session, team_code=ticket.team_code) if ticket.team_code else []
    working_on = [p for p in working_on if p.id != person.id]  # (a lead chasing her own team's ticket)
    leads = [lead] if lead is not None and lead not in working_on and lead.id != person.id else []
    minutes = int((now - ticket.created_at).total_seconds() // 60)
    due = sla.due(session=session, ticket_id=ticket.id, kind="resolution")
    left, basis = sla.minutes_to(session=session, ticket_id=ticket.id, kind="resolution", now=now) or (0, "")
    left = abs(left)  # (in the clock's own hours)
    extra = {"by": person.name, "count": ticket.chase_count, "age_hours": minutes // 60, "age_minutes": minutes % 60,
             "resolution_due": due.isoformat() if due is not None else "", "left_hours": left // 60,
             "left_minutes": left % 60, "basis_key": basis,
             # (under an hour in minutes alone: "已报修 3 分钟", not "0 小时 3 分")
             "age_key": "chase_age_hm" if minutes >= 60 else "chase_age_m",
             "span_key": "chase_span_hm" if left >= 60 else "chase_span_m",
             "left_key": ("chase_paused_hold" if ticket.status == "on_hold" else "chase_paused") if due is None
             else "chase_left" if due > now else "chase_overdue",
             "hold_due": ticket.hold_until.isoformat() if ticket.hold_until else "",
             "hold_reason": ticket.hold_reason or "",
             "handling_key": "chase_unclaimed" if ticket.assignee is None else
             "chase_assigned_to" if ticket.status == "new" else "chase_handled_by"}
    buttons = [{"label_key": "btn_reply", "action": f"/reply {ticket.id}"},
               {"label_key": "btn_show", "action": f"/show {ticket.id}"}]
    notify(session=session, event=event, ticket=ticket, people=working_on, template="ticket_chased", now=now,
           extra=extra, buttons=buttons)
    # The lead watches the team: whose ticket, from which branch, who has it (conversations/05 row 6).
    notify(session=session, event=event, ticket=ticket, people=leads, template="ticket_chased_lead", now=now,
           extra=extra, buttons=buttons)
    event.data = {**event.data, "to": [p.id for p in [*working_on, *leads]]}  # (a chase too soon names them)
    return ticket, [*working_on, *leads]
