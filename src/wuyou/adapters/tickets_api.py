"""Working tickets through the API: every action the chat commands (and the console) offer, the queues, and
a live stream of ticket changes. Each action runs the same desk service as its chat command, in one
transaction, so the reporter hears about it in their chat exactly as if it had been typed."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Header, HTTPException, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wuyou.adapters.api import one_leaf, ticket_body
from wuyou.adapters.auth import Caller, console_locale
from wuyou.adapters.bootstrap import Desk
from wuyou.adapters.tickets_schemas import (
    MAX_ID,
    Ask,
    CategoryChange,
    Hold,
    Info,
    Merge,
    NewTicket,
    Priority,
    Queue,
    QueueItem,
    Queues,
    Rate,
    Reason,
    Reply,
    Resolve,
    Text,
    TicketDetail,
    TicketId,
    Transfer,
)
from wuyou.bot import solutions
from wuyou.desk import conversations, holds, org, scope, tickets, working
from wuyou.desk.errors import (
    AlreadyClaimed,
    DeskError,
    Forbidden,
    InvalidTransition,
    NotAllowed,
    NotFound,
    NotServing,
    TooSoon,
)
from wuyou.desk.models import Person, SlaClock, Ticket, TicketEvent
from wuyou.desk.replies import UnknownReply

router = APIRouter(prefix="/api/v1", tags=["tickets"])
POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
BATCH = 200


def _status_of(exc: DeskError) -> tuple[int, str]:
    if isinstance(exc, NotFound):
        return 404, "no such ticket (or not one you may work on)"
    if isinstance(exc, Forbidden):
        return 403, str(exc) or "not allowed for your role"
    if isinstance(exc, AlreadyClaimed):
        return 409, f"already claimed by {exc.holder_name}"
    if isinstance(exc, InvalidTransition):
        return 409, f"not possible while the ticket is {exc.status}"
    if isinstance(exc, NotServing):
        return 409 if exc.reason == "region" else 422, str(exc)
    if isinstance(exc, TooSoon):
        return 429, f"chased recently; again after {exc.next_allowed}"
    if isinstance(exc, UnknownReply):
        return 422, f"no canned reply '::{exc.name}' you may use (GET /api/v1/replies lists them)"
    if isinstance(exc, NotAllowed):  # a sentence, its reason last for a program to match (it was the bare reason)
        return 409, f"{_NOT_ALLOWED.get(exc.reason, 'not possible')} ({exc.reason})"
    return 409, str(exc)


_NOT_ALLOWED = {
    "hold_past": "the hold's end has passed: give a time still to come",
    "hold_too_long": f"a hold lasts at most {holds.LONGEST.days} days: resolve the ticket or transfer it instead",
    "same": "a ticket cannot be merged into itself",
    "same_team": "the ticket is already in that team's queue: name a person to give it to someone",
    "cycle": "that would make the ticket its own ancestor",
}


def _in_words(desk: Desk, locale: str, exc: DeskError) -> str | None:
    """A refusal as the chat says it, in the console's language: what the console shows (an API client gets the
    English `detail` it can rely on)."""
    def t(key: str, **params: object) -> str:
        return desk.catalog.t(key, locale, **params)

    if isinstance(exc, AlreadyClaimed):
        return t("console_claim_taken", holder=exc.holder_name)
    if isinstance(exc, NotFound):
        return t("console_ticket_not_found")
    if isinstance(exc, InvalidTransition):
        return t("bad_state", status=t(f"status_{exc.status}"))
    if isinstance(exc, Forbidden):
        return t("forbidden")
    if isinstance(exc, UnknownReply):
        return t("unknown_reply", name=exc.name)
    if isinstance(exc, NotAllowed):
        return t(f"not_allowed_{exc.reason}")
    if isinstance(exc, NotServing):  # (the chat's words for a transfer refused)
        key = {"unknown": "transfer_unknown", "role": "transfer_not_staff"}.get(exc.reason,
                                                                                 "console_transfer_other_region")
        return t(key, target=exc.target, teams=exc.teams or "—", branch=exc.branch)
    return None


def _act(request: Request, person: Person, ticket_id: int, action: Callable[[Session], Any]) -> dict[str, Any]:
    """Run one desk action in its own transaction and answer with the ticket as it now stands."""
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        try:
            action(session)
        except DeskError as exc:
            session.rollback()
            code, detail = _status_of(exc)
            if request.headers.get("x-wuyou-console"):
                with contextlib.suppress(KeyError):  # (a refusal the catalogue has no words for yet: the English)
                    detail = _in_words(desk, console_locale(request, person), exc) or detail
            raise HTTPException(status_code=code, detail=detail) from exc
        except ValueError as exc:
            session.rollback()
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        session.commit()
        desk.loop.wake()
        found = session.get(Ticket, ticket_id)
        assert found is not None
        return ticket_body(session=session, person=person, ticket=found)


def _staff(person: Person) -> None:
    if not scope.is_staff(person):
        raise HTTPException(status_code=403, detail="engineers, leads and admins only")


def _now(request: Request) -> Any:
    return request.app.state.desk.clock()


# --- opening ------------------------------------------------------------------------------------------------


IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=200,
    description="any unique string per ticket (a UUID, the calling system's own id): the same key again from the "
                "same caller within 7 days opens nothing and answers with the ticket the first request opened "
                "(`Idempotent-Replayed: true`); with another body it is refused (422)")]


@router.post("/tickets", status_code=201, response_model=TicketDetail,
             responses={422: {"description": "the body is invalid, or its `Idempotency-Key` was used for another "
                                             "ticket request"}})
def open_ticket(body: NewTicket, request: Request, response: Response, person: Caller,
                idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    """Open a ticket: a reporter for themselves; staff on behalf of a reporter they serve (`reporter`). Send an
    `Idempotency-Key` so that a retry after a timeout or a dropped connection opens no second ticket."""
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        receipt_key, asked = None, hashlib.sha256(body.model_dump_json().encode()).hexdigest()
        if idempotency_key is not None:
            # The caller's conversation row is locked first: a concurrent retry waits for the first to commit.
            conversations.take(session=session, person_id=person.id, now=desk.clock())
            receipt_key = conversations.receipt_key("api", "tickets", person.id, idempotency_key)
            done = conversations.receipt(session=session, key=receipt_key)
            if done is not None:
                first = done.replies[0] if done.replies else {}
                if first.get("request") != asked:
                    raise HTTPException(status_code=422, detail="this Idempotency-Key was used for another "
                                                                "ticket request: send a new key for a new ticket")
                opened = session.get(Ticket, first.get("ticket"))
                if opened is not None:
                    response.headers["Idempotent-Replayed"] = "true"
                    return ticket_body(session=session, person=person, ticket=opened)
        reporter = session.get(Person, person.id)
        if body.reporter and body.reporter != person.id:
            _staff(person)
            reporter = session.get(Person, body.reporter)
            regions = scope.staff_regions(session=session, person=person)
            if reporter is None or (regions is not None and (
                    reporter.branch is None or reporter.branch.region_code not in regions)):
                raise HTTPException(status_code=404, detail="no such reporter (or not one you serve)")
        assert reporter is not None
        category = one_leaf(session, body.category) if body.category else None
        ticket = tickets.open_ticket(session=session, reporter=reporter, category=category, urgency=body.urgency,
                                     description=body.description, channel="api", now=desk.clock(),
                                     title=body.title, tz=str(desk.bot.tz), group_for=desk.bot.group_for)
        if body.priority and body.priority != ticket.priority and scope.is_staff(person):
            working.set_priority(session=session, ticket_id=ticket.id, person=person, priority=body.priority,
                                 now=desk.clock())
        if receipt_key is not None:
            conversations.record(session=session, key=receipt_key, replies=[{"ticket": ticket.id, "request": asked}],
                                 now=desk.clock(), answered=True)
        session.commit()
        desk.loop.wake()
        return ticket_body(session=session, person=person, ticket=ticket)


# --- an engineer's actions -----------------------------------------------------------------------------------


@router.post("/tickets/{ticket_id}/claim", response_model=TicketDetail)
def claim(ticket_id: TicketId, request: Request, person: Caller) -> dict[str, Any]:
    """Take the ticket (exactly one of several simultaneous claimers wins; the others get 409)."""
    _staff(person)
    return _act(request, person, ticket_id, lambda s: tickets.claim(
        session=s, ticket_id=ticket_id, engineer=person, now=_now(request)))


@router.post("/tickets/{ticket_id}/release", response_model=TicketDetail)
def release(ticket_id: TicketId, body: Reason, request: Request, person: Caller) -> dict[str, Any]:
    """Give the ticket back to its team's queue."""
    _staff(person)
    return _act(request, person, ticket_id, lambda s: working.release(
        session=s, ticket_id=ticket_id, person=person, now=_now(request), reason=body.reason))


