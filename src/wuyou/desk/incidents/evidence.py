"""How an incident shows its evidence compactly: a surge offer's branches by region ("济南：泉城路、历下 · 青岛：
市南") and tickets as ranges ("#1051–#1056"); a monitoring alert's possible impact (the branches of its region,
those open now named: "可能影响：济南分公司的网点（泉城路支行 营业中）"). Names are the org's own: what is cut off
them is only the part every branch of a region repeats (the city) and a branch-type ending (支行, 营业厅, …)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wuyou.desk import hours
from wuyou.desk.incidents.models import Incident
from wuyou.desk.models import Branch, Region

_REGION_ENDING = re.compile(r"(省分公司|分公司|分行|分部|公司|地区|区域|片区)$")
_BRANCH_ENDING = re.compile(r"(支行|分理处|营业厅|营业部|网点|门店|药店|分店|服务点)$")
MAX_NAMED = 12  # more branches than this are counted, not named


def branches_by_region(session: Session, codes: Sequence[str]) -> str:
    """The branches grouped under their regions' short names, in the org's order; the full names when a region
    has one branch only or a name would be cut to nothing."""
    rows = session.execute(select(Branch, Region).join(Region, Branch.region_code == Region.code)
                           .where(Branch.code.in_(list(codes))).order_by(Region.position, Region.code, Branch.code)
                           ).all()
    groups: dict[str, list[str]] = {}
    for branch, region in rows[:MAX_NAMED]:
        city = _REGION_ENDING.sub("", region.name) or region.name
        short = _BRANCH_ENDING.sub("", branch.name.removeprefix(city)) or branch.name
        groups.setdefault(city, []).append(short)
    parts = [f"{city}：{'、'.join(names)}" for city, names in groups.items()]
    more = f" …+{len(rows) - MAX_NAMED}" if len(rows) > MAX_NAMED else ""
    return " · ".join(parts) + more


def ranges(numbers: Sequence[int]) -> str:
    """Ticket numbers with runs of three or more as ranges: #1051–#1056、#1060."""
    out: list[str] = []
    run: list[int] = []
    for n in [*sorted(set(numbers)), None]:
        if run and (n is None or n != run[-1] + 1):
            out += [f"#{run[0]}–#{run[-1]}"] if len(run) >= 3 else [f"#{x}" for x in run]
            run = []
        if n is not None:
            run.append(n)
    return "、".join(out)


def impact(session: Session, incident: Incident, now: datetime, tz: str = hours.DEFAULT_TZ) -> dict[str, Any]:
    """Notification parameters for what an alert's incident may affect: the branches under its region, naming
    those open now (by their hours, else the desk's default). Nothing for an incident declared from reports
    (its branches are counted) or without a region."""
    if incident.source != "alert" or incident.region_code is None:
        return {"impact_key": ""}
    regions = {r.code: r for r in session.scalars(select(Region))}
    under, todo = set(), [incident.region_code]
    while todo:  # the region and every region below it
        code = todo.pop()
        if code not in under:
            under.add(code)
            todo += [c for c, r in regions.items() if r.parent_code == code]
    branches = session.scalars(select(Branch).where(Branch.region_code.in_(under)).order_by(Branch.code)).all()
    region = regions[incident.region_code]
    city = _REGION_ENDING.sub("", region.name) or region.name
    open_now = [b.name.removeprefix(city) or b.name for b in branches
                if hours.calendar_in(session, b.hours or hours.DEFAULT_HOURS, tz, region=b.region_code).is_open(now)]
    named = "、".join(open_now[:MAX_NAMED]) + (f" …+{len(open_now) - MAX_NAMED}" if len(open_now) > MAX_NAMED else "")
    # (`open_key` first: the delivery renders keys in order, and the impact line shows the open branches)
    return {"impact_since_at": incident.started_at.isoformat(), "impact_region": region.name,
            "impact_branches": len(branches), "impact_open": named,
            "open_key": "incident_impact_open" if open_now else "incident_impact_closed",
            "impact_key": "incident_impact"}
