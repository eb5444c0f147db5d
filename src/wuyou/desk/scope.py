"""Who may see and work which tickets: region scoping for staff, own-and-branch for reporters.

Enforced here, in the services, so chat, API and web all obey the same rules. A refusal for a
ticket outside someone's scope is `NotFound`, never `Forbidden`: it must not reveal that the
ticket exists.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.orm import Session

from wuyou.desk.errors import Forbidden, NotFound
from wuyou.desk.models import Branch, Person, Region, Team, Ticket
from wuyou.desk.org import region_chain, regions_below, teams_of

STAFF_ROLES = ("engineer", "lead", "admin")


def is_staff(person: Person) -> bool:
    """Engineers, leads and admins work tickets; reporters only report."""
    return person.role in STAFF_ROLES


def staff_regions(*, session: Session, person: Person) -> set[str] | None:
    """The regions whose branches a staff member serves (their teams' regions and everything
    below), or None for everywhere: admins, and anyone in a team at the root of the region tree (HQ)."""
    if person.role == "admin":
        return None
    roots = set(session.scalars(select(Region.code).where(Region.parent_code.is_(None))))
    tops = {team.region_code for team in teams_of(session=session, person_id=person.id)}
    if tops & roots:
        return None
    return regions_below(session=session, codes=tops)


def serves(*, session: Session, person: Person, ticket: Ticket) -> bool:
    """True when the staff member's scope covers the ticket's branch (or, without a branch, its team)."""
    if not is_staff(person):
        return False
    regions = staff_regions(session=session, person=person)
    if regions is None:
        return True
    if ticket.branch is not None:
        return ticket.branch.region_code in regions
    return ticket.team_code is not None and ticket.team_code in {t.code for t in teams_of(
        session=session, person_id=person.id)}


def staff_filter(*, session: Session, person: Person) -> ColumnElement[bool]:
    """A WHERE clause on Ticket for the tickets a staff member may see."""
    if not is_staff(person):
        return false()
    regions = staff_regions(session=session, person=person)
    if regions is None:
        return true()
    in_region = select(Branch.code).where(Branch.region_code.in_(regions))
    own_teams = [t.code for t in teams_of(session=session, person_id=person.id)]
    return Ticket.branch_code.in_(in_region) | (Ticket.branch_code.is_(None) & Ticket.team_code.in_(own_teams))


def reporter_may_see(person: Person, ticket: Ticket) -> bool:
    """A reporter sees their own tickets and their branch's."""
    return ticket.reporter_id == person.id or (
        person.branch_code is not None and ticket.branch_code == person.branch_code
    )


def may_see(*, session: Session, person: Person, ticket: Ticket) -> bool:
    return serves(session=session, person=person, ticket=ticket) or reporter_may_see(person, ticket)


def ticket_for_staff(*, session: Session, ticket_id: int, person: Person) -> Ticket:
    """The ticket if this staff member may work on it; NotFound otherwise (existence not revealed)."""
    if not is_staff(person):
        raise Forbidden("staff only")
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or not serves(session=session, person=person, ticket=ticket):
        raise NotFound(f"ticket {ticket_id}")
    return ticket


def ticket_for_reporter(*, session: Session, ticket_id: int, person: Person, own: bool = True) -> Ticket:
    """The reporter's own ticket (or, with `own=False`, one of their branch's); NotFound otherwise."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"ticket {ticket_id}")
    if ticket.reporter_id == person.id or (not own and reporter_may_see(person, ticket)):
        return ticket
    raise NotFound(f"ticket {ticket_id}")


def team_serves_branch(*, session: Session, team: Team, branch: Branch | None) -> bool:
    """A team may take a branch's ticket when it sits in the branch's region or an ancestor of it."""
    if branch is None:
        return True
    return team.region_code in region_chain(session=session, region_code=branch.region_code)
