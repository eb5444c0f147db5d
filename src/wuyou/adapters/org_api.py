"""The org directory through the API: the whole directory as one document (the org file's shape), teams and
branches with their business hours, and the desk's calendar (statutory days and its own) — the console's admin
pages."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from wuyou.adapters.admin_api import refused
from wuyou.adapters.auth import AUDIT_TARGET, Admin, Caller, refusal_words
from wuyou.adapters.bootstrap import Desk
from wuyou.db import refresh_statistics
from wuyou.desk import calendar_days, org, org_export, scope
from wuyou.desk.calendar_days import CalendarDayError
from wuyou.desk.errors import OrgFileError, Place
from wuyou.desk.models import Branch, Person, Region, Team

router = APIRouter(prefix="/api/v1", tags=["org"])
Code = Annotated[str, Path(min_length=1, max_length=64)]


class Hours(BaseModel):
    hours: str = Field(max_length=200, description="e.g. `mon-fri 09:00-17:00, sat 09:00-12:00`; empty inherits")


class TeamOut(BaseModel):
    code: str
    name: str
    region: str
    speciality: str
    lead: str | None
    members: list[str]
    oncall: list[str]
    hours: str | None
    rotation: dict[str, Any] | None


class BranchOut(BaseModel):
    code: str
    name: str
    region: str
    hours: str | None
    address: str | None = None
    phone: str | None = None


class RegionOut(BaseModel):
    code: str
    name: str
    parent: str | None


class Day(BaseModel):
    date: str
    kind: str = Field(description="holiday (closed), or workday (open with workday hours: a make-up workday)")
    name: str = Field(description="the statutory holiday's English name (National Day), or the desk's own words")
    holiday: str = Field("", description="the statutory holiday's key, for a translation (national_day)")
    source: str = Field("statutory", description="statutory, or desk: a day the desk itself set (it overrides)")
    by: str = Field("", description="who set a desk day")
    region: str = Field("", description="a desk day of one region (and the regions below it); empty: every branch")
    region_name: str = ""


class DaysIn(BaseModel):
    day: date = Field(description="the (first) day")
    until: date | None = Field(default=None, description="the last day of a range (at most 62 days); default `day`")
    kind: str = Field(description="holiday: the desk is closed; workday: open with workday hours (a make-up workday)")
    name: str = Field(default="", max_length=80, description="e.g. 公司年会 / 台风停业 / 2027 春节")
    region: str = Field(default="", max_length=64, description="only this region's branches and those below it (a "
                                                               "typhoon); empty: every branch")


class DaysSet(BaseModel):
    days: list[Day]
    moved: int = Field(description="tickets whose running SLA clocks got new due times")


class DaysRemoved(BaseModel):
    removed: int = Field(description="days the desk had its own word on, now back to the statutory calendar")
    moved: int = Field(description="tickets whose running SLA clocks got new due times")


def require_staff(person: Person) -> None:
    if not scope.is_staff(person):
        raise HTTPException(status_code=403, detail="engineers, leads and admins only")


@router.get("/org")
def get_org(request: Request, _: Admin) -> dict[str, Any]:
    """The whole directory in the org file's shape (see `org-sample.yaml`); PUT it back to change it."""
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        return org_export.export_doc(session=session)


@router.put("/org")
def put_org(body: dict[str, Any], request: Request, person: Admin) -> dict[str, Any]:
    """Import a directory document: created or updated in place, matched by code and id, all of it or (422,
    the place named) none of it. Tickets are never deleted."""
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        try:
            org.import_org(session=session, doc=body, now=desk.clock())
        except (OrgFileError, KeyError, AttributeError, TypeError, ValueError) as exc:
            session.rollback()
            raise refused(request, person, exc) from exc
        session.commit()
        refresh_statistics(session, org.TABLES)
        return org_export.export_doc(session=session)


@router.get("/regions")
def regions(request: Request, person: Caller) -> list[RegionOut]:
    require_staff(person)
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        return [RegionOut(code=r.code, name=r.name, parent=r.parent_code)
                for r in session.scalars(select(Region).order_by(Region.position, Region.code))]


@router.get("/branches")
def branches(request: Request, person: Caller, region: Annotated[str | None, Query(max_length=64)] = None,
             ) -> list[BranchOut]:
    """Branches (of one region and those below it with `region`)."""
    require_staff(person)
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        stmt = select(Branch).order_by(Branch.code)
        if region:
            below = {r.code for r in session.scalars(select(Region))
                     if region in org.region_chain(session=session, region_code=r.code)}
            stmt = stmt.where(Branch.region_code.in_(below))
        return [BranchOut(code=b.code, name=b.name, region=b.region_code, hours=b.hours, address=b.address,
                          phone=b.phone)
                for b in session.scalars(stmt)]


