"""The desk's tables: the org directory, tickets with their timeline, and the outbox."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from wuyou.db import Base, UTCDateTime, utcnow


class Region(Base):
    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))
    position: Mapped[int] = mapped_column(default=0)


class Branch(Base):
    __tablename__ = "branches"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    hours: Mapped[str | None] = mapped_column(String(200))
    # Catalog leaves the branch has equipment of ("POS机", "身份证读卡器"): whom a notice about them reaches.
    equipment: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    address: Mapped[str | None] = mapped_column(String(300))  # for engineers going on site
    phone: Mapped[str | None] = mapped_column(String(64))


class CannedReply(Base):
    """A canned reply (常用语): an answer engineers give often, used by name (`::重启`); a team's or everyone's."""

    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    text: Mapped[str] = mapped_column(Text)
    team_code: Mapped[str | None] = mapped_column(ForeignKey("teams.code", use_alter=True))
    position: Mapped[int] = mapped_column(default=0)


class Category(Base):
    """A node of the two-level catalog; leaves carry a speciality and a default priority."""

    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("parent_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    name: Mapped[str] = mapped_column(String(200))
    speciality: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[str | None] = mapped_column(String(8))
    team_code: Mapped[str | None] = mapped_column(ForeignKey("teams.code", use_alter=True))  # overrides routing
    # Further specialities whose on-call an incident of this category pages (医保接口: also network).
    page: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    # What the bot asks a reporter of this category to describe ("POS 终端号（机身背面）和屏幕上的提示").
    ask: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(default=0)
    # A leaf taken out of use (`retired: true` in the file, 停用 in the console): no longer offered to reporters or
    # matched, kept for the tickets, rules and reports that name it.
    retired: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))

    parent: Mapped[Category | None] = relationship(remote_side=[id], lazy="joined")

    @property
    def path(self) -> str:
        """`终端设备 › 打印机` for a leaf, the bare name for a top-level node."""
        return f"{self.parent.name} › {self.name}" if self.parent else self.name


class Person(Base):
    __tablename__ = "people"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))  # reporter / engineer / lead / admin
    branch_code: Mapped[str | None] = mapped_column(ForeignKey("branches.code"))
    locale: Mapped[str] = mapped_column(String(16), default="zh-CN")
    active: Mapped[bool] = mapped_column(default=True)
    phone: Mapped[str | None] = mapped_column(String(64))  # for engineers to call (staff see it on the ticket)
    password_hash: Mapped[str | None] = mapped_column(String(200))  # console sign-in; scrypt, never the password

    branch: Mapped[Branch | None] = relationship(lazy="joined")
    # Leave, holidays, training days — past, in force and planned (`desk.absences`). Loaded on first use, or for a
    # whole team at once where people are passed by in a loop (`org.team_members`, the on-call chain).
    absences: Mapped[list[Absence]] = relationship(back_populates="person", order_by="Absence.starts_at",
                                                   cascade="all, delete-orphan")


class Absence(Base):
    """A time a staff member is away (leave, a holiday, a training day): not paged, not auto-assigned, not sent
    new-ticket cards (`absences.present`). Ended early, `ends_at` becomes the time they came back."""

    __tablename__ = "absences"
    __table_args__ = (Index("ix_absences_person_ends", "person_id", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(String(64))  # who entered it (themselves, their lead, HR's token)

    person: Mapped[Person] = relationship(back_populates="absences")


class ApiToken(Base):
    """A personal API token; only its SHA-256 is stored, the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEvent(Base):
    """One entry of the audit trail: a change to the desk's configuration or to who may do what (org, catalog,
    routing, SLA, hours, webhooks, tokens, passwords), or a sign-in, with its outcome. Never a secret."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[str | None] = mapped_column(String(100))  # who acted, or who was claimed at a sign-in
    action: Mapped[str] = mapped_column(String(200))  # "PUT /api/v1/routing-rules", "cli token create", ...
    target: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[int] = mapped_column(Integer)  # the HTTP status, or 0 for a command-line change
    request_id: Mapped[str | None] = mapped_column(String(64))
    client: Mapped[str | None] = mapped_column(String(100))


class Identity(Base):
    """A person's account on one chat platform (`http`, `wechat`, `wecom`, `telegram`, ...)."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(200))
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)


class Team(Base):
    __tablename__ = "teams"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    speciality: Mapped[str] = mapped_column(String(64))
    lead_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"))
    hours: Mapped[str | None] = mapped_column(String(200))  # the team's business hours, if not the branch's
    oncall_rotation: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # {every, handover[, start]}


class TeamMember(Base):
    __tablename__ = "team_members"

    team_code: Mapped[str] = mapped_column(ForeignKey("teams.code"), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)
    oncall_position: Mapped[int | None] = mapped_column(Integer)
    last_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # for round-robin assignment


# What the reports' summary reads of the tickets created / resolved in a range (index-only scans on PostgreSQL).
CREATED_INCLUDE = ["first_claimed_at", "response_met"]
RESOLVED_INCLUDE = ["created_at", "reopen_count", "resolution_met", "rating", "first_contact"]


