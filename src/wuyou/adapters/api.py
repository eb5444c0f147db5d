"""The REST API (a first slice: people and tickets with their timeline)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, selectinload

from wuyou.adapters.auth import Caller
from wuyou.adapters.bootstrap import Desk
from wuyou.adapters.bounds import Moment
from wuyou.adapters.tickets_schemas import MAX_ID, TicketDetail, TicketId, TicketList
from wuyou.desk import org, scope, sla, tickets, working
from wuyou.desk.conditions import NO_CATEGORY
from wuyou.desk.models import Branch, Category, Identity, Person, Team, Ticket, TicketEvent

router = APIRouter(prefix="/api/v1", tags=["api"])


@router.get("/people")
def list_people(request: Request) -> dict[str, list[dict[str, Any]]]:
    """People reachable through the HTTP channel (for the web chat page): served only while that channel is open
    (the demo's, a test's), as the page is — otherwise the staff directory is nobody's business."""
    desk: Desk = request.app.state.desk
    if not desk.settings.http_channel_open:
        raise HTTPException(status_code=404, detail="Not Found")
    with desk.sessions() as session:
        rows = session.execute(
            select(Person, Identity.external_id)
            .join(Identity, (Identity.person_id == Person.id) & (Identity.platform == "http"))
            .where(Person.active)
            .order_by(Person.role, Person.id)
        ).all()
        people = [
            {"id": external, "name": p.name, "role": p.role, "branch": p.branch.name if p.branch else None}
            for p, external in rows
        ]
    return {"people": people}


def _in_category(session: Session, name: str) -> ColumnElement[bool]:
    """Tickets in the catalog node `name` names: `none` (no category), a top-level category (all its leaves), or a
    leaf by path or name; 422 when it names nothing, or several leaves."""
    if name.strip().lower() == NO_CATEGORY:
        return Ticket.category_id.is_(None)
    top = session.scalars(select(Category).where(Category.parent_id.is_(None), Category.name == name.strip())).first()
    if top is not None:
        return Ticket.category_id.in_(select(Category.id).where(Category.parent_id == top.id))
    return Ticket.category_id == one_leaf(session, name).id


def one_leaf(session: Session, name: str) -> Category:
    """The one catalog leaf `name` means (a path or a name), else 422."""
    found = org.find_leaf(session=session, text=name)
    if len(found) != 1:
        raise HTTPException(status_code=422, detail=f"no category '{name}'" if not found else
                            f"'{name}' fits several categories: {', '.join(c.path for c in found)}")
    return found[0]


@dataclass
class TicketFilters:
    """The ticket list's filters (query parameters), for the list and its CSV export."""

    status: str | None = None
    priority: str | None = None
    team: str | None = None
    assignee: str | None = None
    branch: str | None = None
    q: str | None = None
    created_after: Moment | None = None
    created_before: Moment | None = None
    category: Annotated[str | None, Query(max_length=200)] = None
    rating_max: Annotated[int | None, Query(ge=1, le=5)] = None

    def where(self, session: Session, person: Person, tz: ZoneInfo) -> list[ColumnElement[bool]]:
        """The conditions, within what `person` may see."""
        if scope.is_staff(person):
            visible = scope.staff_filter(session=session, person=person)
        else:
            visible = Ticket.reporter_id == person.id
            if person.branch_code:
                visible = visible | (Ticket.branch_code == person.branch_code)
        where = [visible]
        if self.status:
            wanted = [s.strip() for s in self.status.split(",") if s.strip()]
            if unknown := [s for s in wanted if s not in tickets.STATUSES]:  # (it listed nothing, as if none were)
                raise HTTPException(status_code=422, detail=f"no status {', '.join(unknown)} "
                                                            f"(one of {', '.join(tickets.STATUSES)})")
            where.append(Ticket.status.in_(wanted))
        if self.priority:
            if self.priority.upper() not in ("P1", "P2", "P3", "P4"):
                raise HTTPException(status_code=422, detail=f"no priority {self.priority} (P1–P4)")
            where.append(Ticket.priority == self.priority.upper())
        # A team, an engineer or a branch by its code or as the console shows it (上海终端组, 王芳, 上海南京西路支行)
        if self.team:
            where.append(Ticket.team_code.in_(select(Team.code).where(or_(Team.code == self.team,
                                                                         Team.name == self.team))))
        if self.assignee:
            who = person.id if self.assignee == "me" else self.assignee
            where.append(Ticket.assignee_id.in_(select(Person.id).where(or_(Person.id == who, Person.name == who))))
        if self.branch:
            where.append(Ticket.branch_code.in_(select(Branch.code).where(or_(
                func.upper(Branch.code) == self.branch.strip().upper(), Branch.name == self.branch.strip()))))
        if self.q:  # the reporter's words: the title, the description, and what they added later (补充, a colleague's)
            said = select(TicketEvent.id).where(TicketEvent.ticket_id == Ticket.id,
                                                TicketEvent.kind.in_(("info_added", "also_reported")),
                                                TicketEvent.body.contains(self.q, autoescape=True))
            number = self.q.strip().lstrip("#")  # "1003" / "#1003": that ticket too
            by_name = Ticket.reporter_id.in_(select(Person.id).where(Person.name == self.q.strip()))  # (王琳)
            where.append(or_(Ticket.title.contains(self.q, autoescape=True),
                             Ticket.description.contains(self.q, autoescape=True), said.exists(), by_name,
                             *([Ticket.id == int(number)] if number.isdigit() and len(number) <= 9 else [])))
        if self.category:
            where.append(_in_category(session, self.category))
        if self.rating_max is not None:
            where.append(Ticket.rating <= self.rating_max)
        # A time without an offset is the desk's local time.
        if self.created_after:
            where.append(Ticket.created_at >= (self.created_after if self.created_after.tzinfo
                                               else self.created_after.replace(tzinfo=tz)))
        if self.created_before:
            where.append(Ticket.created_at < (self.created_before if self.created_before.tzinfo
                                              else self.created_before.replace(tzinfo=tz)))
        return where