@router.post("/tickets/{ticket_id}/transfer", response_model=TicketDetail)
def transfer(ticket_id: TicketId, body: Transfer, request: Request, person: Caller) -> dict[str, Any]:
    """Move the ticket to a team (its queue) or an engineer, who must serve the ticket's branch."""
    _staff(person)
    return _act(request, person, ticket_id, lambda s: working.transfer(
        session=s, ticket_id=ticket_id, person=person, target=body.target, now=_now(request),
        reason=body.reason.strip()))


@router.post("/tickets/{ticket_id}/resolve", response_model=TicketDetail)
def resolve(ticket_id: TicketId, body: Resolve, request: Request, person: Caller) -> dict[str, Any]:
    """Resolve with a summary; the reporter is asked to confirm. KB articles the summary names (KB-P001) learn the
    reporter's wording."""
    _staff(person)

    return _act(request, person, ticket_id, lambda s: solutions.resolve(
        session=s, ticket_id=ticket_id, engineer=person, summary=body.summary, now=_now(request)))


@router.post("/tickets/{ticket_id}/reply", response_model=TicketDetail)
def reply(ticket_id: TicketId, body: Reply, request: Request, person: Caller) -> dict[str, Any]:
    """A public reply, sent to the reporter through their chat."""
    _staff(person)
    return _act(request, person, ticket_id, lambda s: working.reply(
        session=s, ticket_id=ticket_id, person=person, text=body.text, now=_now(request)))


