"""Absences (leave, holidays, training days) through the API — the console's on-call page and an HR system.

A person may have several: `GET` / `POST /api/v1/people/{id}/absences`, `DELETE …/absences/{absence_id}`. The
older one-absence endpoints keep their meaning for a client that knows of one: `PUT /api/v1/people/{id}/away` sets
it (replacing the absences it overlaps), `DELETE …/away` ends it, `GET /api/v1/away` lists who is away or has leave
planned. Staff mark themselves, a lead the members of their teams, an admin anyone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from wuyou.adapters.auth import Caller
from wuyou.adapters.bootstrap import Desk
from wuyou.adapters.bounds import Moment
from wuyou.adapters.org_api import Code, require_staff
from wuyou.desk import absences
from wuyou.desk.absences import LONGEST
from wuyou.desk.models import Absence, Person

router = APIRouter(prefix="/api/v1", tags=["org"])
AbsenceId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class Away(BaseModel):
    since: Moment | None = Field(default=None, description="when it begins (planned leave); default now")
    until: Moment = Field(description="when the absence ends (with a time zone); in the past: back now (PUT …/away)")
    note: str = Field(default="", max_length=200, description="e.g. 年假 / training")


class Span(BaseModel):
    since: datetime
    until: datetime


class AwayOut(BaseModel):
    person: str
    name: str
    since: datetime | None = None  # when it began or begins
    until: datetime | None
    note: str | None
    id: int | None = None  # the absence (for DELETE …/absences/{id})
    merged: list[Span] = []  # (POST) the absences it overlapped or adjoined, merged into it, as they were


def away_out(person: Person, absence: Absence) -> AwayOut:
    """An absence as the API shows it."""
    return AwayOut(person=person.id, name=person.name, since=absence.starts_at, until=absence.ends_at,
                   note=absence.note, id=absence.id)


def _target(session: Session, caller: Person, person_id: str, *, change: bool) -> Person:
    """The staff member named in the path, whose absences the caller may see (staff) or change (themselves, a lead
    for their teams' members, an admin)."""
    require_staff(caller)
    found = session.get(Person, person_id)
    if found is None or found.role == "reporter":
        raise HTTPException(status_code=404, detail=f"no staff member {person_id}")
    if change and not absences.may_mark_away(session=session, by=caller, person=found):
        raise HTTPException(status_code=403, detail="yourself, or as lead the members of your teams, or as admin")
    return found


def _checked(body: Away, now: datetime) -> None:
    for moment in (body.since, body.until):
        if moment is not None and moment.tzinfo is None:
            raise HTTPException(status_code=422, detail="times need a time zone (e.g. 2026-12-10T18:00:00+08:00)")
        if moment is not None and (abs(moment.year - now.year) > 1 or moment - now > LONGEST):
            raise HTTPException(status_code=422, detail="at most a year ahead")
    if body.since is not None and body.since >= body.until:
        raise HTTPException(status_code=422, detail="`since` is not before `until`")


@router.put("/people/{person_id}/away")
def set_away(person_id: Code, body: Away, request: Request, caller: Caller) -> AwayOut:
    """Mark a staff member away (leave, a holiday) until then: not paged, not auto-assigned, no new-ticket cards, a
    reopened ticket of theirs goes to the team's queue. The absences it overlaps give way to it (one in force keeps
    its start): PUT again to change it. An end already past: back now."""
    desk: Desk = request.app.state.desk
    now = desk.clock()
    _checked(body, now)
    with desk.sessions() as session:
        found = _target(session, caller, person_id, change=True)
        if body.until <= now:
            current = absences.in_force(found, now)
            if current is not None:
                absences.end(session=session, person=found, absence=current, now=now, by=caller)
            session.commit()
            return AwayOut(person=found.id, name=found.name, until=None, note=None)
        added = absences.add(session=session, person=found, until=body.until, note=body.note, now=now, by=caller,
                             since=body.since, replace=True)
        session.commit()
        return away_out(found, added.absence)


@router.delete("/people/{person_id}/away")
def end_away(person_id: Code, request: Request, caller: Caller) -> AwayOut:
    """Back now: the absence in force ends; when none is, the next one planned is called off (the others stay)."""
    desk: Desk = request.app.state.desk
    now = desk.clock()
    with desk.sessions() as session:
        found = _target(session, caller, person_id, change=True)
        ending = absences.in_force(found, now) or next(iter(absences.planned(found, now)), None)
        if ending is not None:
            absences.end(session=session, person=found, absence=ending, now=now, by=caller)
        session.commit()
        return AwayOut(person=found.id, name=found.name, until=None, note=None)


@router.get("/away")
def away_now(request: Request, person: Caller) -> list[AwayOut]:
    """Absences not over yet, one row each (someone with leave planned twice is listed twice): those in force
    (soonest back first), then those planned (soonest first)."""
    require_staff(person)
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        return [away_out(a.person, a) for a in absences.not_over(session=session, now=desk.clock())]


@router.get("/people/{person_id}/absences")
def list_absences(person_id: Code, request: Request, caller: Caller) -> list[AwayOut]:
    """A staff member's absences not over yet, by start: the one in force (if any), then those planned."""
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        found = _target(session, caller, person_id, change=False)
        return [away_out(found, a) for a in absences.ahead(found, desk.clock())]


@router.post("/people/{person_id}/absences", status_code=201)
def add_absence(person_id: Code, body: Away, request: Request, caller: Caller) -> AwayOut:
    """Add an absence (from `since`, default now, until `until`) beside those planned; one it overlaps or adjoins is
    merged with it (`merged` says which, as they were)."""
    desk: Desk = request.app.state.desk
    now = desk.clock()
    _checked(body, now)
    if body.until <= now:
        raise HTTPException(status_code=422, detail="`until` is past")
    with desk.sessions() as session:
        found = _target(session, caller, person_id, change=True)
        added = absences.add(session=session, person=found, until=body.until, note=body.note, now=now, by=caller,
                             since=body.since)
        session.commit()
        return away_out(found, added.absence).model_copy(
            update={"merged": [Span(since=s, until=e) for s, e in added.merged]})


@router.delete("/people/{person_id}/absences/{absence_id}", status_code=204)
def remove_absence(person_id: Code, absence_id: AbsenceId, request: Request, caller: Caller) -> Response:
    """Call a planned absence off, or end the one in force now (it stays on record until now)."""
    desk: Desk = request.app.state.desk
    now = desk.clock()
    with desk.sessions() as session:
        found = _target(session, caller, person_id, change=True)
        absence = next((a for a in found.absences if a.id == absence_id), None)
        if absence is None or absence.ends_at <= now:
            raise HTTPException(status_code=404, detail=f"{person_id} has no absence {absence_id} not over yet")
        absences.end(session=session, person=found, absence=absence, now=now, by=caller)
        session.commit()
    return Response(status_code=204)
