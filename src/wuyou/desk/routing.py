"""Routing: which team gets a new ticket, and at which priority."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from wuyou.desk.models import Branch, Category, Team
from wuyou.desk.org import PRIORITIES, region_chain


def route_team(*, session: Session, category: Category | None, branch: Branch | None) -> Team | None:
    """The team of the category's speciality serving the branch's region or its nearest ancestor."""
    if category is None or not category.speciality:
        return None
    chain = region_chain(session=session, region_code=branch.region_code) if branch else []
    teams = session.scalars(
        select(Team).where(Team.speciality == category.speciality).order_by(Team.code)
    ).all()
    for code in chain:
        for team in teams:
            if team.region_code == code:
                return team
    # No region match (a person with no branch): an HQ-level team, i.e. one with no parent region.
    roots = [t for t in teams if not chain or t.region_code == chain[-1]]
    return roots[0] if roots else None


def priority_for(*, category: Category | None, urgency: int) -> str:
    """The category's default priority, raised one level for urgency 3 (紧急, of 1 一般 / 2 较急 / 3 紧急)."""
    base = (category.priority if category else None) or "P3"
    idx = PRIORITIES.index(base) if base in PRIORITIES else 2
    if urgency >= 3 and idx > 0:
        idx -= 1
    return PRIORITIES[idx]
