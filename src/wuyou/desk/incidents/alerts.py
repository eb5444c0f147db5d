"""Monitoring alerts (Alertmanager style) into incidents: a critical alert declares one, a repeat of the same
alert (same fingerprint) goes on its timeline and never opens another, a recovery goes on the timeline and to
the war-room but does not resolve the incident — a person confirms that.

An incident holds its alert's fingerprint in a unique column, so two deliveries of one alert racing each other
cannot both declare: the loser's insert fails and it is treated as a repeat. When the same alert fires again
after its incident was resolved (a new `startsAt`), the old incident lets go of the fingerprint and a new one
is declared."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wuyou.desk.incidents import service
from wuyou.desk.incidents.models import OPEN_STATUSES, SEVERITIES, Incident, IncidentEvent
from wuyou.desk.models import Region
from wuyou.i18n import Catalog

DECLARING = frozenset({"critical"})
DEFAULT_SEVERITY = "SEV2"
ALERT_EVENTS = ("declared", "alert_repeat", "alert_resolved")
# Alert names that mean "the target does not answer": titled "<instance> 不可达" rather than by the rule's name.
_UNREACHABLE = re.compile(r"(down|unreachable)$", re.I)

Outcome = Literal["declared", "updated", "recovered", "ignored"]


@dataclass(frozen=True)
class Alert:
    """One alert as the monitoring system sent it."""

    status: Literal["firing", "resolved"]
    labels: Mapping[str, str]
    annotations: Mapping[str, str] = field(default_factory=dict)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    fingerprint: str | None = None

    @property
    def key(self) -> str:
        """The dedup key: the alert's own fingerprint, else a stable hash of its sorted labels."""
        if self.fingerprint:
            return f"alert:{self.fingerprint}"
        labels = json.dumps(dict(self.labels), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return f"alert:{hashlib.sha256(labels.encode()).hexdigest()[:32]}"

    def declares(self, severities: frozenset[str]) -> bool:
        return self.status == "firing" and self.labels.get("severity", "").strip().lower() in severities

    @property
    def severity(self) -> str:
        """`wuyou_severity` when it names one of ours, else SEV2."""
        wanted = self.labels.get("wuyou_severity", "").strip().upper()
        return wanted if wanted in SEVERITIES else DEFAULT_SEVERITY

    @property
    def specialities(self) -> list[str]:
        return [s.strip() for s in self.labels.get("speciality", "").split(",") if s.strip()]

    def title(self, catalog: Catalog) -> str:
        """`annotations.summary`, else "<instance> 不可达" for a host-down rule, else "<alertname>：<instance>"."""
        summary = (self.annotations.get("summary") or self.annotations.get("title") or "").strip()
        if summary:
            return summary[:200]
        name, instance = self.labels.get("alertname", "").strip(), self.labels.get("instance", "").strip()
        if instance and _UNREACHABLE.search(name):
            return catalog.t("alert_title_down", instance=instance)[:200]
        if name and instance:
            return catalog.t("alert_title", alertname=name, instance=instance)[:200]
        return (name or instance or catalog.t("alert_title_unnamed"))[:200]

    def recovery(self, catalog: Catalog) -> str:
        """What came back: "<instance> 可达" for a host-down rule, else the alert's title."""
        name, instance = self.labels.get("alertname", "").strip(), self.labels.get("instance", "").strip()
        if instance and _UNREACHABLE.search(name):
            return catalog.t("alert_title_up", instance=instance)[:200]
        return self.title(catalog)


def receive(
    *, session: Session, alert: Alert, now: datetime, catalog: Catalog, declaring: frozenset[str] = DECLARING,
) -> tuple[Incident | None, Outcome]:
    """Act on one alert; returns its incident (None when ignored) and what happened. Flushes, never commits."""
    key = alert.key
    holder = _holder(session, key)
    if holder is not None and not _new_occurrence(holder, alert):
        return holder, _note(session, holder, alert, now, catalog)
    if not alert.declares(declaring):
        return None, "ignored"
    if holder is not None:
        holder.fingerprint = f"{key}~{holder.id}"  # the resolved incident keeps a trace; the key moves on
        session.flush()
    try:
        with session.begin_nested():
            incident = _declare(session, alert, key, now, catalog)
    except IntegrityError:
        # The same alert delivered twice at once, and the other delivery declared it first.
        holder = _holder(session, key)
        if holder is None:
            raise
        return holder, _note(session, holder, alert, now, catalog)
    return incident, "declared"


def _holder(session: Session, key: str) -> Incident | None:
    return session.scalars(select(Incident).where(Incident.fingerprint == key)).first()


def _new_occurrence(incident: Incident, alert: Alert) -> bool:
    """A firing alert whose incident is already resolved, and which started again since (or cannot say)."""
    if incident.status in OPEN_STATUSES or alert.status != "firing":
        return False
    return alert.starts_at is None or alert.starts_at != incident.started_at


def _declare(session: Session, alert: Alert, key: str, now: datetime, catalog: Catalog) -> Incident:
    region = alert.labels.get("region", "").strip() or None
    unknown = region is not None and session.get(Region, region) is None
    if unknown:
        region = None  # an unknown area must not stop the page: the speciality's root team answers
    incident = service.declare(
        session=session, title=alert.title(catalog), severity=alert.severity, source="alert", now=now,
        region_code=region, specialities=alert.specialities, started_at=alert.starts_at or now, detected_at=now,
        fingerprint=key)
    declared = session.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident.id,
                                                           IncidentEvent.kind == "declared")).one()
    declared.data = {**declared.data, "labels": dict(alert.labels), "fingerprint": key}  # a new dict: JSON column
    if unknown:  # said on the timeline, so the commander knows why every region is in it (a typo in the rule?)
        service.event(session, incident, "alert_region_unknown", now, data={"region": alert.labels["region"].strip()})
    service.link_reported_before(session=session, incident=incident, now=now)
    session.flush()
    return incident


def _note(session: Session, incident: Incident, alert: Alert, now: datetime, catalog: Catalog) -> Outcome:
    """A repeat or a recovery of the incident's alert, on its timeline (a recovery also told to the war-room)."""
    ends = alert.ends_at.isoformat() if alert.ends_at else None
    last = session.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident.id,
                                                       IncidentEvent.kind.in_(ALERT_EVENTS))
                           .order_by(IncidentEvent.id.desc()).limit(1)).first()
    if alert.status == "firing":
        ev = service.event(session, incident, "alert_repeat", now, body=alert.title(catalog),
                           data={"labels": dict(alert.labels),
                                 "starts_at": alert.starts_at.isoformat() if alert.starts_at else None})
        if last is not None and last.kind == "alert_resolved" and incident.status in OPEN_STATUSES:
            # The war-room heard it recover, and may be about to resolve: it is down again.
            service.tell_room(session=session, incident=incident, ev=ev, template="incident_alert_again", now=now,
                              params={"body": alert.title(catalog), "at_due": (alert.starts_at or now).isoformat()})
        return "updated"
    if last is not None and last.kind == "alert_resolved" and last.data.get("ends_at") == ends:
        return "recovered"  # Alertmanager sends a resolved alert again with its group: said once is enough
    body = alert.recovery(catalog)
    ev = service.event(session, incident, "alert_resolved", now, body=body,
                       data={"labels": dict(alert.labels), "ends_at": ends})
    if incident.status in OPEN_STATUSES:
        service.tell_room(session=session, incident=incident, ev=ev, template="incident_alert_recovered", now=now,
                          params={"body": body, "at_due": (alert.ends_at or now).isoformat()})
    return "recovered"