HELD_STATUSES = ("claimed", "in_progress", "waiting", "on_hold", "reopened")  # a ticket's, with an assignee


class Ticket(Base):
    """A reported fault. Its id is the number people quote (#1024); numbering starts at 1001."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_team_status", "team_code", "status"),
        Index("ix_tickets_reporter_status", "reporter_id", "status"),
        Index("ix_tickets_assignee_status", "assignee_id", "status"),
        # The reports: a date range by creation or by resolution, alone or within a branch scope.
        # On PostgreSQL they also carry what the summary reads, which then needs no table access.
        Index("ix_tickets_created_at", "created_at", postgresql_include=[*CREATED_INCLUDE, "branch_code"]),
        Index("ix_tickets_resolved_at", "resolved_at", postgresql_include=[*RESOLVED_INCLUDE, "branch_code"]),
        Index("ix_tickets_branch_created", "branch_code", "created_at", postgresql_include=CREATED_INCLUDE),
        Index("ix_tickets_branch_resolved", "branch_code", "resolved_at", postgresql_include=RESOLVED_INCLUDE),
        Index("ix_tickets_status", "status"),
        Index("ix_tickets_chat", "chat_id", "created_at"),  # a group chat's open tickets (bot.groups)
        # The trend's tickets that ended without a resolution (cancelled, merged), by when they were closed.
        Index("ix_tickets_closed_unresolved", "closed_at", postgresql_where=text("resolved_at IS NULL"),
              sqlite_where=text("resolved_at IS NULL")),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reporter_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    branch_code: Mapped[str | None] = mapped_column(ForeignKey("branches.code"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    priority: Mapped[str] = mapped_column(String(8))
    urgency: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(16))
    team_code: Mapped[str | None] = mapped_column(ForeignKey("teams.code"))
    assignee_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[str | None] = mapped_column(String(200))
    chat_thread: Mapped[str | None] = mapped_column(String(64))  # its forum topic, where its news go
    kb_offered: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # by its engineer now (None again after a
    # release, a transfer or a reopen); the first claim ever is the ticket's first response, kept for the reports
    first_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str | None] = mapped_column(Text)
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    reopen_count: Mapped[int] = mapped_column(default=0)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))  # parent/child links
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))  # a duplicate's main ticket
    # The earlier ticket of the reporter this one reports again, past the time it could be reopened.
    follows_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)  # asked the reporter / on hold: clock paused
    hold_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # on hold (a vendor, parts, a visit) until
    hold_reason: Mapped[str | None] = mapped_column(Text)
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the assignee's last action
    last_chased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # unclaimed-ticket reminder
    chase_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # The verdicts of the ticket's last stopped SLA clocks (None: none yet), written with the clock in the same
    # transaction, so that the reports count SLA compliance in the same scan as everything else.
    response_met: Mapped[bool | None] = mapped_column(Boolean)
    resolution_met: Mapped[bool | None] = mapped_column(Boolean)
    # Resolved at first contact (tickets.first_contact), judged when an engineer resolves it; None otherwise.
    first_contact: Mapped[bool | None] = mapped_column(Boolean)

    reporter: Mapped[Person] = relationship(foreign_keys=[reporter_id], lazy="joined")
    assignee: Mapped[Person | None] = relationship(foreign_keys=[assignee_id], lazy="joined")
    branch: Mapped[Branch | None] = relationship(lazy="joined")
    category: Mapped[Category | None] = relationship(lazy="joined")
    team: Mapped[Team | None] = relationship(lazy="joined")


class TicketEvent(Base):
    """One entry of a ticket's timeline: who did what, when."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"))
    kind: Mapped[str] = mapped_column(String(32))
    body: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    public: Mapped[bool] = mapped_column(default=True)


class Attachment(Base):
    """An image, voice message or file sent with a report; `ticket_id` is empty while a dialogue is
    still collecting it (staged), and set when the ticket exists."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_events.id"))
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    kind: Mapped[str] = mapped_column(String(16))  # image / voice / file
    name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))  # the content's name in the media store
    speech_text: Mapped[str | None] = mapped_column(Text)  # a voice message's recognised text
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TicketFollower(Base):
    """Someone told about a ticket's progress besides its reporter (the reporter of a merged duplicate)."""

    __tablename__ = "ticket_followers"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), primary_key=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship(lazy="joined")


class SlaPolicy(Base):
    """Response (claim) and resolution targets in business time. The first policy (by position) whose
    priority and conditions (the routing rules' conditions: category, branch, region, ...) match applies."""

    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(default=0)
    priority: Mapped[str | None] = mapped_column(String(8))  # None: any priority
    conditions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    response_minutes: Mapped[int] = mapped_column(Integer)
    resolution_minutes: Mapped[int] = mapped_column(Integer)
    warn_percent: Mapped[int] = mapped_column(default=80)
    calendar: Mapped[str] = mapped_column(String(16), default="branch")  # branch (else team, else desk) / 7x24
    # Whether a ticket on hold (a vendor, parts, a visit) stops its resolution clock, as a question to the reporter
    # does ("pause"), or the wait counts against the target ("run").
    on_hold: Mapped[str] = mapped_column(String(8), default="pause", server_default="pause")


