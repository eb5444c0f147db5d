"""Binding a chat account to a person of the directory (conversations/09).

The sender names themselves: a branch code and a name, or a staff id. When a branch and a name match exactly one
active reporter who has no account on that platform yet, they bind themselves (after confirming it is them) and
the leads of the branch's region are told, with a button to undo it. Every other case — a staff id, a name the
directory does not have at that branch (approving creates the reporter), two people of one name, a person or an
account bound already — waits for a lead serving the branch (or an admin), who approves or refuses. One person has
at most one account per platform. Every binding, approval, refusal and undoing is on the audit trail.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from wuyou.desk import audit, outbox
from wuyou.desk.errors import Forbidden, NotFound
from wuyou.desk.models import Branch, Identity, Person, Team, Ticket
from wuyou.desk.org import region_chain
from wuyou.desk.timeline import add_event
from wuyou.store import StateStore

REQUEST_TTL = 3 * 24 * 3600  # a request waits this long for a lead
UNDO_TTL = 7 * 24 * 3600  # a self-binding may be undone this long after
UNDONE_TAG = "绑定已撤销"  # on the tickets opened from an account whose binding a lead undid


@dataclass(frozen=True)
class BindRequest:
    token: str
    platform: str
    external_id: str
    person_id: str | None  # None: nobody of the directory (approving creates a reporter: `name` at `branch_code`)
    branch_code: str | None = None
    name: str | None = None
    display: str = ""  # the account's own name on the platform ("洋洋"), when it has one
    candidates: list[str] = field(default_factory=list)  # two people of one name: the lead picks


@dataclass(frozen=True)
class Claim:
    """Who the sender says they are: the branch (when a code was given), the name or id, and who matches."""

    branch: Branch | None
    name: str
    matches: list[Person]
    by_id: bool = False


def find(*, session: Session, claim: str) -> Claim | None:
    """`zhang.san` (a staff id), or a branch code and a name in either order, the code as people type it
    (`JN-001 张三`, `张三 JN-001`, `jn001 张三`, `JN-002刘洋`); None when it names no branch of the directory."""
    claim = re.sub(r"([A-Za-z]{1,6})[-_ ]?(\d{1,6})", r"\1\2", claim)  # (SH 002, SH-002, sh002: one word)
    claim = re.sub(r"(?<=[A-Za-z0-9])(?=[^\x00-\x7f])|(?<=[^\x00-\x7f])(?=[A-Za-z])", " ", claim)  # SH002张怡
    words = claim.split()
    if len(words) == 1:
        person = session.get(Person, words[0])
        return Claim(None, words[0], [person] if person is not None and person.active else [], by_id=True)
    if len(words) != 2:
        return None
    codes = {_code_key(b.code): b for b in session.scalars(select(Branch))}
    for code, name in (words, words[::-1]):
        branch = codes.get(_code_key(code))
        if branch is not None:
            matches = list(session.scalars(select(Person).where(Person.branch_code == branch.code,
                                                                Person.name == name, Person.active)))
            return Claim(branch, name, matches)
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


def approvers(*, session: Session, person: Person | None = None, branch: Branch | None = None) -> list[Person]:
    """Leads of teams whose region covers the person's (or the) branch, else the admins."""
    leads: list[Person] = []
    branch = person.branch if person is not None else branch
    if branch is not None:
        chain = region_chain(session=session, region_code=branch.region_code)
        for team in session.scalars(select(Team).where(Team.region_code.in_(chain), Team.lead_id.is_not(None))):
            lead = session.get(Person, team.lead_id)
            if lead is not None and lead.active and lead not in leads:
                leads.append(lead)
    return leads or list(session.scalars(select(Person).where(Person.role == "admin", Person.active)))


def may_bind_self(*, session: Session, platform: str, external_id: str, person: Person) -> bool:
    """A reporter with no account on the platform, and an account nobody has: no lead needed."""
    return person.role == "reporter" and person.active and session.scalars(select(Identity).where(
        (Identity.platform == platform) & ((Identity.person_id == person.id) | (Identity.external_id == external_id))
    )).first() is None


def bind_self(*, session: Session, store: StateStore, platform: str, external_id: str, person: Person,
              display: str, now: datetime) -> list[Person]:
    """Bind the account to the person (`may_bind_self`), and tell the leads of their region, with a button to undo
    it; returns the leads told."""
    session.add(Identity(platform=platform, external_id=external_id, person_id=person.id))
    session.flush()
    audit.record(session=session, at=now, actor_id=person.id, action="chat bind self",
                 target=f"{platform}:{external_id} → {person.id}")
    token = secrets.token_urlsafe(8)
    store.set(f"bound:{token}", json.dumps({"platform": platform, "external_id": external_id, "person_id": person.id,
                                            "at": now.isoformat()}), ttl=UNDO_TTL)
    leads = approvers(session=session, person=person)
    for lead in leads:
        outbox.enqueue(session=session, person_id=lead.id, template="bind_self_notice", now=now,
                       params={"display": display or "—", "name": person.name, "person": person.id,
                               "code": person.branch_code or "", "branch": person.branch.name if person.branch else "",
                               "platform_key": f"platform_{platform}", "token": token},
                       key=f"bound:{token}:{lead.id}",
                       buttons=[{"label_key": "btn_unbind", "action": f"/unbind {token}"}])
    return leads


