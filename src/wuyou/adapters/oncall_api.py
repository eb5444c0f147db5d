"""Who is on call now, team by team, for the console's on-call page (the chat's `值班`): `GET /api/v1/oncall/roster`.

Leave itself is added, ended and called off through `/api/v1/people/{id}/absences` (absences_api); the roster
says, per team, who is away now, whose leave is planned, and whom the viewer may mark away.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import select

from wuyou.adapters.absences_api import AwayOut, away_out
from wuyou.adapters.auth import Caller
from wuyou.adapters.bootstrap import Desk
from wuyou.adapters.org_api import require_staff
from wuyou.desk.absences import away_markable, in_force, planned
from wuyou.desk.errors import Place
from wuyou.desk.incidents import oncall
from wuyou.desk.incidents.rotation import Rotation
from wuyou.desk.models import Team
from wuyou.desk.org import team_members

router = APIRouter(prefix="/api/v1/oncall", tags=["org"])


class Someone(BaseModel):
    id: str
    name: str


class TeamOnCall(BaseModel):
    team: str
    name: str
    region: str
    speciality: str
    chain: list[Someone]  # paged in this order now (rotation and cover applied; the away passed over), then the lead
    handover: datetime | None  # the next turn of a rotating order
    away: list[AwayOut]  # members away now
    planned: list[AwayOut]  # members' absences not begun yet, soonest first
    members: list[Someone]  # the members the viewer may mark away (none when they may not)


@router.get("/roster")
def roster(request: Request, person: Caller) -> list[TeamOnCall]:
    """Every team's on-call order as it stands now, who of it is away or has leave planned, and the next hand-over."""
    require_staff(person)
    desk: Desk = request.app.state.desk
    now, tz = desk.clock(), desk.bot.tz
    out = []
    with desk.sessions() as session:
        markable = away_markable(session=session, by=person)  # (once: not a query per member)
        for team in session.scalars(select(Team).order_by(Team.code)):
            rotation = Rotation.parse(team.oncall_rotation, Place("team", name=team.code)) \
                if team.oncall_rotation else None
            members = team_members(session=session, team_code=team.code)
            out.append(TeamOnCall(
                team=team.code, name=team.name, region=team.region_code, speciality=team.speciality,
                chain=[Someone(id=p.id, name=p.name) for p in oncall.chain(session=session, team=team, now=now,
                                                                          tz=tz.key)],
                handover=rotation.next_handover(now, tz) if rotation else None,
                away=[away_out(p, a) for p in members if (a := in_force(p, now)) is not None],
                planned=sorted((away_out(p, a) for p in members for a in planned(p, now)),
                               key=lambda o: (o.since or now, o.person)),
                members=[Someone(id=p.id, name=p.name) for p in members
                         if markable is None or p.id in markable]))
    return out
