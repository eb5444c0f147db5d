"""How a surge offer shows its evidence compactly: the branches by region ("济南：泉城路、历下 · 青岛：市南"), the
tickets as ranges ("#1051–#1056"). Names are the org's own: what is cut off them is only the part every branch
of a region repeats (the city) and a branch-type ending (支行, 营业厅, …)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

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
