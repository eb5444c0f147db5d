"""The incidents API's request and response bodies (what its OpenAPI spec shows)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from wuyou.adapters.bounds import Moment
from wuyou.adapters.tickets_schemas import MAX_ID

Severity = Literal["SEV1", "SEV2", "SEV3"]
Status = Literal["active", "mitigated", "resolved", "closed"]
Role = Literal["commander", "comms", "tech_lead"]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


# --- what the API returns ---------------------------------------------------------------------------------------


class PersonOut(BaseModel):
    id: str
    name: str


class Roles(BaseModel):
    commander: PersonOut | None
    comms: PersonOut | None = Field(description="communications: sends the status updates")
    tech_lead: PersonOut | None


class Durations(BaseModel):
    """Minutes; null where the milestone has not been reached."""

    to_detect: int | None = Field(description="first report → offered to the duty lead (or declared)")
    to_declare: int | None = Field(description="first report → declared")
    to_assemble: int | None = Field(description="declared → the last paged on-call joined")
    to_mitigate: int | None = Field(description="first report → mitigated")
    to_resolve: int | None = Field(description="first report → resolved")
    since_declared: int | None = Field(description="declared → resolved")


class BranchOut(BaseModel):
    code: str
    name: str


class TicketOut(BaseModel):
    id: int
    title: str
    status: str
    priority: str
    branch: str | None
    reporter: PersonOut


class EventOut(BaseModel):
    id: int = Field(description="also the server-sent event id on /incidents/{ref}/events")
    at: datetime
    kind: str
    actor: PersonOut | None
    text: str = Field(description="the entry as the timeline shows it, in the request's language")
    body: str | None
    data: dict[str, Any]


class TaskOut(BaseModel):
    id: int
    title: str
    owner: PersonOut | None
    due_at: datetime | None
    done_at: datetime | None


class PageOut(BaseModel):
    """One step of an on-call chain: who was paged and whether they answered within the timer."""

    person: PersonOut
    team: str
    speciality: str
    step: int
    status: Literal["paging", "acked", "missed", "cancelled"]
    paged_at: datetime
    due_at: datetime
    acked_at: datetime | None


class Links(BaseModel):
    board: str = Field(description="the live war-room page")
    events: str = Field(description="the timeline as server-sent events")
    report: str
    report_md: str


class IncidentOut(BaseModel):
    """An incident as listed."""

    id: str = Field(examples=["INC-7"])
    number: int = Field(examples=[7])
    title: str
    severity: Severity
    status: Status
    source: str = Field(description="chat, surge, auto, ticket, console or alert")
    declared_at: datetime
    resolved_at: datetime | None


class IncidentDetail(IncidentOut):
    """An incident with everything about it. For a reporter's token: only their branch's tickets, the public
    part of the timeline (declaration, status updates, mitigation, resolution), no tasks or pages."""

    roles: Roles
    specialities: list[str]
    region: str | None
    category: str | None
    summary: str | None = Field(description="the resolution")
    started_at: datetime
    detected_at: datetime | None
    assembled_at: datetime | None
    mitigated_at: datetime | None
    closed_at: datetime | None
    next_update_at: datetime | None = Field(description="when the next status update is due")
    durations: Durations
    branches: list[BranchOut]
    tickets: list[TicketOut]
    unlinked_alike: list[TicketOut] = Field(default_factory=list, description="staff, while it is open: tickets of "
                                            "its category from its time not linked to it (most likely the same "
                                            "fault: link them with the `link` action)")
    timeline: list[EventOut]
    tasks: list[TaskOut]
    pages: list[PageOut]
    links: Links


class IncidentList(BaseModel):
    items: list[IncidentOut]
    total: int
    limit: int
    offset: int


class ActionOut(BaseModel):
    """What the action did, as the chat would have answered it, and the incident as it now stands."""

    message: str = Field(examples=["已通报：作战室 + 7 位报修人（7 个网点）"])
    incident: IncidentDetail


# --- what the API takes -----------------------------------------------------------------------------------------


class DeclareIn(BaseModel):
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    severity: Severity = "SEV2"
    tickets: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(default_factory=list, max_length=500,
                               description="ticket numbers to link (within the caller's scope)")
    specialities: list[str] = Field(default_factory=list, max_length=20,
                                    description="on-call to page besides the tickets' category's (`network` …)")


class UpdateIn(BaseModel):
    """A status update, broadcast to the war-room and to every affected reporter (commander, comms, tech lead)."""

    action: Literal["update"]
    text: Text


class NoteIn(BaseModel):
    """A remark on the timeline, relayed to the war-room (anyone of the staff)."""

    action: Literal["note"]
    text: Text


class JoinIn(BaseModel):
    """Join the war-room; answers one's on-call page."""

    action: Literal["join"]


class RoleIn(BaseModel):
    action: Literal["role"]
    role: Role
    person: str = Field(description="a person id")


class TaskIn(BaseModel):
    action: Literal["task"]
    text: Text
    owner: str | None = Field(default=None, description="a person id; they are told")
    due: Moment | None = Field(default=None, description="without an offset: the desk's local time")


class TaskDoneIn(BaseModel):
    action: Literal["task_done"]
    task: Annotated[int, Field(ge=1, le=MAX_ID)]


class SeverityIn(BaseModel):
    action: Literal["sev"]
    severity: Severity


class MitigateIn(BaseModel):
    """Service restored by a workaround, cause still being fixed."""

    action: Literal["mitigate"]
    text: str = Field(default="", max_length=4000)


class ResolveIn(BaseModel):
    """Resolve the incident and every open linked ticket with this summary; everyone is told."""

    action: Literal["resolve"]
    text: Text


class CloseIn(BaseModel):
    """Close a resolved incident (its live page stops)."""

    action: Literal["close"]


class PageMoreIn(BaseModel):
    action: Literal["page"]
    target: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] = Field(
        description="a speciality, a team code or a person")


class SubscribeIn(BaseModel):
    action: Literal["subscribe"]


class LinkIn(BaseModel):
    """Tickets found to be about the incident after it was declared (the detail's `unlinked_alike` suggests
    them): linked, their reporters told, resolved with it. Only tickets the caller may work on."""

    action: Literal["link"]
    tickets: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(min_length=1, max_length=200)


class UnlinkIn(BaseModel):
    """Tickets linked by mistake: no longer the incident's (its resolution will not resolve them); their reporters
    are told. Only tickets the caller may work on."""

    action: Literal["unlink"]
    tickets: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(min_length=1, max_length=200)


Action = (UpdateIn | NoteIn | JoinIn | RoleIn | TaskIn | TaskDoneIn | SeverityIn | MitigateIn | ResolveIn | CloseIn
          | PageMoreIn | SubscribeIn | LinkIn | UnlinkIn)
ActionIn = Annotated[Action, Field(discriminator="action")]
