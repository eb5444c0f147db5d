"""The incidents REST API: list, read, declare (the console's "declare major incident"), work an incident with
the chat commands' actions and permissions, and its post-incident report.

Staff (engineer, lead, admin) read every incident and act on them; the service decides who may do what
(`desk.incidents.service`), exactly as for `应急 …` in chat. A reporter's token reads only incidents that
affect their own branch, and 404 hides the others; a reporter never acts (403)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query, Request, Response
from fastapi.responses import PlainTextResponse
from sqlalchemy import ColumnElement, false, func, or_, select
from sqlalchemy.orm import Session

from wuyou.adapters.auth import Caller
from wuyou.adapters.bootstrap import Desk
from wuyou.adapters.incidents_schemas import (
    Action,
    ActionIn,
    ActionOut,
    BranchOut,
    CloseIn,
    DeclareIn,
    Durations,
    EventOut,
    IncidentDetail,
    IncidentList,
    IncidentOut,
    JoinIn,
    LinkIn,
    Links,
    MitigateIn,
    NoteIn,
    PageMoreIn,
    PageOut,
    PersonOut,
    ResolveIn,
    RoleIn,
    Roles,
    Severity,
    SeverityIn,
    Status,
    SubscribeIn,
    TaskDoneIn,
    TaskIn,
    TaskOut,
    TicketOut,
    UnlinkIn,
    UpdateIn,
)
from wuyou.adapters.tickets_schemas import MAX_ID
from wuyou.desk import scope, tickets
from wuyou.desk.errors import DeskError, Forbidden, InvalidTransition, NotFound
from wuyou.desk.incidents import report, service
from wuyou.desk.incidents.models import FaultReport, Incident, IncidentEvent, IncidentLink
from wuyou.desk.models import Person, Team, Ticket

router = APIRouter(prefix="/api/v1", tags=["incidents"])

# What every affected reporter was told anyway: the part of the timeline a reporter's token may read.
PUBLIC_KINDS = ("declared", "update", "mitigated", "resolved", "closed")
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "no valid API token"},
    403: {"description": "not allowed: a reporter's token, or a role the incident's rules do not allow"},
    404: {"description": "no such incident (or not one the caller may see), ticket, person or task"},
}


# --- helpers ----------------------------------------------------------------------------------------------------


def _locale(request: Request) -> str:
    return "en" if request.headers.get("accept-language", "").lower().startswith("en") else "zh-CN"


def _person(p: Person | None) -> PersonOut | None:
    return PersonOut(id=p.id, name=p.name) if p is not None else None


def _visible_to(person: Person) -> ColumnElement[bool] | None:
    """None for staff (every incident); for a reporter, incidents with a ticket or report from their branch."""
    if scope.is_staff(person):
        return None
    if not person.branch_code:
        return false()
    linked = (select(IncidentLink.id).join(Ticket, Ticket.id == IncidentLink.ticket_id)
              .where(IncidentLink.incident_id == Incident.id, Ticket.branch_code == person.branch_code))
    reported = select(FaultReport.id).where(FaultReport.incident_id == Incident.id,
                                            FaultReport.branch_code == person.branch_code)
    return or_(linked.exists(), reported.exists())


def _load(session: Session, person: Person, ref: str) -> Incident:
    number = service.parse_ref(ref)
    visible = _visible_to(person)
    stmt = select(Incident).where(Incident.id == (number or 0))
    incident = session.scalars(stmt if visible is None else stmt.where(visible)).first()
    if incident is None:
        raise HTTPException(status_code=404, detail=f"no such incident: {ref}")
    return incident


def _brief(i: Incident) -> IncidentOut:
    return IncidentOut(id=i.ref, number=i.id, title=i.title, severity=i.severity, status=i.status, source=i.source,
                       declared_at=i.declared_at, resolved_at=i.resolved_at)


def _describe(desk: Desk, e: IncidentEvent, locale: str) -> str:
    try:
        return desk.catalog.t(report.event_key(e), locale, **report.event_params(e))
    except KeyError:  # a kind newer than the catalogue
        return f"{e.kind} {e.body or ''}".strip()


def _detail(desk: Desk, session: Session, incident: Incident, person: Person, locale: str) -> IncidentDetail:
    f = report.facts(session=session, incident_id=incident.id)
    staff = scope.is_staff(person)
    i, base = f.incident, f"{desk.settings.link_base}/incidents/{f.incident.ref}"
    return IncidentDetail(
        **_brief(i).model_dump(),
        roles=Roles(commander=_person(i.commander), comms=_person(i.comms), tech_lead=_person(i.tech_lead)),
        specialities=i.specialities, region=i.region_code, category=i.category.path if i.category else None,
        summary=i.summary, started_at=i.started_at, detected_at=i.detected_at, assembled_at=i.assembled_at,
        mitigated_at=i.mitigated_at, closed_at=i.closed_at, next_update_at=i.next_update_at,
        durations=Durations.model_validate(f.durations),
        branches=[BranchOut(code=b.code, name=b.name) for b in f.branches],
        tickets=[TicketOut(id=t.id, title=t.title, status=t.status, priority=t.priority, branch=t.branch_code,
                           reporter=PersonOut(id=t.reporter.id, name=t.reporter.name))
                 for t in service.readable(session=session, incident=i, person=person, found=f.tickets)],
        unlinked_alike=[TicketOut(id=t.id, title=t.title, status=t.status, priority=t.priority, branch=t.branch_code,
                                  reporter=PersonOut(id=t.reporter.id, name=t.reporter.name))
                        for t in service.readable(session=session, incident=i, person=person,
                                                  found=service.unlinked_alike(session=session, incident=i))]
        if staff and i.status in ("active", "mitigated") else [],
        timeline=[EventOut(id=e.id, at=e.at, kind=e.kind, actor=_person(e.actor), text=_describe(desk, e, locale),
                           body=e.body, data=e.data or {})
                  for e in f.events if staff or e.kind in PUBLIC_KINDS],
        tasks=[TaskOut(id=t.id, title=t.title, owner=_person(t.owner), due_at=t.due_at, done_at=t.done_at)
               for t in f.tasks] if staff else [],
        pages=[PageOut(person=PersonOut(id=p.person.id, name=p.person.name), team=p.team_code,
                       speciality=p.speciality, step=p.step, status=p.status,
                       paged_at=p.paged_at, due_at=p.due_at, acked_at=p.acked_at) for p in f.pages] if staff else [],
        links=Links(board=base, events=f"{base}/events", report=f"{base}/report", report_md=f"{base}/report.md"),
    )


def _refuse(exc: DeskError, incident: Incident | None = None) -> HTTPException:
    """A desk error as an HTTP status with a message that says what to do."""
    if isinstance(exc, NotFound):
        return HTTPException(status_code=404, detail=f"no such {exc}")
    if isinstance(exc, Forbidden):
        if incident is None:
            return HTTPException(status_code=403, detail=str(exc))
        names = ", ".join(f"{label} {p.name if p else '—'}" for label, p in (
            ("commander", incident.commander), ("comms", incident.comms), ("tech lead", incident.tech_lead)))
        return HTTPException(status_code=403, detail=f"{exc} ({incident.ref}: {names}; or a lead); "
                                                     f"anyone of the staff may add a note")
    if isinstance(exc, InvalidTransition):
        where = incident.ref if incident is not None else "the incident"
        return HTTPException(status_code=409, detail=f"{where} is {exc.status}: cannot {exc.action}")
    return HTTPException(status_code=409, detail=str(exc) or exc.__class__.__name__)


def _staff(person: Person) -> None:
    if not scope.is_staff(person):
        raise HTTPException(status_code=403, detail="staff only: a reporter's token may read incidents, not act")


def _someone(session: Session, person_id: str) -> Person:
    found = session.get(Person, person_id)
    if found is None or not found.active:
        raise HTTPException(status_code=404, detail=f"no such person: {person_id}")
    return found


# --- endpoints --------------------------------------------------------------------------------------------------


@router.get("/incidents", response_model=IncidentList, responses={401: ERRORS[401]})
def list_incidents(
    request: Request, person: Caller,
    status: Annotated[list[Status] | None, Query(description="one or more: `?status=active&status=mitigated`")]
    = None,
    severity: Annotated[list[Severity] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50, offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> IncidentList:
    """Incidents, newest first; a reporter's token lists only those that affect their branch."""
    desk: Desk = request.app.state.desk
    where: list[ColumnElement[bool]] = []
    visible = _visible_to(person)
    if visible is not None:
        where.append(visible)
    if status:
        where.append(Incident.status.in_(status))
    if severity:
        where.append(Incident.severity.in_(severity))
    with desk.sessions() as session:
        total = session.scalar(select(func.count()).select_from(Incident).where(*where)) or 0
        rows = session.scalars(select(Incident).where(*where).order_by(Incident.id.desc()).limit(limit)
                               .offset(offset))
        return IncidentList(items=[_brief(i) for i in rows], total=total, limit=limit, offset=offset)


