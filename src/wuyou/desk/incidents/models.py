"""Tables of major incidents: fault reports and surge offers, incidents with their links, participants,
timeline and tasks, and the on-call pages that assemble the responders."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wuyou.db import Base, UTCDateTime, utcnow
from wuyou.desk.models import Category, ChainStep, Person

SEVERITIES = ("SEV1", "SEV2", "SEV3")
STATUSES = ("active", "mitigated", "resolved", "closed")
OPEN_STATUSES = ("active", "mitigated")


class FaultReport(Base):
    """A reporter's first message about a fault, whether or not it becomes a ticket (surge detection's input)."""

    __tablename__ = "fault_reports"
    __table_args__ = (Index("ix_fault_reports_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    branch_code: Mapped[str | None] = mapped_column(ForeignKey("branches.code"))
    text: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(32))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("surge_offers.id"))
    # The catalog leaf it is most likely about (its ticket's, else the best KB suggestion's category).
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))

    person: Mapped[Person] = relationship(lazy="joined")


class SurgeOffer(Base):
    """"Declare a major incident?" put to the duty lead for one group of similar reports."""

    __tablename__ = "surge_offers"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_key: Mapped[int] = mapped_column(unique=True)  # the group's first report: one offer per group
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="offered")  # offered / declared / dismissed / withdrawn
    title: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(8))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    report_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    branches: Mapped[list[str]] = mapped_column(JSON, default=list)
    leads: Mapped[list[str]] = mapped_column(JSON, default=list)  # who was asked
    dismissed_by_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"))
    suppressed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))


class Incident(Base):
    """A major incident, quoted as INC-<id>."""

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="active")
    source: Mapped[str] = mapped_column(String(16))  # chat / surge / auto / ticket / console / alert
    fingerprint: Mapped[str | None] = mapped_column(String(200), unique=True)  # alerts: dedup key
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))  # affected area, if known
    specialities: Mapped[list[str]] = mapped_column(JSON, default=list)  # on-call teams to assemble
    summary: Mapped[str | None] = mapped_column(Text)  # the resolution
    commander_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"))
    comms_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"))
    tech_lead_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"))
    declared_by_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the first report or the alert's start
    detected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # offered to the duty lead
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    assembled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mitigated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_update_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # status update reminder
    war_room: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # platform → group / topic id

    category: Mapped[Category | None] = relationship(lazy="joined")
    commander: Mapped[Person | None] = relationship(foreign_keys=[commander_id], lazy="joined")
    comms: Mapped[Person | None] = relationship(foreign_keys=[comms_id], lazy="joined")
    tech_lead: Mapped[Person | None] = relationship(foreign_keys=[tech_lead_id], lazy="joined")

    @property
    def ref(self) -> str:
        return f"INC-{self.id}"


class IncidentLink(Base):
    """A ticket (and its reporter and branch) linked to an incident; status updates reach its reporter."""

    __tablename__ = "incident_links"
    __table_args__ = (UniqueConstraint("incident_id", "ticket_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class IncidentMember(Base):
    """Someone in the war-room (a role, a paged or joined responder) or subscribed to its updates."""

    __tablename__ = "incident_members"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # responder / subscriber
    speciality: Mapped[str | None] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    person: Mapped[Person] = relationship(lazy="joined")


class IncidentEvent(Base):
    """One entry of the incident's timeline."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"))
    kind: Mapped[str] = mapped_column(String(32))
    body: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[Person | None] = relationship(lazy="joined")


class IncidentTask(Base):
    """A follow-up with an owner and a due time."""

    __tablename__ = "incident_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    title: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    owner: Mapped[Person | None] = relationship(lazy="joined")


class Page(ChainStep, Base):
    """One step of a team's on-call chain for an incident's speciality: this person was paged and must acknowledge
    before `due_at`."""

    __tablename__ = "pages"
    __table_args__ = (Index("ix_pages_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    speciality: Mapped[str] = mapped_column(String(64))


class OncallOverride(Base):
    """Someone first in a team's on-call order for a while (a swap, a holiday cover)."""

    __tablename__ = "oncall_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_code: Mapped[str] = mapped_column(ForeignKey("teams.code"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(16), default="chat")  # file (replaced on import) / chat / api
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"))

    person: Mapped[Person] = relationship(foreign_keys=[person_id], lazy="joined")