def request(*, session: Session, store: StateStore, platform: str, external_id: str, claim: Claim, display: str,
            now: datetime) -> tuple[BindRequest, list[Person]]:
    """Ask the approvers: is this account the claimed person's (one match), which of them (several), or someone
    to add to the directory (none)?"""
    token = secrets.token_urlsafe(8)
    one = claim.matches[0] if len(claim.matches) == 1 else None
    branch = one.branch if one is not None else claim.branch
    bind = BindRequest(token, platform, external_id, one.id if one is not None else None,
                       branch.code if branch is not None else None, claim.name, display,
                       [p.id for p in claim.matches] if len(claim.matches) > 1 else [])
    store.set(f"bind:{token}", json.dumps(asdict(bind)), ttl=REQUEST_TTL)
    people = approvers(session=session, person=one, branch=branch)
    refuse = {"label_key": "btn_refuse", "action": f"/refuse {token}"}
    if one is not None:
        template, buttons = "bind_request", [{"label_key": "btn_approve", "action": f"/approve {token}"}, refuse]
    elif claim.matches:
        template = "bind_request_which"
        buttons = [*({"label": f"{p.name}（{p.id}）", "action": f"/approve {token} {p.id}"} for p in claim.matches),
                   refuse]
    else:
        template, buttons = "bind_request_new", [{"label_key": "btn_approve_new", "action": f"/approve {token}"},
                                                 refuse]
    moved = one is not None and session.scalars(select(Identity).where(
        Identity.person_id == one.id, Identity.platform == platform)).first() is not None
    for approver in people:
        outbox.enqueue(session=session, person_id=approver.id, template=template,
                       params={"name": one.name if one is not None else claim.name,
                               "person": one.id if one is not None else "",
                               "display": display or "—", "platform_key": f"platform_{platform}",
                               "branch": branch.name if branch is not None else "—",
                               "code": branch.code if branch is not None else "—", "token": token,
                               "count": len(claim.matches), "already_key": "bind_request_moves" if moved else ""},
                       key=f"bind:{token}:{approver.id}", now=now, buttons=buttons)
    return bind, people


def approved(*, store: StateStore, token: str) -> tuple[str, str] | None:
    """(who decided it, whose account it is) of a request decided lately, for the next approver who presses."""
    raw = store.get(f"bind-done:{token}")
    if raw is None:
        return None
    done = json.loads(raw)
    return str(done["approver"]), str(done["name"])


def _pending(store: StateStore, token: str) -> BindRequest:
    raw = store.get(f"bind:{token}")
    if raw is None:
        raise NotFound(f"binding {token}")
    return BindRequest(**json.loads(raw))


def _may_decide(session: Session, approver: Person, bind: BindRequest) -> None:
    branch = session.get(Branch, bind.branch_code) if bind.branch_code else None
    if approver.role != "admin" and approver not in approvers(session=session, branch=branch):
        raise Forbidden("only a lead serving the person's branch, or an admin")


def approve(*, session: Session, store: StateStore, token: str, approver: Person, now: datetime,
            person_id: str | None = None) -> tuple[Person, BindRequest]:
    """Store the identity (a lead serving the branch, or an admin): of the person claimed, of the one picked among
    several of one name (`person_id`), or of a reporter added to the directory. The account moves from whoever had
    it, and the person's earlier account on the platform is dropped: one account per person and platform."""
    bind = _pending(store, token)
    _may_decide(session, approver, bind)
    chosen = bind.person_id or (person_id if person_id in bind.candidates else None)
    if bind.candidates and chosen is None:
        raise NotFound(f"person {person_id}")
    if chosen is not None:
        person = session.get(Person, chosen)
        if person is None:
            raise NotFound(f"person {chosen}")
    else:
        person = Person(id=_new_id(session, bind.name or "reporter"), name=bind.name or "—", role="reporter",
                        branch_code=bind.branch_code, active=True)
        session.add(person)
        session.flush()
        audit.record(session=session, at=now, actor_id=approver.id, action="chat bind add person", target=person.id)
    session.execute(delete(Identity).where(
        (Identity.platform == bind.platform)
        & ((Identity.external_id == bind.external_id) | (Identity.person_id == person.id))))
    session.add(Identity(platform=bind.platform, external_id=bind.external_id, person_id=person.id))
    session.flush()
    audit.record(session=session, at=now, actor_id=approver.id, action="chat bind approve",
                 target=f"{bind.platform}:{bind.external_id} → {person.id}")
    store.delete(f"bind:{token}")
    store.set(f"bind-done:{token}", json.dumps({"approver": approver.name, "name": person.name}), ttl=REQUEST_TTL)
    _tell_others(session, bind, approver, "bind_decided_approved", person.name, now)
    return person, bind


