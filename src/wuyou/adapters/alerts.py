"""`POST /api/v1/alerts`: monitoring systems declare major incidents (Alertmanager's webhook format, or one
bare alert). Authenticated by a shared secret; the same alert delivered again updates its incident."""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Request
from pydantic import BaseModel, Field, ValidationError

from wuyou.adapters.bootstrap import Desk
from wuyou.desk.incidents import alerts

router = APIRouter(prefix="/api/v1", tags=["alerts"])


class AlertIn(BaseModel):
    status: str = Field(pattern="^(firing|resolved)$")
    labels: dict[str, str]
    annotations: dict[str, str] = {}
    startsAt: datetime | None = None  # Alertmanager's field names
    endsAt: datetime | None = None
    fingerprint: str | None = Field(default=None, max_length=128)


class AlertsIn(BaseModel):
    alerts: list[AlertIn] = Field(min_length=1, max_length=500)


class AlertOut(BaseModel):
    incident: str | None
    status: str


class AlertsOut(BaseModel):
    results: list[AlertOut]


def _authorised(desk: Desk, authorization: str | None, token: str | None) -> None:
    secret = desk.settings.alerts_secret
    if secret is None:
        raise HTTPException(status_code=503, detail="alerts are not configured: set WUYOU_ALERTS_SECRET")
    given = token or (authorization[7:] if authorization and authorization.lower().startswith("bearer ") else "")
    if not hmac.compare_digest(given.encode(), secret.get_secret_value().encode()):
        raise HTTPException(status_code=401, detail="wrong or missing alert token")


@router.post("/alerts", response_model=AlertsOut, responses={401: {}, 422: {}, 503: {}})
async def receive_alerts(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    x_wuyou_alert_token: Annotated[str | None, Header()] = None,
) -> AlertsOut:
    """Alerts with `labels.severity` in WUYOU_ALERTS_DECLARE (critical) declare an incident (SEV2, or
    `labels.wuyou_severity`); `labels.region` and `labels.speciality` say where and whom to page."""
    desk: Desk = request.app.state.desk
    _authorised(desk, authorization, x_wuyou_alert_token)
    try:
        body: Any = await request.json()
    except ValueError:
        raise HTTPException(status_code=422, detail="the body is not JSON") from None
    try:
        items = AlertsIn.model_validate(body).alerts if isinstance(body, dict) and "alerts" in body \
            else [AlertIn.model_validate(body)]
    except ValidationError as exc:
        raise HTTPException(status_code=422, detail=exc.errors(include_url=False, include_context=False)) from None
    declaring = frozenset(s.strip().lower() for s in desk.settings.alerts_declare.split(",") if s.strip())
    results: list[AlertOut] = []
    with desk.sessions() as session:
        for item in items:
            alert = alerts.Alert(status=item.status, labels=item.labels, annotations=item.annotations,
                                 starts_at=item.startsAt, ends_at=item.endsAt, fingerprint=item.fingerprint)
            incident, outcome = alerts.receive(session=session, alert=alert, now=desk.clock(), declaring=declaring)
            results.append(AlertOut(incident=incident.ref if incident else None, status=outcome))
        session.commit()
    desk.loop.wake()
    return AlertsOut(results=results)