@router.post("/tickets/{ticket_id}/ask", response_model=TicketDetail)
def ask(ticket_id: TicketId, body: Ask, request: Request, person: Caller) -> dict[str, Any]:
    """Ask the reporter for details: the ticket waits on them and its SLA clock pauses."""
    _staff(person)
    return _act(request, person, ticket_id, lambda s: working.ask(
        session=s, ticket_id=ticket_id, person=person, question=body.question, now=_now(request)))


@router.post("/tickets/{ticket_id}/hold", response_model=TicketDetail)
def hold(ticket_id: TicketId, body: Hold, request: Request, person: Caller) -> dict[str, Any]:
    """Put the ticket on hold until a time (a vendor, spare parts, a booked visit): the reporter is told why, the
    resolution clock pauses, and the hold ends by itself then, reminding the engineer. Again: a new time."""
    _staff(person)
    return _act(request, person, ticket_id, lambda s: holds.hold(
        session=s, ticket_id=ticket_id, person=person, reason=body.reason, until=body.until, now=_now(request)))


@router.post("/tickets/{ticket_id}/resume", response_model=TicketDetail)
def resume(ticket_id: TicketId, request: Request, person: Caller) -> dict[str, Any]:
    """End the ticket's hold now: back in progress, the resolution clock running again."""
    _staff(person)
    return _act(request, person, ticket_id, lambda s: holds.unhold(
        session=s, ticket_id=ticket_id, person=person, now=_now(request)))


@router.post("/tickets/{ticket_id}/notes", response_model=TicketDetail)
def note(ticket_id: TicketId, body: Text, request: Request, person: Caller) -> dict[str, Any]:
    """An internal note (staff only see it)."""
    _staff(person)
    return _act(request, person, ticket_id, lambda s: working.note(
        session=s, ticket_id=ticket_id, person=person, text=body.text, now=_now(request)))


@router.post("/tickets/{ticket_id}/priority", response_model=TicketDetail)
def priority(ticket_id: TicketId, body: Priority, request: Request, person: Caller) -> dict[str, Any]:
    """Change the priority (the SLA targets follow)."""
    _staff(person)
    return _act(request, person, ticket_id, lambda s: working.set_priority(
        session=s, ticket_id=ticket_id, person=person, priority=body.priority, now=_now(request)))


@router.post("/tickets/{ticket_id}/category", response_model=TicketDetail)
def category(ticket_id: TicketId, body: CategoryChange, request: Request, person: Caller) -> dict[str, Any]:
    """Put the ticket in another catalog leaf, or none (its running SLA clocks follow; the team stays)."""
    _staff(person)

    def act(session: Session) -> None:
        leaf = one_leaf(session, body.category) if body.category else None
        working.set_category(session=session, ticket_id=ticket_id, person=person, category=leaf, now=_now(request))
    return _act(request, person, ticket_id, act)