class CalendarDay(Base):
    """A day the desk itself closes (a company closure, a year's holidays before the calendar package has them) or
    opens (a make-up workday): every business calendar but 7×24 follows it, before the statutory calendar — the
    whole desk's (`region_code` "") or one region's and the regions below it (a typhoon closes one city)."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(64), primary_key=True, default="", server_default="")
    kind: Mapped[str] = mapped_column(String(8))  # holiday (closed) / workday (open with workday hours)
    name: Mapped[str] = mapped_column(String(80), default="")
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RoutingRule(Base):
    """If a new ticket matches `conditions`, apply `actions` (team, priority, assignee, tags, notify).
    Rules run in `position` order, each seeing what earlier ones set; `stop` ends the run."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(200))
    conditions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(default=True)
    stop: Mapped[bool] = mapped_column(default=False)


class SlaClock(Base):
    """One running target of one ticket: `response` until claimed, `resolution` until resolved.

    Business time already used is `consumed_seconds` plus what has passed since `running_since`;
    waiting on the reporter pauses it. `next_check_at` is when the worker must look again (a warning,
    a breach or an escalation is due), so checking is one indexed query however many tickets are open.
    """

    __tablename__ = "sla_clocks"
    __table_args__ = (Index("ix_sla_clocks_state_next", "state", "next_check_at"),
                      Index("ix_sla_clocks_stopped_at", "stopped_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # response / resolution
    policy: Mapped[str] = mapped_column(String(100))
    hours: Mapped[str] = mapped_column(String(200))  # the business hours it counts in ("7x24" or weekly hours)
    timezone: Mapped[str] = mapped_column(String(64))
    target_seconds: Mapped[int] = mapped_column(Integer)
    warn_percent: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    running_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consumed_seconds: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16))  # running / paused / stopped
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalation_level: Mapped[int] = mapped_column(default=0)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    met: Mapped[bool | None] = mapped_column()
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ChainStep:
    """The columns of one step of a team's on-call chain, for the pages of incidents and of P1 tickets alike: this
    person (`step` in `chain`) was paged for the team and must answer before `due_at`."""

    team_code: Mapped[str] = mapped_column(ForeignKey("teams.code"))
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    step: Mapped[int] = mapped_column(Integer)  # 0 = first in the chain
    chain: Mapped[list[str]] = mapped_column(JSON, default=list)  # the whole chain, in order
    paged_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="paging")  # paging / acked / missed / cancelled
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @declared_attr
    def person(cls) -> Mapped[Person]:
        return relationship(lazy="joined")


class TicketPage(ChainStep, Base):
    """One step of a team's on-call chain for a P1 ticket nobody of the team is at work to see (out of its hours):
    this person was paged and must claim the ticket before `due_at`, or the next in the chain is paged."""

    __tablename__ = "ticket_pages"
    __table_args__ = (Index("ix_ticket_pages_status_due", "status", "due_at"),
                      Index("ix_ticket_pages_person_id", "person_id"))  # (whose page a "收到" answers)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)


class OutboxMessage(Base):
    """A notification to one person, written in the transaction of the change that caused it — or, with no person,
    to an account the directory does not know (`platform`, `address`: a binding request refused)."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    person_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"))
    platform: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(200))
    template: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    buttons: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending / sent / dead
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class SuggestionSession(Base):
    """One time the bot offered knowledge-base articles, and how it ended: the deflection measure."""

    __tablename__ = "suggestion_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    branch_code: Mapped[str | None] = mapped_column(ForeignKey("branches.code"))
    channel: Mapped[str] = mapped_column(String(32))
    query: Mapped[str] = mapped_column(Text)
    offered: Mapped[list[str]] = mapped_column(JSON, default=list)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    outcome: Mapped[str] = mapped_column(String(16), default="open")  # open / solved / ticket / abandoned
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    article_id: Mapped[str | None] = mapped_column(String(64))  # the article that solved it


class Conversation(Base):
    """Where a person is in their dialogue with the bot (the bot's state, as JSON). Kept in the database, in the
    transaction of the message that changed it, so that a crash or a lost Redis never splits the two; its row is
    also the per-person lock that makes one person's messages take turns across every server process."""

    __tablename__ = "conversations"

    person_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Receipt(Base):
    """An inbound message the desk has acted on, by its platform delivery id, with the replies it got: a
    redelivery (the platform's retry, a client retrying after a crash) gets the same answer and no second effect.
    `answered` is claimed by whoever delivers the answer when the first attempt could not (a late WeChat reply)."""

    __tablename__ = "receipts"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of platform/account/sender/id
    replies: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    answered: Mapped[bool] = mapped_column(Boolean, default=False)