Filters = Annotated[TicketFilters, Depends()]


@router.get("/tickets", response_model=TicketList)
def list_tickets(
    request: Request, person: Caller, filters: Filters,
    limit: Annotated[int, Query(ge=1, le=200)] = 50, offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> dict[str, Any]:
    """Tickets within the caller's scope, newest first. Filters: `status` (comma-separated), `priority`,
    `team`, `assignee` (`me` for oneself), `branch`, `q` (in the title), `created_after` / `created_before`,
    `category` (a leaf by path or name, a top-level category for all under it, `none` for uncategorised),
    `rating_max` (rated this or lower: 2 for the unhappy ones)."""
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        where = filters.where(session, person, desk.bot.tz)
        total = session.scalar(select(func.count()).select_from(Ticket).where(*where)) or 0
        rows = session.scalars(select(Ticket).where(*where).order_by(Ticket.id.desc()).limit(limit).offset(offset)
                               .options(selectinload(Ticket.branch), selectinload(Ticket.team),
                                        selectinload(Ticket.assignee), selectinload(Ticket.reporter)))
        items = [{"id": t.id, "status": t.status, "priority": t.priority, "title": t.title,
                  "category": t.category.path if t.category else None, "branch": t.branch_code,
                  "branch_name": t.branch.name if t.branch else None, "reporter": t.reporter_id,
                  "reporter_name": t.reporter.name, "team": t.team_code, "team_name": t.team.name if t.team else None,
                  "assignee": t.assignee_id, "assignee_name": t.assignee.name if t.assignee else None,
                  "created_at": t.created_at.isoformat()} for t in rows]
    return {"items": items, "total": int(total), "limit": limit, "offset": offset}


MAX_EXPORT = 20_000  # rows one export may hold (the newest)
EXPORT_HEADER = ["id", "created_at", "status", "priority", "category", "branch", "reporter", "team", "assignee",
                 "title", "claimed_at", "resolved_at", "response_met", "resolution_met", "first_contact",
                 "reopen_count", "rating", "rating_comment", "first_claimed_at"]


@router.get("/tickets.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "one row per ticket, newest first"}})
def export_tickets(request: Request, person: Caller, filters: Filters) -> Response:
    """The ticket list as CSV (UTF-8 with a byte-order mark, for Excel), with the same filters, up to 20,000 rows:
    times in the desk's time zone, SLA verdicts, first-contact resolution, ratings (`claimed_at`: by the engineer
    holding it now; `first_claimed_at`: the first claim ever, the first response)."""
    desk: Desk = request.app.state.desk
    tz = desk.bot.tz
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_HEADER)
    with desk.sessions() as session:
        for t in session.scalars(select(Ticket).where(*filters.where(session, person, tz))
                                 .order_by(Ticket.id.desc()).limit(MAX_EXPORT)):
            writer.writerow([_cell(v) for v in (
                t.id, _local(t.created_at, tz), t.status, t.priority, t.category.path if t.category else "",
                t.branch_code, t.reporter.name, t.team_code, t.assignee.name if t.assignee else "", t.title,
                _local(t.claimed_at, tz), _local(t.resolved_at, tz), t.response_met, t.resolution_met,
                t.first_contact, t.reopen_count, t.rating, t.rating_comment, _local(t.first_claimed_at, tz))])
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="wuyou-tickets.csv"'})


def _local(moment: datetime | None, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment is not None else ""


def _cell(value: object) -> str:
    """A CSV cell; text a spreadsheet would take for a formula (=, +, -, @ first) is quoted with a '."""
    text = "" if value is None else ("1" if value is True else "0" if value is False else str(value))
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@router.get("/tickets/{ticket_id}", response_model=TicketDetail)
def get_ticket(ticket_id: TicketId, request: Request, person: Caller) -> dict[str, Any]:
    """One ticket with its timeline: staff within their scope see everything, internal notes included;
    a reporter sees their own or their branch's tickets, public events only. 404 outside one's scope."""
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        t = session.get(Ticket, ticket_id)
        if t is None or not scope.may_see(session=session, person=person, ticket=t):
            raise HTTPException(status_code=404, detail="no such ticket")
        return ticket_body(session=session, person=person, ticket=t)


def ticket_body(*, session: Session, person: Person, ticket: Ticket) -> dict[str, Any]:
    """A ticket as the API shows it to this person: staff serving it see internal notes, others public events."""
    t = ticket
    staff = scope.serves(session=session, person=person, ticket=t)
    events = tickets.timeline(session=session, ticket_id=t.id, public_only=not staff)
    actors = {e.actor_id for e in events if e.actor_id}
    names = {k: v for k, v in session.execute(select(Person.id, Person.name).where(Person.id.in_(actors)))} \
        if actors else {}
    return {
        "id": t.id,
        "status": t.status,
        "priority": t.priority,
        "urgency": t.urgency,
        "title": t.title,
        "description": t.description,
        "category": t.category.path if t.category else None,
        "branch": t.branch_code,
        "branch_name": t.branch.name if t.branch else None,
        "branch_address": t.branch.address if t.branch else None,
        "branch_phone": t.branch.phone if t.branch else None,
        "reporter": t.reporter_id,
        "reporter_name": t.reporter.name,
        "reporter_phone": t.reporter.phone if staff or t.reporter_id == person.id else None,
        "team": t.team_code,
        "team_name": t.team.name if t.team else None,
        "assignee": t.assignee_id,
        "assignee_name": t.assignee.name if t.assignee else None,
        "resolution": t.resolution,
        "rating": t.rating,
        "rating_comment": t.rating_comment,
        "tags": t.tags,
        "parent": t.parent_id,
        "merged_into": t.merged_into_id,
        "children": [c.id for c in working.children(session=session, ticket_id=t.id)],
        "follows": t.follows_id,
        "followed_by": [f.id for f in tickets.follow_ups(session=session, ticket_id=t.id)],
        "followers": [p.id for p in tickets.reporter_side(session=session, ticket=t)[1:]],
        "waiting_since": t.waiting_since.isoformat() if t.waiting_since else None,
        "hold_until": t.hold_until.isoformat() if t.status == "on_hold" and t.hold_until else None,
        "hold_reason": t.hold_reason if t.status == "on_hold" else None,
        "chase_count": t.chase_count,
        # the running SLA clocks' due times (None when the clock is stopped or paused)
        **{k: v or None for k, v in sla.due_params(session=session, ticket_id=t.id).items()},
        "created_at": t.created_at.isoformat(),
        # What the CSV export and the reports have, for a dashboard reading the JSON
        "updated_at": max((e.at for e in events), default=t.created_at).isoformat(),
        "claimed_at": t.claimed_at.isoformat() if t.claimed_at else None,
        "resolved_at": t.resolved_at.isoformat() if t.resolved_at else None,
        "closed_at": t.closed_at.isoformat() if t.closed_at else None,
        "response_met": t.response_met,
        "resolution_met": t.resolution_met,
        "reopen_count": t.reopen_count,
        "channel": t.channel,
        "timeline": [
            {"at": e.at.isoformat(), "kind": e.kind, "actor": e.actor_id, "actor_name": names.get(e.actor_id or ""),
             "body": e.body, "data": e.data, "public": e.public}
            for e in events
        ],
    }
