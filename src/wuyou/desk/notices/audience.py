"""Whom a notice reaches: regions (with every region below them), branch codes, and catalog leaves — the
branches that have that equipment (declared in the org file, or seen in their tickets of the last half year)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wuyou.desk.errors import DeskError
from wuyou.desk.models import Branch, Category, Identity, Person, Region, Ticket
from wuyou.desk.org import region_chain, regions_below

EQUIPMENT_SEEN_DAYS = 182
PLATFORM_ORDER = ("telegram", "wecom", "wechat", "http")  # as the delivery worker tries a person's identities


class UnknownTarget(DeskError):
    """A region, branch or catalog leaf that does not exist."""


@dataclass(frozen=True)
class Audience:
    regions: tuple[str, ...] = ()
    branches: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()  # catalog leaf names

    @property
    def everyone(self) -> bool:
        return not (self.regions or self.branches or self.categories)

    def as_json(self) -> dict[str, Any]:
        return {"regions": list(self.regions), "branches": list(self.branches), "categories": list(self.categories)}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Audience:
        data = data or {}
        return cls(tuple(data.get("regions", ())), tuple(data.get("branches", ())), tuple(data.get("categories", ())))


@dataclass(frozen=True)
class Reach:
    """How far a notice goes: branches, people, and people per platform they will be reached on."""

    branches: int
    people: int
    platforms: dict[str, int] = field(default_factory=dict)


def check(*, session: Session, audience: Audience) -> None:
    """UnknownTarget naming every code or name that does not exist."""
    regions = set(session.scalars(select(Region.code)))
    branches = set(session.scalars(select(Branch.code)))
    leaves = {c.name for c in session.scalars(select(Category).where(Category.parent_id.is_not(None)))}
    unknown = ([r for r in audience.regions if r not in regions] + [b for b in audience.branches if b not in branches]
               + [c for c in audience.categories if c not in leaves])
    if unknown:
        raise UnknownTarget(", ".join(unknown))


def branch_codes(*, session: Session, audience: Audience, now: datetime) -> set[str]:
    """The branches the audience names (all of them for an empty audience)."""
    if audience.everyone:
        return set(session.scalars(select(Branch.code)))
    codes = set(audience.branches)
    if audience.regions:
        regions = regions_below(session=session, codes=set(audience.regions))
        codes |= set(session.scalars(select(Branch.code).where(Branch.region_code.in_(regions))))
    if audience.categories:
        wanted = set(audience.categories)
        codes |= {b.code for b in session.scalars(select(Branch)) if wanted & set(b.equipment or ())}
        leaf_ids = select(Category.id).where(Category.parent_id.is_not(None), Category.name.in_(wanted))
        codes |= {c for c in session.scalars(
            select(Ticket.branch_code).where(Ticket.category_id.in_(leaf_ids), Ticket.branch_code.is_not(None),
                                             Ticket.created_at >= now - timedelta(days=EQUIPMENT_SEEN_DAYS))
            .distinct()) if c is not None}
    return codes


def reaches(*, session: Session, audience: Audience, branch_code: str | None, now: datetime) -> bool:
    """Whether the audience includes this one branch — what `branch_codes` would say, asked of one branch only
    (a report during a maintenance window asks it: no list of every branch for that)."""
    if audience.everyone:
        return True
    if branch_code is None:
        return False
    if branch_code in audience.branches:
        return True
    branch = session.get(Branch, branch_code)
    if branch is None:
        return False
    if audience.regions and set(region_chain(session=session, region_code=branch.region_code)) & set(audience.regions):
        return True
    if not audience.categories:
        return False
    if set(branch.equipment or ()) & set(audience.categories):
        return True
    leaf_ids = select(Category.id).where(Category.parent_id.is_not(None), Category.name.in_(audience.categories))
    return session.scalar(select(Ticket.id).where(
        Ticket.branch_code == branch_code, Ticket.category_id.in_(leaf_ids),
        Ticket.created_at >= now - timedelta(days=EQUIPMENT_SEEN_DAYS)).limit(1)) is not None


def people(*, session: Session, codes: set[str]) -> list[Person]:
    """The active people of those branches, by branch and id."""
    if not codes:
        return []
    stmt = select(Person).where(Person.active, Person.branch_code.in_(codes)).order_by(Person.branch_code, Person.id)
    return list(session.scalars(stmt))


def reach(*, session: Session, audience: Audience, now: datetime, platforms: tuple[str, ...] = PLATFORM_ORDER) -> Reach:
    """What sending to `audience` would reach, counted before anything is sent (the confirmation step)."""
    codes = branch_codes(session=session, audience=audience, now=now)
    found = people(session=session, codes=codes)
    ids = [p.id for p in found]
    held: dict[str, set[str]] = {}
    for start in range(0, len(ids), 1000):
        for pid, platform in session.execute(select(Identity.person_id, Identity.platform)
                                             .where(Identity.person_id.in_(ids[start:start + 1000]))):
            held.setdefault(pid, set()).add(platform)
    per = Counter(next((p for p in platforms if p in held.get(pid, set())), "none") for pid in ids)
    return Reach(branches=len(codes), people=len(found), platforms=dict(per))