@router.get("/teams")
def teams(request: Request, person: Caller) -> list[TeamOut]:
    """Teams with members, on-call order, lead, business hours and rotation."""
    require_staff(person)
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        doc = org_export.teams_doc(session=session)
        return [TeamOut(code=t["code"], name=t["name"], region=t["region"], speciality=t["speciality"],
                        lead=t.get("lead"), members=t["members"], oncall=t.get("oncall", []), hours=t.get("hours"),
                        rotation=t.get("rotation")) for t in doc]


def _set_hours(request: Request, person: Person, model: type[Team] | type[Branch], code: str,
               hours: str) -> str | None:
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        found = session.get(Team, code) if model is Team else session.get(Branch, code)
        if found is None:
            raise HTTPException(status_code=404, detail=f"no {model.__name__.lower()} {code}")
        try:
            found.hours = org.checked_hours(hours, Place("team" if model is Team else "branch", name=code))
        except OrgFileError as exc:
            raise HTTPException(status_code=422, detail=refusal_words(request, person, exc)) from exc
        session.commit()
        return found.hours


@router.put("/teams/{code}/hours")
def team_hours(code: Code, body: Hours, request: Request, person: Admin) -> Hours:
    """A team's business hours (its SLA calendar when its branches have none); empty inherits."""
    return Hours(hours=_set_hours(request, person, Team, code, body.hours) or "")


@router.put("/branches/{code}/hours")
def branch_hours(code: Code, body: Hours, request: Request, person: Admin) -> Hours:
    """A branch's business hours (its tickets' SLA calendar); empty inherits the team's or the desk's."""
    return Hours(hours=_set_hours(request, person, Branch, code, body.hours) or "")


@router.get("/calendar")
def calendar(request: Request, _: Caller, year: Annotated[int, Query(ge=2004, le=2100)]) -> list[Day]:
    """The year's days that every business calendar but 7×24 follows, by date: the desk's own closures and make-up
    workdays, and the statutory holidays and make-up workdays they leave (none for a year not yet published)."""
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        return [Day(**d) for d in calendar_days.year_days(session=session, year=year)]


@router.post("/calendar/days")
def set_calendar_days(body: DaysIn, request: Request, person: Admin) -> DaysSet:
    """Close the desk (`holiday`) or open it (`workday`) on a day or a range, over the statutory calendar: a company
    closure, a make-up workday, a year's holidays before the calendar package has them. Running SLA clocks move."""
    desk: Desk = request.app.state.desk
    days = f"{body.day} – {body.until}" if body.until else str(body.day)
    setattr(request.state, AUDIT_TARGET, f"{days} {body.region} {body.kind} {body.name}".replace("  ", " ").strip())
    with desk.sessions() as session:
        try:
            rows, moved = calendar_days.set_days(session=session, first=body.day, last=body.until, kind=body.kind,
                                                 name=body.name, by=person, now=desk.clock(), region=body.region)
        except CalendarDayError as exc:
            raise HTTPException(status_code=422, detail=refusal_words(request, person, exc)) from exc
        session.commit()
        found = session.get(Region, body.region) if body.region else None  # (set_days refuses an unknown one)
        region_name = found.name if found is not None else ""
        return DaysSet(days=[Day(date=r.day.isoformat(), kind=r.kind, name=r.name, source="desk", by=person.id,
                                 region=r.region_code, region_name=region_name) for r in rows], moved=moved)


@router.delete("/calendar/days/{day}")
def remove_calendar_days(day: date, request: Request, person: Admin, until: date | None = None,
                         region: Annotated[str, Query(max_length=64)] = "") -> DaysRemoved:
    """Give a day (or the range up to `until`) back to the statutory calendar — one region's (`region`) back to the
    desk's. Running SLA clocks move."""
    desk: Desk = request.app.state.desk
    setattr(request.state, AUDIT_TARGET, f"{day}{f' – {until}' if until else ''}{f' {region}' if region else ''}")
    with desk.sessions() as session:
        try:
            removed, moved = calendar_days.remove_days(session=session, first=day, last=until, now=desk.clock(),
                                                       region=region)
        except CalendarDayError as exc:
            raise HTTPException(status_code=422, detail=refusal_words(request, person, exc)) from exc
        session.commit()
        if not removed:
            raise HTTPException(status_code=404, detail=f"the desk has no day of its own on {day}"
                                                        + (f" – {until}" if until else "")
                                                        + (f" for region {region}" if region else ""))
        return DaysRemoved(removed=removed, moved=moved)
