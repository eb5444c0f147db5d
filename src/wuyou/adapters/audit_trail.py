"""The audit trail over HTTP: an ASGI middleware that records every change made through the configuration
and access endpoints (and every sign-in attempt) with its actor and outcome, and `GET /api/v1/audit` for
admins. The actor is whom the request authenticated as (`auth.caller` notes it on the request), or, at a
sign-in, the person claimed."""

from __future__ import annotations

import logging
import re
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wuyou.adapters.auth import AUDIT_ACTOR, AUDIT_TARGET, Admin
from wuyou.adapters.bootstrap import Desk
from wuyou.adapters.logs import REQUEST_ID
from wuyou.desk import audit

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["admin"])

AUDITED = re.compile(r"^/api/v1/(org|catalog|routing-rules|sla-policies|replies|webhooks|session|calendar|me/tokens"
                     r"|(teams|branches)/[^/]+/hours)(/|$)")
_CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class AuditTrail:
    """ASGI middleware: after each audited change, one audit entry (its failure is logged, never the
    request's)."""

    def __init__(self, app: ASGIApp, desk: Desk) -> None:
        self._app, self._desk = app, desk

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope["method"] not in _CHANGES or not AUDITED.match(path):
            await self._app(scope, receive, send)
            return
        status = {"code": 500}

        async def noted(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, noted)
        finally:
            state: dict[str, Any] = scope.get("state") or {}
            client = scope.get("client")
            await anyio.to_thread.run_sync(self._write, state.get(AUDIT_ACTOR), f"{scope['method']} {path}",
                                           status["code"], REQUEST_ID.get(), client[0] if client else None,
                                           state.get(AUDIT_TARGET))

    def _write(self, actor: str | None, action: str, status: int, request_id: str | None,
               client: str | None, target: str | None) -> None:
        try:
            with self._desk.sessions() as session:
                audit.record(session=session, at=self._desk.clock(), actor_id=actor, action=action, target=target,
                             status=status, request_id=request_id, client=client)
                session.commit()
        except Exception:  # the change itself stands; the gap is loud in the logs
            log.exception("could not write the audit entry for %s by %s (%s)", action, actor, status)


class AuditOut(BaseModel):
    id: int
    at: str
    actor: str | None
    actor_name: str = ""
    action: str
    target: str | None
    status: int
    request_id: str | None
    client: str | None


@router.get("/audit")
def audit_trail(request: Request, _: Admin, limit: Annotated[int, Query(ge=1, le=500)] = 100,
                before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
                actor: Annotated[str | None, Query(max_length=100)] = None) -> list[AuditOut]:
    """The audit trail, newest first (admins only); `before` pages back by id; `actor` is a login id or a name."""
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        events = audit.recent(session=session, limit=limit, before_id=before, actor_id=actor)
        names = audit.names(session=session, events=events)
        return [AuditOut(id=e.id, at=e.at.isoformat(), actor=e.actor_id, actor_name=names.get(e.actor_id or "", ""),
                         action=e.action, target=e.target, status=e.status, request_id=e.request_id, client=e.client)
                for e in events]
