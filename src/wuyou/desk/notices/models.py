"""Tables of announcements: the notice, one row per person it reaches (with their acknowledgement), and the
maintenance window a maintenance notice announces."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wuyou.db import Base, UTCDateTime

KINDS = ("maintenance", "release", "precaution", "general")
STATUSES = ("scheduled", "sent", "cancelled")


class Notice(Base):
    """What the desk tells branches before they have to ask. `audience` says who: region codes (with every
    region below), branch codes and catalog leaves (the branches that have that equipment); empty: everyone."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_status_send_at", "status", "send_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="general")
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    important: Mapped[bool] = mapped_column(Boolean, default=False)  # acknowledgements chased
    audience: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    author_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    send_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    remind_after_minutes: Mapped[int | None] = mapped_column()  # important notices: chase branches this late
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    window: Mapped[MaintenanceWindow | None] = relationship(back_populates="notice", lazy="joined", uselist=False)


class NoticeRecipient(Base):
    """One person a notice reaches, the branch they were reached for, and when they said 收到."""

    __tablename__ = "notice_recipients"
    __table_args__ = (Index("ix_notice_recipients_person_acked", "person_id", "acked_at"),)

    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), primary_key=True)
    branch_code: Mapped[str | None] = mapped_column(ForeignKey("branches.code"), index=True)
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MaintenanceWindow(Base):
    """A system announced as down for planned work: reports about it in the window are answered with the
    window instead of opening a ticket, and are not counted as a surge."""

    __tablename__ = "maintenance_windows"
    __table_args__ = (Index("ix_maintenance_windows_ends_at", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), unique=True)
    system: Mapped[str] = mapped_column(String(100))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)  # other names people use for it
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)

    notice: Mapped[Notice] = relationship(back_populates="window")
