"""Monitoring alerts (Alertmanager style) into incidents: a critical alert declares one, a repeat of the
same alert (same fingerprint) updates it and never opens another, a recovery goes on its timeline and to
the war-room but does not resolve it — a person confirms that."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wuyou.desk.incidents import service
from wuyou.desk.incidents.models import SEVERITIES, Incident
from wuyou.desk.models import Region

DECLARING = frozenset({"critical"})


@dataclass(frozen=True)
class Alert:
    status: str  # firing / resolved
    labels: dict[str, str]
    annotations: dict[str, str] = field(default_factory=dict)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    fingerprint: str | None = None

    @property
    def key(self) -> str:
        """The alert's own fingerprint, else a stable hash of its labels."""
        if self.fingerprint:
            return f"alert:{self.fingerprint}"
        digest = hashlib.sha256(json.dumps(self.labels, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        return f"alert:{digest[:32]}"

    @property
    def title(self) -> str:
        summary = self.annotations.get("summary") or self.annotations.get("title")
        if summary:
            return summary[:200]
        name = self.labels.get("alertname", "alert")
        where = self.labels.get("instance", "")
        return f"{name} {where}".strip()[:200]


def receive(*, session: Session, alert: Alert, now: datetime, declaring: frozenset[str] = DECLARING) -> \
        tuple[Incident | None, str]:
    """Act on one alert; returns the incident and what happened: declared / updated / recovered / ignored."""
    existing = session.scalars(select(Incident).where(Incident.fingerprint == alert.key)).first()
    if existing is not None:
        if alert.status == "resolved":
            ev = service.event(session, existing, "alert_resolved", now, body=alert.title,
                               data={"ends_at": alert.ends_at.isoformat() if alert.ends_at else None})
            service.tell_room(session=session, incident=existing, ev=ev, template="incident_alert_recovered",
                              now=now, params={"body": alert.title, "at_due": (alert.ends_at or now).isoformat()})
            return existing, "recovered"
        service.event(session, existing, "alert_repeat", now, body=alert.title, data={"labels": alert.labels})
        return existing, "updated"
    if alert.status != "firing" or alert.labels.get("severity", "").lower() not in declaring:
        return None, "ignored"
    severity = alert.labels.get("wuyou_severity", "SEV2").upper()
    region = alert.labels.get("region")
    if region is not None and session.get(Region, region) is None:
        region = None
    speciality = alert.labels.get("speciality")
    try:
        with session.begin_nested():
            incident = service.declare(
                session=session, title=alert.title, severity=severity if severity in SEVERITIES else "SEV2",
                source="alert", now=now, region_code=region, specialities=[speciality] if speciality else [],
                started_at=alert.starts_at or now, detected_at=now, fingerprint=alert.key)
            service.event(session, incident, "alert", now, body=alert.title, data={"labels": alert.labels})
    except IntegrityError:
        # The same alert delivered twice at once: the other delivery declared it.
        found = session.scalars(select(Incident).where(Incident.fingerprint == alert.key)).first()
        if found is None:
            raise
        return found, "updated"
    return incident, "declared"