@router.post("/tickets/{ticket_id}/merge", response_model=TicketDetail)
def merge(ticket_id: TicketId, body: Merge, request: Request, person: Caller) -> dict[str, Any]:
    """Close this ticket as a duplicate of `into`; its reporter follows the main ticket."""
    _staff(person)
    return _act(request, person, ticket_id, lambda s: working.merge(
        session=s, duplicate_id=ticket_id, main_id=body.into, person=person, now=_now(request)))


@router.post("/tickets/{ticket_id}/cancel", response_model=TicketDetail)
def cancel(ticket_id: TicketId, body: Reason, request: Request, person: Caller) -> dict[str, Any]:
    """Withdraw the ticket: its reporter, or a lead or admin serving it."""
    return _act(request, person, ticket_id, lambda s: working.cancel(
        session=s, ticket_id=ticket_id, person=person, reason=body.reason, now=_now(request)))


# --- a reporter's actions ------------------------------------------------------------------------------------


@router.post("/tickets/{ticket_id}/confirm", response_model=TicketDetail)
def confirm(ticket_id: TicketId, request: Request, person: Caller) -> dict[str, Any]:
    """The reporter confirms the resolution."""
    return _act(request, person, ticket_id, lambda s: tickets.confirm(
        session=s, ticket_id=ticket_id, reporter=person, now=_now(request)))


@router.post("/tickets/{ticket_id}/reopen", response_model=TicketDetail)
def reopen(ticket_id: TicketId, body: Reason, request: Request, person: Caller) -> dict[str, Any]:
    """The reporter says it is not fixed: back to the same engineer (and the KB articles its resolution named
    forget the reporter's wording)."""

    return _act(request, person, ticket_id, lambda s: solutions.reopen(
        session=s, ticket_id=ticket_id, reporter=person, reason=body.reason, now=_now(request)))


@router.post("/tickets/{ticket_id}/rate", response_model=TicketDetail)
def rate(ticket_id: TicketId, body: Rate, request: Request, person: Caller) -> dict[str, Any]:
    """The reporter rates 1–5 (closing the ticket)."""
    return _act(request, person, ticket_id, lambda s: tickets.rate(
        session=s, ticket_id=ticket_id, reporter=person, score=body.rating, comment=body.comment,
        now=_now(request)))


@router.post("/tickets/{ticket_id}/chase", response_model=TicketDetail)
def chase(ticket_id: TicketId, request: Request, person: Caller) -> dict[str, Any]:
    """Urge the ticket (at most every 30 minutes: 429 before that)."""
    return _act(request, person, ticket_id, lambda s: working.chase(
        session=s, ticket_id=ticket_id, person=person, now=_now(request)))


@router.post("/tickets/{ticket_id}/info", response_model=TicketDetail)
def info(ticket_id: TicketId, body: Info, request: Request, person: Caller) -> dict[str, Any]:
    """The reporter adds information (a waiting ticket goes back to work)."""
    return _act(request, person, ticket_id, lambda s: working.add_info(
        session=s, ticket_id=ticket_id, reporter=person, text=body.text, now=_now(request)))


# --- queues --------------------------------------------------------------------------------------------------


def _item(t: Ticket, due: dict[int, dict[str, Any]]) -> QueueItem:
    clocks = due.get(t.id, {})
    return QueueItem(id=t.id, title=t.title, priority=t.priority, status=t.status,
                     branch=t.branch.name if t.branch else None, category=t.category.path if t.category else None,
                     team=t.team.name if t.team else None, assignee=t.assignee.name if t.assignee else None,
                     created_at=t.created_at, response_due=clocks.get("response"),
                     resolution_due=clocks.get("resolution"), breached=bool(clocks.get("breached")),
                     tags=list(t.tags or []))


def _due(session: Session, ids: list[int]) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    if not ids:
        return found
    for c in session.scalars(select(SlaClock).where(SlaClock.ticket_id.in_(ids), SlaClock.state != "stopped")):
        entry = found.setdefault(c.ticket_id, {})
        entry[c.kind] = c.due_at
        entry["breached"] = entry.get("breached") or c.breached_at is not None
    return found


def _queue(session: Session, where: list[Any], limit: int, order: list[Any] | None = None) -> Queue:
    total = session.scalar(select(func.count()).select_from(Ticket).where(*where)) or 0
    rows = list(session.scalars(select(Ticket).where(*where)
                                .order_by(*(order or [Ticket.priority, Ticket.id])).limit(limit)))
    due = _due(session, [t.id for t in rows])
    return Queue(total=total, items=[_item(t, due) for t in rows])