@router.get("/incidents/{ref}", response_model=IncidentDetail, responses={401: ERRORS[401], 404: ERRORS[404]})
def get_incident(ref: str, request: Request, person: Caller) -> IncidentDetail:
    """One incident (`INC-7` or `7`): roles, status, durations, branches, linked tickets, timeline, tasks, pages."""
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        return _detail(desk, session, _load(session, person, ref), person, _locale(request))


@router.post("/incidents", status_code=201, response_model=IncidentDetail,
             responses={**ERRORS, 422: {"description": "no title, or a speciality no team has"}})
def declare(body: DeclareIn, request: Request, response: Response, person: Caller) -> IncidentDetail:
    """Declare a major incident (staff): the caller commands, the given tickets (and their reports) are linked
    and their reporters told, the on-call of the category's and the given specialities are paged."""
    desk: Desk = request.app.state.desk
    _staff(person)
    with desk.sessions() as session:
        known = set(session.scalars(select(Team.speciality).distinct()))
        unknown = sorted(set(body.specialities) - known)
        if unknown:
            raise HTTPException(status_code=422, detail=f"no team has the speciality {', '.join(unknown)} "
                                                        f"(known: {', '.join(sorted(known))})")
        me = _someone(session, person.id)
        numbers = list(dict.fromkeys(body.tickets))
        try:
            linked = [tickets.visible_to_staff(session=session, ticket_id=n, person=me) for n in numbers]
        except NotFound as exc:
            raise _refuse(exc) from exc
        reports = list(session.scalars(select(FaultReport).where(FaultReport.ticket_id.in_(numbers or [-1]))))
        try:
            incident = service.declare(session=session, title=body.title, severity=body.severity,
                                       source="console", now=desk.clock(), declarer=me, tickets=linked,
                                       reports=reports, specialities=body.specialities)
        except DeskError as exc:
            raise _refuse(exc) from exc
        # Later reports of the same fault are then recognised as this incident's (a known issue).
        surge = desk.bot.surge
        surge.adopt(group=surge.group_of([r.id for r in reports]), incident=incident,
                    texts=[body.title, *(t.description for t in linked)])
        session.commit()
        session.expire_all()  # sessions keep objects after commit: read roles set by id afresh
        out = _detail(desk, session, incident, me, _locale(request))
    desk.loop.wake()
    response.headers["Location"] = f"/api/v1/incidents/{out.id}"
    return out