def refuse(*, session: Session, store: StateStore, token: str, approver: Person, now: datetime) -> BindRequest:
    """Turn the request down: the sender is told at once (what they sent first is dropped: the bot's layer)."""
    bind = _pending(store, token)
    _may_decide(session, approver, bind)
    audit.record(session=session, at=now, actor_id=approver.id, action="chat bind refuse",
                 target=f"{bind.platform}:{bind.external_id} → {bind.person_id or bind.name}")
    store.delete(f"bind:{token}")
    store.set(f"bind-done:{token}", json.dumps({"approver": approver.name, "name": bind.name or "—"}),
              ttl=REQUEST_TTL)
    outbox.enqueue_to_account(session=session, platform=bind.platform, address=bind.external_id,
                              template="bind_refused", params={}, key=f"bind:{token}:refused", now=now)
    _tell_others(session, bind, approver, "bind_decided_refused", bind.name or "—", now)
    return bind


def _tell_others(session: Session, bind: BindRequest, approver: Person, decision: str, name: str,
                 now: datetime) -> None:
    """The other approvers the request was put to hear who decided it, so that their card is not left open."""
    branch = session.get(Branch, bind.branch_code) if bind.branch_code else None
    person = session.get(Person, bind.person_id) if bind.person_id else None
    for other in approvers(session=session, person=person, branch=branch):
        if other.id != approver.id:
            outbox.enqueue(session=session, person_id=other.id, template="bind_decided", now=now,
                           params={"approver": approver.name, "decision_key": decision, "name": name,
                                   "display": bind.display or "—", "platform_key": f"platform_{bind.platform}"},
                           key=f"bind:{bind.token}:decided:{other.id}")


def unbind(*, session: Session, store: StateStore, token: str, approver: Person, now: datetime) -> tuple[Person, int]:
    """Undo a self-binding (a lead serving the person's branch, or an admin): the account is unknown again, and the
    tickets opened since it was bound are tagged for the team to check. Returns the person and how many."""
    raw = store.get(f"bound:{token}")
    if raw is None:
        raise NotFound(f"binding {token}")
    bound = json.loads(raw)
    person = session.get(Person, bound["person_id"])
    if person is None:
        raise NotFound(f"person {bound['person_id']}")
    if approver.role != "admin" and approver not in approvers(session=session, person=person):
        raise Forbidden("only a lead serving the person's branch, or an admin")
    session.execute(delete(Identity).where(Identity.platform == bound["platform"],
                                           Identity.external_id == bound["external_id"],
                                           Identity.person_id == person.id))
    since = datetime.fromisoformat(bound["at"])
    opened = list(session.scalars(select(Ticket).where(Ticket.reporter_id == person.id, Ticket.created_at >= since,
                                                       Ticket.channel == bound["platform"])))
    for ticket in opened:
        ticket.tags = [*(ticket.tags or []), UNDONE_TAG] if UNDONE_TAG not in (ticket.tags or []) else ticket.tags
        add_event(session=session, ticket=ticket, kind="binding_undone", now=now, actor=approver, public=False,
                  body=f"{bound['platform']}:{bound['external_id']}")
    audit.record(session=session, at=now, actor_id=approver.id, action="chat bind undo",
                 target=f"{bound['platform']}:{bound['external_id']} → {person.id}")
    store.delete(f"bound:{token}")
    session.flush()
    return person, len(opened)


def _new_id(session: Session, name: str) -> str:
    """An id for a person added from chat, as the directory's ids read: the name in pinyin, family name first
    (王磊 → wang.lei), numbered when taken."""
    from pypinyin import lazy_pinyin  # (its phrase table loads in a third of a second: only when someone is added)

    syllables = [s for s in lazy_pinyin([ch for ch in name if ord(ch) > 0x2FFF]) if s.isascii() and s.isalpha()]
    base = f"{syllables[0]}.{''.join(syllables[1:])}" if len(syllables) > 1 else \
        (syllables[0] if syllables else re.sub(r"[^a-z0-9.]", "", name.lower()) or "reporter")
    candidate, n = base, 1
    while session.get(Person, candidate) is not None:
        n += 1
        candidate = f"{base}{n}"
    return candidate
