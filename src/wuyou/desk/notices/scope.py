"""Who may see a notice and who may change it. A regional lead sees every notice that reaches a branch of their
regions (an HQ notice to everyone included), counted at those branches only; the notice's author, HQ leads and
admins see all of it, and only they edit or cancel it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from wuyou.desk.errors import Forbidden
from wuyou.desk.models import Branch, Person
from wuyou.desk.notices import audience as audiences
from wuyou.desk.notices.audience import Audience
from wuyou.desk.notices.models import Notice
from wuyou.desk.scope import staff_regions

SENDERS = ("lead", "admin")


@dataclass(frozen=True)
class Viewer:
    """A person looking at notices: `branches` they answer for, None for every branch (admins, HQ leads)."""

    person: Person
    branches: frozenset[str] | None


def viewer(*, session: Session, person: Person) -> Viewer:
    """The person with the branches of their regions (looked up once for a whole list of notices)."""
    if person.role not in SENDERS:
        return Viewer(person, frozenset())
    regions = staff_regions(session=session, person=person)
    if regions is None:
        return Viewer(person, None)
    return Viewer(person, frozenset(session.scalars(select(Branch.code).where(Branch.region_code.in_(regions)))))


def seen_branches(*, session: Session, viewer: Viewer, notice: Notice, now: datetime) -> frozenset[str] | None:
    """The notice's branches this viewer may see: None for all of them (its author, HQ leads, admins), else those
    of their regions it reaches — empty when it reaches none of them, and the notice is not theirs to see."""
    if viewer.person.role not in SENDERS:
        return frozenset()
    if viewer.branches is None or notice.author_id == viewer.person.id:
        return None
    reached = audiences.branch_codes(session=session, audience=Audience.from_json(notice.audience), now=now)
    return viewer.branches & reached


def may_change(*, session: Session, person: Person, notice: Notice) -> bool:
    """Whether this person may edit or cancel the notice: its author, an HQ lead or an admin."""
    if person.role not in SENDERS:
        return False
    return (person.role == "admin" or notice.author_id == person.id
            or staff_regions(session=session, person=person) is None)


def check_may_change(*, session: Session, person: Person, notice: Notice) -> None:
    """Forbidden, in a sentence, unless `may_change`."""
    if person.role not in SENDERS:
        raise Forbidden("leads and admins manage notices")
    if not may_change(session=session, person=person, notice=notice):
        raise Forbidden("only the notice's author, a lead at headquarters or an admin may change it")
