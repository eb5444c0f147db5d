"""`POST /api/v1/alerts`: monitoring systems declare major incidents. Takes Alertmanager's webhook
(`{"alerts": [...]}`), a bare alert object, or a list of alerts; authenticated by a shared secret
(`WUYOU_ALERTS_SECRET`). The logic lives in `wuyou.desk.incidents.alerts`; this module checks and parses."""

from __future__ import annotations

import hmac
from datetime import datetime, tzinfo
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Header, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

from wuyou.adapters.bootstrap import Desk
from wuyou.adapters.bounds import FIRST, LAST
from wuyou.desk.incidents import alerts

MAX_ALERTS = 500

router = APIRouter(prefix="/api/v1", tags=["alerts"])


class AlertIn(BaseModel):
    """One alert, with Alertmanager's field names; other fields (`generatorURL` …) are ignored."""

    status: Literal["firing", "resolved"]
    labels: dict[str, str] = Field(max_length=100)
    annotations: dict[str, str] = Field(default_factory=dict, max_length=100)
    startsAt: datetime | None = None  # Alertmanager's field names
    endsAt: datetime | None = None
    fingerprint: str | None = Field(default=None, min_length=1, max_length=128)


class AlertsIn(BaseModel):
    """Alertmanager's webhook envelope; only `alerts` is read."""

    alerts: list[AlertIn] = Field(min_length=1, max_length=MAX_ALERTS)


class AlertOut(BaseModel):
    incident: str | None = Field(default=None, description="INC-n; absent when the alert was ignored")
    status: alerts.Outcome


class AlertsOut(AlertOut):
    """The most significant outcome (declared > updated / recovered > ignored); a batch of several alerts
    also lists each one's."""

    results: list[AlertOut] | None = None


STATUS_CODES: dict[str, int] = {"declared": 201, "updated": 200, "recovered": 200, "ignored": 202}
_RANK = {"declared": 0, "updated": 1, "recovered": 1, "ignored": 2}


def _check_secret(desk: Desk, authorization: str | None, token: str | None) -> None:
    secret = desk.settings.alerts_secret
    if secret is None:
        raise HTTPException(status_code=503, detail="monitoring alerts are not enabled: set WUYOU_ALERTS_SECRET")
    scheme, _, bearer = (authorization or "").partition(" ")
    given = token or (bearer.strip() if scheme.lower() == "bearer" else "")
    if not hmac.compare_digest(given.encode(), secret.get_secret_value().encode()):
        raise HTTPException(status_code=401, detail="wrong or missing alert token",
                            headers={"WWW-Authenticate": "Bearer"})


def _parse(body: Any) -> list[AlertIn]:
    """Alertmanager's envelope, a list of alerts, or one bare alert."""
    if isinstance(body, dict) and "alerts" in body:
        return AlertsIn.model_validate(body).alerts
    if isinstance(body, list):
        return AlertsIn.model_validate({"alerts": body}).alerts
    return [AlertIn.model_validate(body)]


def _moment(value: datetime | None, tz: tzinfo) -> datetime | None:
    """Alertmanager's zero time (`0001-01-01T00:00:00Z`, a firing alert's `endsAt`) is no time, nor is one outside
    the desk's years (it would overflow further on); a time without an offset is the desk's local time."""
    if value is None or not FIRST <= value.date() <= LAST:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)


def _receive(desk: Desk, items: list[AlertIn]) -> list[AlertOut]:
    """Every alert of one delivery in one transaction, with the notices it causes."""
    tz = ZoneInfo(desk.settings.timezone)
    declaring = desk.settings.alerts_declaring
    out: list[AlertOut] = []
    with desk.sessions() as session:
        for item in items:
            alert = alerts.Alert(status=item.status, labels=item.labels, annotations=item.annotations,
                                 starts_at=_moment(item.startsAt, tz), ends_at=_moment(item.endsAt, tz),
                                 fingerprint=item.fingerprint)
            incident, outcome = alerts.receive(session=session, alert=alert, now=desk.clock(), catalog=desk.catalog,
                                               declaring=declaring)
            out.append(AlertOut(incident=incident.ref if incident else None, status=outcome))
        session.commit()
    desk.loop.wake()
    return out


@router.post(
    "/alerts",
    status_code=201,
    response_description="an incident was declared",
    response_model=AlertsOut,
    response_model_exclude_none=True,
    responses={200: {"model": AlertsOut, "description": "a repeat or a recovery of a known alert"},
               202: {"model": AlertsOut, "description": "not an alert that declares: ignored"},
               401: {"description": "wrong or missing token"}, 422: {"description": "not an alert"},
               503: {"description": "WUYOU_ALERTS_SECRET is not set"}},
)
async def receive_alerts(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    x_wuyou_alert_token: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """A firing alert whose `severity` label is in WUYOU_ALERTS_DECLARE (`critical`) declares an incident:
    SEV2 or `labels.wuyou_severity`, in `labels.region`, paging `labels.speciality`. The same alert again
    (same `fingerprint`, else the same labels) goes on that incident's timeline; `resolved` is noted there and
    in the war-room, and a person resolves the incident. Give the secret as `Authorization: Bearer …` or
    `X-Wuyou-Alert-Token`."""
    desk: Desk = request.app.state.desk
    _check_secret(desk, authorization, x_wuyou_alert_token)  # before the body is even read
    try:
        body: Any = await request.json()
    except ValueError:  # also UnicodeDecodeError
        raise HTTPException(status_code=422, detail="the body is not JSON") from None
    try:
        items = _parse(body)
    except ValidationError as exc:
        raise HTTPException(status_code=422, detail=exc.errors(include_url=False, include_context=False,
                                                               include_input=False)) from None
    results = await run_in_threadpool(_receive, desk, items)
    top = min(results, key=lambda r: _RANK[r.status])
    answer = AlertsOut(incident=top.incident, status=top.status, results=results if len(results) > 1 else None)
    return JSONResponse(answer.model_dump(exclude_none=True), status_code=STATUS_CODES[top.status])
