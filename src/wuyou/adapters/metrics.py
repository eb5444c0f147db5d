"""Operations: Prometheus metrics at `/metrics`, readiness at `/readyz`.

Two kinds of figure. What the database knows (tickets, SLA breaches, suggestion sessions and deflections, the
outbox's backlog and lag, incidents) is counted at scrape time, so every process answers the same and nothing
is lost in a restart. What only a process sees (messages arriving on each platform, deliveries and their
failures) is a process counter; with several workers set `PROMETHEUS_MULTIPROC_DIR` to a shared empty
folder and each process's counters are summed (prometheus_client's multiprocess mode)."""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select, text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wuyou.adapters.bootstrap import Desk
from wuyou.adapters.counters import MESSAGES, PROCESS
from wuyou.desk import suggestions
from wuyou.desk.incidents.models import Incident
from wuyou.desk.models import OutboxMessage, SlaClock, SuggestionSession, Ticket

router = APIRouter(include_in_schema=False)



class DeskCollector(Collector):
    """The desk's state, read from the database at scrape time."""

    def __init__(self, desk: Desk) -> None:
        self._desk = desk

    def collect(self) -> Iterator[Metric]:
        now = self._desk.clock()
        with self._desk.sessions() as s:
            tickets = GaugeMetricFamily("wuyou_tickets", "tickets by status", labels=["status"])
            for status, count in s.execute(select(Ticket.status, func.count()).group_by(Ticket.status)):
                tickets.add_metric([status], count)
            yield tickets
            yield CounterMetricFamily("wuyou_tickets_created", "tickets ever opened",
                                      value=s.scalar(select(func.count()).select_from(Ticket)) or 0)
            breaches = CounterMetricFamily("wuyou_sla_breaches", "SLA clocks that passed their target",
                                           labels=["kind"])
            for kind, count in s.execute(select(SlaClock.kind, func.count()).where(SlaClock.breached_at.is_not(None))
                                         .group_by(SlaClock.kind)):
                breaches.add_metric([kind], count)
            yield breaches
            sessions = CounterMetricFamily("wuyou_suggestion_sessions", "times the bot offered articles, by outcome",
                                           labels=["outcome"])
            for outcome, count in s.execute(select(SuggestionSession.outcome, func.count())
                                            .group_by(SuggestionSession.outcome)):
                sessions.add_metric([outcome], count)
            yield sessions
            deflected = s.scalar(select(func.count()).select_from(SuggestionSession).where(
                suggestions.ended_without_ticket(now)))
            yield CounterMetricFamily("wuyou_deflections", "suggestion sessions that ended without a ticket",
                                      value=deflected or 0)
            outbox = GaugeMetricFamily("wuyou_outbox_messages", "outbox rows by status", labels=["status"])
            for status, count in s.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)):
                outbox.add_metric([status], count)
            yield outbox
            oldest = s.scalar(select(func.min(OutboxMessage.next_attempt_at)).where(
                OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now))
            yield GaugeMetricFamily("wuyou_outbox_lag_seconds", "how long the oldest due notification has waited",
                                    value=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
            incidents = GaugeMetricFamily("wuyou_incidents", "major incidents by status", labels=["status"])
            for status, count in s.execute(select(Incident.status, func.count()).group_by(Incident.status)):
                incidents.add_metric([status], count)
            yield incidents


def _process_registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        merged = CollectorRegistry()
        MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
        return merged
    return PROCESS


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Prometheus text format: the process's counters and the desk's state (with `WUYOU_METRICS_TOKEN` set, only
    for its Bearer token)."""
    token = request.app.state.desk.settings.metrics_token
    if token is not None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(),
                                                                  token.get_secret_value().encode()):
            return Response("wrong or missing metrics token\n", status_code=401, media_type="text/plain",
                            headers={"WWW-Authenticate": "Bearer"})
    state = CollectorRegistry(auto_describe=True)
    state.register(DeskCollector(request.app.state.desk))
    return Response(generate_latest(_process_registry()) + generate_latest(state), media_type=CONTENT_TYPE_LATEST)


@router.get("/readyz")
def ready(request: Request) -> JSONResponse:
    """200 when the database answers, 503 otherwise, so a load balancer stops sending this process work. The state
    store (Redis) is reported too, but a process without it still takes messages (nothing a message needs lives
    there), and every process shares the one Redis: its outage makes the desk "degraded", never unready."""
    desk: Desk = request.app.state.desk
    checks: dict[str, str] = {}
    try:
        with desk.sessions() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready; which one is reported
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        checks["store"] = "ok" if desk.bot.store.ping() else "error: no answer"
    except Exception as exc:  # any failure means not ready; which one is reported
        checks["store"] = f"error: {type(exc).__name__}"
    ok = checks["database"] == "ok"
    status = "unavailable" if not ok else "ok" if checks["store"] == "ok" else "degraded"
    return JSONResponse({"status": status, **checks}, status_code=200 if ok else 503)


class CountMessages:
    """ASGI middleware: counts webhook deliveries (`POST /channels/<platform>/…`) answered with 2xx."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or scope.get("method") != "POST" or not path.startswith("/channels/"):
            await self._app(scope, receive, send)
            return
        platform = path.split("/")[2] or "unknown"

        async def counting(message: Message) -> None:
            if message["type"] == "http.response.start" and 200 <= message["status"] < 300:
                MESSAGES.labels(platform).inc()
            await send(message)

        await self._app(scope, receive, counting)
