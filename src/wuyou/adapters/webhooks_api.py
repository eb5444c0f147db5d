"""Outgoing webhooks, managed by admins: subscribe a URL to ticket and incident events, see and redeliver
its deliveries, ping it.

Events: `ticket.<kind>` for every entry of a ticket's timeline (`ticket.created`, `ticket.claimed`,
`ticket.resolved`, `ticket.note` — internal, without its text — …) and `incident.<kind>` for every entry of an
incident's (`incident.declared`, `incident.update`, `incident.resolved`, …), and `ping`. Subscribe with exact
names or `ticket.*` / `incident.*`; none means all. See docs/webhooks.md for the payload and signature."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from pydantic import AnyHttpUrl, BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wuyou.adapters.auth import Admin, refusal_words
from wuyou.adapters.bootstrap import Desk
from wuyou.adapters.tickets_schemas import MAX_ID
from wuyou.desk.models import Person
from wuyou.desk.webhooks import service
from wuyou.desk.webhooks.models import WebhookDelivery, WebhookEndpoint

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Pattern = Annotated[str, Field(pattern=r"^(ticket|incident)(\.(\*|[a-z_]{1,40}))?$|^ping$")]


class EndpointIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    url: AnyHttpUrl
    events: list[Pattern] = Field(default_factory=list, max_length=50)


class EndpointPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    url: AnyHttpUrl | None = None
    events: list[Pattern] | None = Field(default=None, max_length=50)
    active: bool | None = None


class EndpointOut(BaseModel):
    id: int
    name: str
    url: str
    events: list[str]
    active: bool
    created_at: datetime


class EndpointCreated(EndpointOut):
    secret: str = Field(description="the signing secret: shown only in this answer")


class DeliveryOut(BaseModel):
    id: int
    event: str
    status: Literal["pending", "delivered", "dead"]
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    delivered_at: datetime | None
    response_status: int | None
    last_error: str | None


class DeliveryList(BaseModel):
    items: list[DeliveryOut]
    total: int


def _out(e: WebhookEndpoint) -> EndpointOut:
    return EndpointOut(id=e.id, name=e.name, url=e.url, events=list(e.events), active=e.active,
                       created_at=e.created_at)


def _delivery(d: WebhookDelivery) -> DeliveryOut:
    return DeliveryOut(id=d.id, event=d.event, status=d.status,
                       attempts=d.attempts, created_at=d.created_at, next_attempt_at=d.next_attempt_at,
                       delivered_at=d.delivered_at, response_status=d.response_status, last_error=d.last_error)


@router.get("")
def list_endpoints(request: Request, _: Admin) -> list[EndpointOut]:
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        return [_out(e) for e in session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id))]


@router.post("", status_code=201)
def create_endpoint(body: EndpointIn, request: Request, person: Admin) -> EndpointCreated:
    """Subscribe a URL; the answer carries the signing secret, which is never shown again."""
    desk: Desk = request.app.state.desk
    _checked(request, person, str(body.url), body.events)
    with desk.sessions() as session:
        endpoint, secret = service.subscribe(session=session, name=body.name, url=str(body.url), events=body.events,
                                             created_by=person.id, now=desk.clock())
        session.commit()
        return EndpointCreated(**_out(endpoint).model_dump(), secret=secret)


def _checked(request: Request, person: Person, url: str | None, events: Sequence[str] | None) -> None:
    """Refuse (422) an address inside the desk's own network and an event name the desk never sends."""
    desk: Desk = request.app.state.desk
    try:
        service.check(url=url, events=events, allow_private=desk.settings.webhooks_allow_private,
                      kinds=_event_kinds(desk))
    except service.EndpointRefused as exc:
        raise HTTPException(status_code=422, detail=refusal_words(request, person, exc)) from exc


def _event_kinds(desk: Desk) -> dict[str, set[str]]:
    """The timeline kinds each family of events is sent for: those the message catalogue names."""
    keys = desk.catalog.keys("zh-CN")
    return {"ticket": {k.removeprefix("event_") for k in keys if k.startswith("event_")},
            "incident": {k.removeprefix("incident_event_") for k in keys if k.startswith("incident_event_")},
            "ping": set()}


def _endpoint(session: Session, endpoint_id: int) -> WebhookEndpoint:
    found = session.get(WebhookEndpoint, endpoint_id)
    if found is None:
        raise HTTPException(status_code=404, detail="no such webhook")
    return found


@router.patch("/{endpoint_id}")
def update_endpoint(endpoint_id: Id, body: EndpointPatch, request: Request, person: Admin) -> EndpointOut:
    desk: Desk = request.app.state.desk
    _checked(request, person, str(body.url) if body.url is not None else None, body.events)
    with desk.sessions() as session:
        endpoint = _endpoint(session, endpoint_id)
        if body.name is not None:
            endpoint.name = body.name
        if body.url is not None:
            endpoint.url = str(body.url)
        if body.events is not None:
            endpoint.events = list(body.events)
        if body.active is not None:
            endpoint.active = body.active
        session.commit()
        return _out(endpoint)


@router.delete("/{endpoint_id}", status_code=204)
def deactivate_endpoint(endpoint_id: Id, request: Request, _: Admin) -> Response:
    """Stop sending to it (its delivery history is kept)."""
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        _endpoint(session, endpoint_id).active = False
        session.commit()
    return Response(status_code=204)


@router.get("/{endpoint_id}/deliveries")
def deliveries(endpoint_id: Id, request: Request, _: Admin,
               status: Literal["pending", "delivered", "dead"] | None = None,
               limit: Annotated[int, Query(ge=1, le=200)] = 50,
               offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0) -> DeliveryList:
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        _endpoint(session, endpoint_id)
        where = [WebhookDelivery.endpoint_id == endpoint_id] + ([WebhookDelivery.status == status] if status else [])
        total = session.scalar(select(func.count()).select_from(WebhookDelivery).where(*where)) or 0
        rows = session.scalars(select(WebhookDelivery).where(*where).order_by(WebhookDelivery.id.desc())
                               .limit(limit).offset(offset))
        return DeliveryList(items=[_delivery(d) for d in rows], total=total)


@router.post("/{endpoint_id}/deliveries/{delivery_id}/redeliver")
def redeliver(endpoint_id: Id, delivery_id: Id, request: Request, _: Admin) -> DeliveryOut:
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        found = session.get(WebhookDelivery, delivery_id)
        if found is None or found.endpoint_id != endpoint_id:
            raise HTTPException(status_code=404, detail="no such delivery")
        service.redeliver(delivery=found, now=desk.clock())
        session.commit()
        desk.loop.wake()
        return _delivery(found)


@router.post("/{endpoint_id}/ping", status_code=202)
def ping(endpoint_id: Id, request: Request, _: Admin) -> dict[str, int]:
    """Queue a `ping` event for this endpoint alone."""
    desk: Desk = request.app.state.desk
    now = desk.clock()
    with desk.sessions() as session:
        if not _endpoint(session, endpoint_id).active:
            raise HTTPException(status_code=409, detail="the webhook is not active")
        service.emit(session=session, event="ping", payload={}, key=f"ping:{now.timestamp()}", now=now,
                     only=endpoint_id)
        session.commit()
        desk.loop.wake()
    return {"queued": 1}
