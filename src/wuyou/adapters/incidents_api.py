"""The incidents REST API: list, read, declare (the console's "declare major incident"), and work an incident
with the same actions and permissions as the chat commands."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from wuyou.adapters.auth import Caller
from wuyou.adapters.bootstrap import Desk
from wuyou.desk import tickets
from wuyou.desk.errors import DeskError, Forbidden, InvalidTransition, NotFound
from wuyou.desk.incidents import report, service
from wuyou.desk.incidents.models import SEVERITIES, Incident, IncidentTask, Page
from wuyou.desk.models import Person

router = APIRouter(prefix="/api/v1", tags=["incidents"])
STAFF = ("engineer", "lead", "admin")


class DeclareIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    severity: Literal["SEV1", "SEV2", "SEV3"] = "SEV2"
    tickets: list[int] = Field(default=[], max_length=500)
    specialities: list[str] = Field(default=[], max_length=20)


class ActionIn(BaseModel):
    action: Literal["update", "note", "join", "role", "task", "sev", "mitigate", "resolve", "close", "page",
                    "subscribe"]
    text: str = Field(default="", max_length=4000)
    role: Literal["commander", "comms", "tech_lead"] | None = None
    person: str | None = None
    severity: Literal["SEV1", "SEV2", "SEV3"] | None = None
    due: datetime | None = None


def _status(exc: DeskError) -> HTTPException:
    if isinstance(exc, NotFound):
        return HTTPException(status_code=404, detail="no such incident")
    if isinstance(exc, Forbidden):
        return HTTPException(status_code=403, detail=str(exc))
    if isinstance(exc, InvalidTransition):
        return HTTPException(status_code=409, detail=str(exc))
    return HTTPException(status_code=400, detail=str(exc))


def _visible(session: Session, person: Person, incident: Incident) -> bool:
    """Staff see every incident; a reporter only one that affects their branch."""
    if person.role in STAFF:
        return True
    return bool(person.branch_code) and person.branch_code in service.affected_branches(
        session=session, incident_id=incident.id)


def _load(session: Session, person: Person, ref: str) -> Incident:
    number = service.parse_ref(ref)
    incident = session.get(Incident, number) if number is not None else None
    if incident is None or not _visible(session, person, incident):
        raise HTTPException(status_code=404, detail="no such incident")
    return incident


def _brief(i: Incident) -> dict[str, Any]:
    return {"id": i.ref, "title": i.title, "severity": i.severity, "status": i.status, "source": i.source,
            "declared_at": i.declared_at.isoformat(),
            "resolved_at": i.resolved_at.isoformat() if i.resolved_at else None}


def _full(session: Session, i: Incident, *, staff: bool) -> dict[str, Any]:
    linked = service.linked_tickets(session=session, incident_id=i.id)
    out = {**_brief(i),
           "roles": {"commander": i.commander_id, "comms": i.comms_id, "tech_lead": i.tech_lead_id},
           "specialities": i.specialities, "region": i.region_code, "summary": i.summary,
           "durations": service.durations(i),
           "branches": service.affected_branches(session=session, incident_id=i.id),
           "tickets": [t.id for t in linked] if staff else []}
    if staff:
        out["timeline"] = [{"id": e.id, "at": e.at.isoformat(), "kind": e.kind, "actor": e.actor_id, "body": e.body,
                            "data": e.data} for e in service.timeline(session=session, incident_id=i.id)]
        out["pages"] = [{"person": p.person_id, "speciality": p.speciality, "status": p.status,
                         "paged_at": p.paged_at.isoformat(), "acked_at": p.acked_at.isoformat() if p.acked_at else None}
                        for p in session.scalars(select(Page).where(Page.incident_id == i.id).order_by(Page.id))]
        out["tasks"] = [{"id": t.id, "title": t.title, "owner": t.owner_id,
                         "due": t.due_at.isoformat() if t.due_at else None, "done": t.done_at is not None}
                        for t in session.scalars(select(IncidentTask).where(IncidentTask.incident_id == i.id))]
    return out


@router.get("/incidents")
def list_incidents(request: Request, person: Caller, status: str | None = None, severity: str | None = None,
                   limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """Incidents, newest first, filtered by status and severity; a reporter sees those of their branch."""
    desk: Desk = request.app.state.desk
    limit = max(1, min(limit, 200))
    with desk.sessions() as session:
        stmt = select(Incident).order_by(Incident.id.desc())
        if status:
            stmt = stmt.where(Incident.status == status)
        if severity:
            stmt = stmt.where(Incident.severity == severity.upper())
        rows = [i for i in session.scalars(stmt) if _visible(session, person, i)]
        return {"items": [_brief(i) for i in rows[offset:offset + limit]], "total": len(rows),
                "limit": limit, "offset": max(0, offset)}


@router.get("/incidents/{ref}")
def get_incident(ref: str, request: Request, person: Caller) -> dict[str, Any]:
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        incident = _load(session, person, ref)
        return _full(session, incident, staff=person.role in STAFF)


@router.get("/incidents/{ref}/report.md", response_class=PlainTextResponse)
def incident_report(ref: str, request: Request, person: Caller) -> PlainTextResponse:
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        incident = _load(session, person, ref)
        text = report.markdown(report.facts(session=session, incident_id=incident.id), tz=desk.bot.tz,
                               describe=lambda e: desk.catalog.t(report.event_key(e), **report.event_params(e)))
    return PlainTextResponse(text, media_type="text/markdown; charset=utf-8")


@router.post("/incidents", status_code=201)
def declare(body: DeclareIn, request: Request, person: Caller) -> dict[str, Any]:
    """Declare a major incident (staff), linking the given tickets and paging the needed on-call."""
    desk: Desk = request.app.state.desk
    if person.role not in STAFF:
        raise HTTPException(status_code=403, detail="staff only")
    with desk.sessions() as session:
        me = session.get(Person, person.id)
        assert me is not None
        try:
            linked = [tickets.visible_to_staff(session=session, ticket_id=n, person=me) for n in body.tickets]
            incident = service.declare(session=session, title=body.title, severity=body.severity,
                                       source="console", now=desk.clock(), declarer=me, tickets=linked,
                                       specialities=body.specialities)
        except NotFound as exc:
            raise HTTPException(status_code=404, detail=f"no such ticket: {exc}") from exc
        except DeskError as exc:
            raise _status(exc) from exc
        desk.bot.surge.adopt(group=None, incident=incident, texts=[body.title, *(t.description for t in linked)])
        session.commit()
        out = _full(session, incident, staff=True)
    desk.loop.wake()
    return out


@router.post("/incidents/{ref}/actions")
def act(ref: str, body: ActionIn, request: Request, person: Caller) -> dict[str, Any]:
    """Work the incident: the chat commands' actions, with the same permissions."""
    desk: Desk = request.app.state.desk
    if person.role not in STAFF:
        raise HTTPException(status_code=403, detail="staff only")
    now = desk.clock()
    with desk.sessions() as session:
        incident = _load(session, person, ref)
        me = session.get(Person, person.id)
        assert me is not None
        other = session.get(Person, body.person) if body.person else None
        if body.person and other is None:
            raise HTTPException(status_code=404, detail="no such person")
        try:
            _apply(session, incident, me, other, body, now)
        except DeskError as exc:
            session.rollback()
            raise _status(exc) from exc
        session.commit()
        out = _full(session, incident, staff=True)
    desk.loop.wake()
    return out


