"""The org directory as a document in the org file's shape (what `import_org` reads): the admin console edits
it, and importing it back changes nothing. On-call overrides are left out (they are dated and short-lived)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wuyou.desk import replies
from wuyou.desk.models import Branch, Identity, Person, Region, Team, TeamMember
from wuyou.desk.org import catalog_doc, routing_doc, sla_doc


def _regions(session: Session) -> list[dict[str, Any]]:
    rows = list(session.scalars(select(Region).order_by(Region.position, Region.code)))
    children: dict[str | None, list[Region]] = {}
    for r in rows:
        children.setdefault(r.parent_code, []).append(r)

    def node(r: Region) -> dict[str, Any]:
        out: dict[str, Any] = {"code": r.code, "name": r.name}
        if children.get(r.code):
            out["children"] = [node(c) for c in children[r.code]]
        return out

    return [node(r) for r in children.get(None, [])]


def export_doc(*, session: Session) -> dict[str, Any]:
    """Regions (a tree), branches, people with their identities, teams, catalog, SLA policies, routing and canned
    replies."""
    branches = [{"code": b.code, "name": b.name, "region": b.region_code, **({"hours": b.hours} if b.hours else {}),
                 **({"equipment": list(b.equipment)} if b.equipment else {}),
                 **({"address": b.address} if b.address else {}), **({"phone": b.phone} if b.phone else {})}
                for b in session.scalars(select(Branch).order_by(Branch.code))]
    identities: dict[str, dict[str, str]] = {}
    for i in session.scalars(select(Identity).order_by(Identity.id)):
        identities.setdefault(i.person_id, {})[i.platform] = i.external_id
    people = []
    for p in session.scalars(select(Person).where(Person.active).order_by(Person.role, Person.id)):
        item: dict[str, Any] = {"id": p.id, "name": p.name, "role": p.role}
        if p.branch_code:
            item["branch"] = p.branch_code
        if p.locale != "zh-CN":
            item["locale"] = p.locale
        if p.phone:
            item["phone"] = p.phone
        if identities.get(p.id):
            item["identities"] = identities[p.id]
        people.append(item)
    return {"regions": _regions(session), "branches": branches, "people": people, "teams": teams_doc(session=session),
            "catalog": catalog_doc(session=session), "sla": sla_doc(session=session),
            "routing": routing_doc(session=session), "replies": replies.doc(session=session)}


def teams_doc(*, session: Session) -> list[dict[str, Any]]:
    """The teams as the org file writes them: members, on-call order, lead, hours and rotation."""
    teams = []
    for t in session.scalars(select(Team).order_by(Team.code)):
        rows = list(session.scalars(select(TeamMember).where(TeamMember.team_code == t.code)
                                    .order_by(TeamMember.position)))
        item: dict[str, Any] = {"code": t.code, "name": t.name, "region": t.region_code, "speciality": t.speciality,
                "members": [m.person_id for m in rows]}  # all of them: one taken off the on-call order stays
        oncall = sorted((m for m in rows if m.oncall_position is not None), key=lambda m: m.oncall_position or 0)
        if oncall:
            item["oncall"] = [m.person_id for m in oncall]
        if t.lead_id:
            item["lead"] = t.lead_id
        if t.hours:
            item["hours"] = t.hours
        if t.oncall_rotation:
            item["rotation"] = t.oncall_rotation
        teams.append(item)
    return teams
