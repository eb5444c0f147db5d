"""The REST API (a first slice: people and tickets with their timeline)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from sqlalchemy import select

from wuyou.adapters.auth import Caller
from wuyou.adapters.bootstrap import Desk
from wuyou.desk import scope, tickets, working
from wuyou.desk.models import Identity, Person, Ticket

router = APIRouter(prefix="/api/v1", tags=["api"])


@router.get("/people")
def list_people(request: Request) -> dict[str, list[dict[str, Any]]]:
    """People reachable through the HTTP channel (for the web chat page)."""
    desk: Desk = request.app.state.desk
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


@router.get("/tickets/{ticket_id}")
def get_ticket(ticket_id: int, request: Request, person: Caller) -> dict[str, Any]:
    """One ticket with its timeline: staff within their scope see everything, internal notes included;
    a reporter sees their own or their branch's tickets, public events only. 404 outside one's scope."""
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        t = session.get(Ticket, ticket_id)
        if t is None or not scope.may_see(session=session, person=person, ticket=t):
            raise HTTPException(status_code=404, detail="no such ticket")
        staff = scope.serves(session=session, person=person, ticket=t)
        events = tickets.timeline(session=session, ticket_id=ticket_id, public_only=not staff)
        return {
            "id": t.id,
            "status": t.status,
            "priority": t.priority,
            "urgency": t.urgency,
            "title": t.title,
            "description": t.description,
            "category": t.category.path if t.category else None,
            "branch": t.branch_code,
            "reporter": t.reporter_id,
            "team": t.team_code,
            "assignee": t.assignee_id,
            "resolution": t.resolution,
            "rating": t.rating,
            "rating_comment": t.rating_comment,
            "tags": t.tags,
            "parent": t.parent_id,
            "merged_into": t.merged_into_id,
            "children": [c.id for c in working.children(session=session, ticket_id=t.id)],
            "followers": [p.id for p in tickets.reporter_side(session=session, ticket=t)[1:]],
            "waiting_since": t.waiting_since.isoformat() if t.waiting_since else None,
            "chase_count": t.chase_count,
            "created_at": t.created_at.isoformat(),
            "timeline": [
                {"at": e.at.isoformat(), "kind": e.kind, "actor": e.actor_id, "body": e.body, "data": e.data}
                for e in events
            ],
        }