@router.post("/incidents/{ref}/actions", response_model=ActionOut,
             responses={**ERRORS, 409: {"description": "the incident's state does not allow it (resolved …)"}})
def act(ref: str, body: Annotated[ActionIn, Body()], request: Request, person: Caller) -> ActionOut:
    """Work the incident as `应急 …` does in chat, with the same rules: `update`, `sev`, `role`, `mitigate`,
    `resolve` and `close` belong to the commander, communications, tech lead (or a lead); any staff may `note`,
    `join`, add a `task`, `page` more on-call or `subscribe`."""
    desk: Desk = request.app.state.desk
    _staff(person)
    locale, now = _locale(request), desk.clock()
    with desk.sessions() as session:
        incident = _load(session, person, ref)
        me = _someone(session, person.id)
        try:
            message = _apply(desk, session, incident, me, body, now, locale)
        except DeskError as exc:
            session.rollback()
            raise _refuse(exc, incident) from exc
        session.commit()
        session.expire_all()  # sessions keep objects after commit: read roles set by id afresh
        out = ActionOut(message=message, incident=_detail(desk, session, incident, me, locale))
    desk.loop.wake()
    return out


@router.get("/incidents/{ref}/report.md", response_class=PlainTextResponse,
            responses={200: {"content": {"text/markdown": {}}}, 401: ERRORS[401], 403: ERRORS[403],
                       404: ERRORS[404]})
def incident_report(ref: str, request: Request, person: Caller) -> PlainTextResponse:
    """The post-incident report (draft) as Markdown: durations, impact, pages, participants, tasks, timeline — with
    the internal notes: staff only."""
    desk: Desk = request.app.state.desk
    locale = _locale(request)
    with desk.sessions() as session:
        incident = _load(session, person, ref)  # (404 for what the caller may not see at all)
        _staff(person)
        text = report.markdown(report.facts(session=session, incident_id=incident.id), tz=desk.bot.tz,
                               say=lambda key, **params: desk.catalog.t(key, locale, **params),
                               describe=lambda e: _describe(desk, e, locale))
    return PlainTextResponse(text, media_type="text/markdown; charset=utf-8")