def _apply(session: Session, incident: Incident, me: Person, other: Person | None, body: ActionIn,
           now: datetime) -> None:
    def need(value: object, what: str) -> None:
        if not value:
            raise HTTPException(status_code=422, detail=f"'{body.action}' needs {what}")

    if body.action in ("update", "note", "resolve"):
        need(body.text.strip(), "text")
    match body.action:
        case "update":
            service.post_update(session=session, incident=incident, author=me, text=body.text, now=now)
        case "note":
            service.note(session=session, incident=incident, author=me, text=body.text, now=now)
        case "join":
            service.join(session=session, incident=incident, person=me, now=now)
        case "role":
            need(body.role and other, "role and person")
            assert body.role is not None and other is not None
            service.set_role(session=session, incident=incident, actor=me, role=body.role, person=other, now=now)
        case "task":
            need(body.text.strip(), "text")
            service.add_task(session=session, incident=incident, actor=me, title=body.text, owner=other,
                             due=body.due, now=now)
        case "sev":
            need(body.severity in SEVERITIES, "severity")
            assert body.severity is not None
            service.set_severity(session=session, incident=incident, actor=me, severity=body.severity, now=now)
        case "mitigate":
            service.mitigate(session=session, incident=incident, actor=me, text=body.text, now=now)
        case "resolve":
            service.resolve(session=session, incident=incident, actor=me, summary=body.text, now=now)
        case "close":
            service.close(session=session, incident=incident, actor=me, now=now)
        case "page":
            need(body.text.strip(), "text (a speciality, team or person)")
            if service.page_more(session=session, incident=incident, actor=me, target=body.text.strip(),
                                 now=now) is None:
                raise HTTPException(status_code=404, detail="nobody to page for that")
        case "subscribe":
            service.subscribe(session=session, incident=incident, person=me, now=now)