@router.get("/queues")
def queues(request: Request, person: Caller, limit: Annotated[int, Query(ge=1, le=200)] = 50,
           within: Annotated[int, Query(ge=1, le=7 * 24 * 60, description="minutes: 'breaching soon'")] = 60,
           ) -> Queues:
    """The four queues of the console: mine, my teams', unclaimed, and breaching soon (an SLA clock breached or
    due within `within` minutes), all within the caller's scope."""
    _staff(person)
    desk: Desk = request.app.state.desk
    now = desk.clock()
    with desk.sessions() as session:
        visible = scope.staff_filter(session=session, person=person)
        open_ = Ticket.status.in_(tickets.OPEN_STATUSES)
        teams = [t.code for t in org.teams_of(session=session, person_id=person.id)]
        team_where = [visible, open_] + ([Ticket.team_code.in_(teams)] if teams else [])
        soon = select(SlaClock.ticket_id).where(SlaClock.state == "running",
                                                SlaClock.due_at <= now + timedelta(minutes=within))
        return Queues(
            mine=_queue(session, [Ticket.assignee_id == person.id, open_], limit),
            team=_queue(session, team_where, limit),
            unclaimed=_queue(session, [visible, Ticket.assignee_id.is_(None), open_], limit),
            breaching=_queue(session, [visible, open_, Ticket.id.in_(soon)], limit,
                             order=[select(func.min(SlaClock.due_at)).where(
                                 SlaClock.ticket_id == Ticket.id, SlaClock.state == "running").scalar_subquery(),
                                 Ticket.id]),
        )


# --- the live stream -----------------------------------------------------------------------------------------


def _read(desk: Desk, person: Person, since: int) -> list[tuple[int, str]]:
    with desk.sessions() as session:
        where = [TicketEvent.id > since]
        if scope.is_staff(person):
            where.append(TicketEvent.ticket_id.in_(select(Ticket.id).where(
                scope.staff_filter(session=session, person=person))))
        else:
            mine = Ticket.reporter_id == person.id
            if person.branch_code:
                mine = mine | (Ticket.branch_code == person.branch_code)
            where += [TicketEvent.public.is_(True), TicketEvent.ticket_id.in_(select(Ticket.id).where(mine))]
        rows = session.execute(select(TicketEvent.id, TicketEvent.ticket_id, TicketEvent.kind, TicketEvent.at)
                               .where(*where).order_by(TicketEvent.id).limit(BATCH)).all()
    return [(r[0], json.dumps({"ticket": r[1], "kind": r[2], "at": r[3].isoformat()})) for r in rows]


def _latest(desk: Desk) -> int:
    with desk.sessions() as session:
        return int(session.scalar(select(func.max(TicketEvent.id))) or 0)


async def ticket_stream(desk: Desk, person: Person, since: int, *, once: bool,
                        gone: Callable[[], Any]) -> AsyncIterator[str]:
    yield "retry: 3000\n\n"
    quiet = 0.0
    while True:
        found = await anyio.to_thread.run_sync(_read, desk, person, since)
        for event_id, data in found:
            since = event_id
            yield f"id: {event_id}\nevent: ticket\ndata: {data}\n\n"
        if len(found) == BATCH:
            continue
        if once or await gone():
            return
        await anyio.sleep(POLL_SECONDS)
        quiet = 0.0 if found else quiet + POLL_SECONDS
        if quiet >= HEARTBEAT_SECONDS:
            quiet = 0.0
            yield ": keepalive\n\n"


@router.get("/tickets/events", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "`event: ticket` with `{ticket, kind, at}` per timeline entry"}})
async def ticket_events(request: Request, person: Caller, after: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
                        once: bool = False, last_event_id: Annotated[str | None, Header()] = None,
                        ) -> StreamingResponse:
    """Every new ticket timeline entry within the caller's scope, as server-sent events (a reporter: public
    entries of their own and their branch's tickets). Starts after `Last-Event-ID` (a reconnect), `after`, or
    now; `once=1` sends what is there and ends."""
    desk: Desk = request.app.state.desk
    resume = (last_event_id or "").strip()
    if resume.isdigit():
        since = int(resume)
    elif after is not None:
        since = after
    else:
        since = await anyio.to_thread.run_sync(_latest, desk)
    return StreamingResponse(ticket_stream(desk, person, since, once=once, gone=request.is_disconnected),
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