def _apply(desk: Desk, session: Session, incident: Incident, me: Person, body: Action, now: datetime,
           locale: str) -> str:
    """Call the desk service for one action; the confirmation the chat would give."""
    def t(key: str, **params: object) -> str:
        return desk.catalog.t(key, locale, incident=incident.ref, **params)

    match body:
        case UpdateIn(text=text):
            told, branches = service.post_update(session=session, incident=incident, author=me, text=text, now=now)
            return t("incident_update_sent", reporters=told, branches=branches)
        case NoteIn(text=text):
            service.note(session=session, incident=incident, author=me, text=text, now=now)
            return t("incident_note_sent")
        case JoinIn():
            answered = service.join(session=session, incident=incident, person=me, now=now)
            if answered is not None:
                return t("incident_event_acked", actor=me.name,
                         seconds=round((now - answered.paged_at).total_seconds()))
            holder = service.joined_late(session, incident, me)
            return t("incident_joined_late" if holder else "incident_joined", holder=holder)
        case RoleIn(role=role, person=person_id):
            other = _someone(session, person_id)
            if not scope.is_staff(other):
                raise HTTPException(status_code=422, detail=f"{other.name} is a reporter: roles go to staff")
            service.set_role(session=session, incident=incident, actor=me, role=role, person=other, now=now)
            return t("incident_role_set", role=t(f"incident_role_{role}"), name=other.name)
        case TaskIn(text=text, owner=owner_id, due=due):
            owner = _someone(session, owner_id) if owner_id else None
            if due is not None and due.tzinfo is None:
                due = due.replace(tzinfo=desk.bot.tz)
            task = service.add_task(session=session, incident=incident, actor=me, title=text, owner=owner, due=due,
                                    now=now)
            return t("incident_task_added", task=task.id, owner=owner.name if owner else "—",
                     due=f"{due.astimezone(desk.bot.tz):%m-%d %H:%M}" if due else "—")
        case TaskDoneIn(task=task_id):
            task = service.complete_task(session=session, incident=incident, actor=me, task_id=task_id, now=now)
            return t("incident_task_done", task=task.id, title=task.title)
        case SeverityIn(severity=severity):
            service.set_severity(session=session, incident=incident, actor=me, severity=severity, now=now)
            return t("incident_sev_set", severity=severity)
        case MitigateIn(text=text):
            service.mitigate(session=session, incident=incident, actor=me, text=text.strip(), now=now)
            return t("incident_mitigated_reply")
        case ResolveIn(text=text):
            count = service.resolve(session=session, incident=incident, actor=me, summary=text, now=now)
            return t("incident_resolved_reply", tickets=count,
                     url=f"{desk.settings.link_base}/incidents/{incident.ref}/report")
        case CloseIn():
            service.close(session=session, incident=incident, actor=me, now=now)
            return t("incident_closed_reply")
        case PageMoreIn(target=target):
            paged = service.page_more(session=session, incident=incident, actor=me, target=target, now=now)
            if paged is None:
                raise HTTPException(status_code=404, detail=f"nobody on call for {target!r} "
                                                            f"(a speciality, a team code or a staff member)")
            return t("incident_paged_more", who=paged)
        case SubscribeIn():
            service.subscribe(session=session, incident=incident, person=me, now=now)
            return t("incident_subscribed")
        case LinkIn(tickets=numbers):
            found = _workable(session, me, numbers, "linked")
            linked = service.link_more(session=session, incident=incident, actor=me, tickets=found, now=now)
            return t("incident_linked_more", count=len(linked), tickets=" ".join(f"#{x.id}" for x in linked) or "—",
                     missing="")
        case UnlinkIn(tickets=numbers):
            gone = service.unlink(session=session, incident=incident, actor=me,
                                  tickets=_workable(session, me, numbers, "unlinked"), now=now)
            return t("incident_unlinked", count=len(gone), tickets=" ".join(f"#{x.id}" for x in gone) or "—")
    raise HTTPException(status_code=422, detail="unknown action")  # the discriminator has already refused it


def _workable(session: Session, me: Person, numbers: list[int], done: str) -> list[Ticket]:
    """The tickets named, each one the caller may work on; else 404 for the first that is not, and nothing done."""
    found = []
    for number in dict.fromkeys(numbers):
        try:
            found.append(scope.ticket_for_staff(session=session, ticket_id=number, person=me))
        except NotFound as exc:
            raise HTTPException(status_code=404, detail=f"ticket {number}: no such ticket, or not one "
                                                        f"you may work on; nothing was {done}") from exc
    return found
