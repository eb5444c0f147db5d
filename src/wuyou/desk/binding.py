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
    """`zhang.san` (a staff id), or a branch code and a name in either order, the code as people type it
    (`JN-001 张三`, `张三 JN-001`, `jn001 张三`), when exactly one active person matches."""
    words = claim.split()
    if len(words) == 1:
        return session.get(Person, words[0])
    if len(words) != 2:
        return None
    codes = {_code_key(c): c for c in session.scalars(select(Branch.code))}
    for code, name in (words, words[::-1]):
        branch = codes.get(_code_key(code))
        if branch is not None:
            matches = session.scalars(select(Person).where(Person.branch_code == branch, Person.name == name,
                                                           Person.active)).all()
            return matches[0] if len(matches) == 1 else None
    return None


def _code_key(code: str) -> str:
    return code.replace("-", "").replace("_", "").upper()


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
                       params={"name": person.name, "person": person.id, "platform_key": f"platform_{platform}",
                               "branch": person.branch.name if person.branch else "", "token": token},
                       key=f"bind:{token}:{approver.id}", now=now,
                       buttons=[{"label_key": "btn_approve", "action": f"/approve {token}"}])
    return bind, people


def approved(*, store: StateStore, token: str) -> tuple[str, str] | None:
    """(who approved it, whose account it is) of a request approved lately, for the next approver who presses."""
    raw = store.get(f"bind-done:{token}")
    if raw is None:
        return None
    done = json.loads(raw)
    return str(done["approver"]), str(done["name"])


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
    store.set(f"bind-done:{token}", json.dumps({"approver": approver.name, "name": person.name}), ttl=REQUEST_TTL)
    outbox.enqueue(session=session, person_id=person.id, template="bind_done", params={"name": person.name,
                   "approver": approver.name}, key=f"bound:{token}", now=now)
    return person
