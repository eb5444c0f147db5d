"""Binding a chat account to a person of the directory: the sender names themselves (staff id, or
branch code + name), a lead serving their branch (or an admin) approves, and the identity is stored.
One person may have identities on several platforms, one per platform."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from wuyou.desk import outbox
from wuyou.desk.errors import Forbidden, NotFound
from wuyou.desk.models import Branch, Identity, Person, Team
from wuyou.desk.org import region_chain
from wuyou.store import StateStore

REQUEST_TTL = 3 * 24 * 3600


@dataclass(frozen=True)
class BindRequest:
    token: str
    platform: str
    external_id: str
    person_id: str


def find_person(*, session: Session, claim: str) -> Person | None:
    """`zhang.san` (a staff id), or `JN-001 张三` (branch code + name, when unique)."""
    words = claim.split()
    if len(words) == 1:
        return session.get(Person, words[0])
    if len(words) == 2:
        matches = session.scalars(select(Person).where(Person.branch_code == words[0], Person.name == words[1],
                                                       Person.active)).all()
        return matches[0] if len(matches) == 1 else None
    return None


def branch_named(*, session: Session, text: str) -> Branch | None:
    """The branch a department name points at ("济南历下营业厅", "JN-002 历下"), if exactly one."""
    if not text.strip():
        return None
    branches = session.scalars(select(Branch)).all()
    named = [b for b in branches if b.name == text.strip()] or [b for b in branches if b.code in text]
    return named[0] if len(named) == 1 else None


def approvers(*, session: Session, person: Person) -> list[Person]:
    """Leads of teams whose region covers the person's branch, else the admins."""
    leads: list[Person] = []
    if person.branch is not None:
        chain = region_chain(session=session, region_code=person.branch.region_code)
        for team in session.scalars(select(Team).where(Team.region_code.in_(chain), Team.lead_id.is_not(None))):
            lead = session.get(Person, team.lead_id)
            if lead is not None and lead.active and lead not in leads:
                leads.append(lead)
    return leads or list(session.scalars(select(Person).where(Person.role == "admin", Person.active)))


def request(*, session: Session, store: StateStore, platform: str, external_id: str, person: Person,
            now: datetime) -> tuple[BindRequest, list[Person]]:
    """Ask the approvers to confirm that this account belongs to `person`."""
    taken = session.scalars(select(Identity).where(Identity.person_id == person.id,
                                                   Identity.platform == platform)).first()
    if taken is not None:
        raise Forbidden("that person already has an account on this platform")
    token = secrets.token_urlsafe(8)
    bind = BindRequest(token, platform, external_id, person.id)
    store.set(f"bind:{token}", json.dumps(bind.__dict__), ttl=REQUEST_TTL)
    people = approvers(session=session, person=person)
    for approver in people:
        outbox.enqueue(session=session, person_id=approver.id, template="bind_request",
                       params={"name": person.name, "person": person.id, "platform": platform,
                               "branch": person.branch.name if person.branch else "", "token": token},
                       key=f"bind:{token}:{approver.id}", now=now,
                       buttons=[{"label_key": "btn_approve", "action": f"/approve {token}"}])
    return bind, people


def approve(*, session: Session, store: StateStore, token: str, approver: Person, now: datetime) -> Person:
    """Store the identity (a lead serving the person's branch, or an admin) and tell the person."""
    raw = store.get(f"bind:{token}")
    if raw is None:
        raise NotFound(f"binding {token}")
    bind = BindRequest(**json.loads(raw))
    person = session.get(Person, bind.person_id)
    if person is None:
        raise NotFound(f"person {bind.person_id}")
    if approver.role != "admin" and approver not in approvers(session=session, person=person):
        raise Forbidden("only a lead serving the person's branch, or an admin")
    existing = session.scalars(select(Identity).where(Identity.platform == bind.platform,
                                                      Identity.external_id == bind.external_id)).first()
    if existing is None:
        session.add(Identity(platform=bind.platform, external_id=bind.external_id, person_id=person.id))
    else:
        existing.person_id = person.id
    session.flush()
    store.delete(f"bind:{token}")
    outbox.enqueue(session=session, person_id=person.id, template="bind_done", params={"name": person.name,
                   "approver": approver.name}, key=f"bound:{token}", now=now)
    return person
