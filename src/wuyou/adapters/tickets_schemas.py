"""What the ticket-working API takes and gives (request bodies, queues)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel as _Model
from pydantic import ConfigDict, Field

from wuyou.adapters.bounds import AwareMoment

MAX_ID = 2_147_483_647  # a 32-bit INTEGER column: a larger number can name no ticket
TicketId = Annotated[int, Path(ge=1, le=MAX_ID, description="the ticket's number")]

Short = Field(min_length=1, max_length=2000)


class BaseModel(_Model):
    """Texts read without their surrounding spaces: a summary, a note or a reason of spaces alone is refused as an
    empty one is (it resolved a ticket with 解决说明 “ ” and told the reporter so)."""

    model_config = ConfigDict(str_strip_whitespace=True)


class NewTicket(BaseModel):
    description: str = Field(min_length=1, max_length=4000, description="what is wrong, in the reporter's words")
    title: str | None = Field(default=None, max_length=200, description="defaults to the description's start")
    category: str | None = Field(default=None, max_length=200,
                                 description="a leaf category: `终端设备/打印机` (or `终端设备 › 打印机`)")
    urgency: int = Field(default=1, ge=1, le=3, description="1 normal, 2 business affected, 3 branch stopped")
    priority: Literal["P1", "P2", "P3", "P4"] | None = Field(default=None, description="staff only")
    reporter: str | None = Field(default=None, max_length=64, description="staff: open it for this reporter")


class Reason(BaseModel):
    reason: str = Field(default="", max_length=2000)


class Transfer(BaseModel):
    target: str = Field(min_length=1, max_length=64, description="a team code or an engineer's id")
    reason: str = Field(default="", max_length=500, description="why: told to those it goes to, on the timeline")


class Resolve(BaseModel):
    summary: str = Short


class Reply(BaseModel):
    text: str = Short


class Ask(BaseModel):
    question: str = Short


class Hold(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, description="why it waits (a vendor, parts, a visit): the "
                        "reporter is told")
    until: AwareMoment | None = Field(default=None, description="when the hold ends, with its time zone; without "
                                        "it, when the branch's business hours open on its next day")


class Text(BaseModel):
    text: str = Short


class Info(BaseModel):
    text: str = Short


class Priority(BaseModel):
    priority: Literal["P1", "P2", "P3", "P4"]


class CategoryChange(BaseModel):
    category: str | None = Field(max_length=200,
                                 description="a catalog leaf by path (终端设备/打印机) or name (打印机); null: none")


class Merge(BaseModel):
    into: int = Field(ge=1, le=MAX_ID, description="the main ticket's number")


class Rate(BaseModel):
    rating: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=2000)


class QueueItem(BaseModel):
    id: int
    title: str
    priority: str
    status: str
    branch: str | None = Field(description="the branch's name")
    category: str | None = Field(description="the category's path")
    team: str | None = Field(description="the team's name")
    assignee: str | None = Field(description="the engineer's name; null when unclaimed")
    created_at: datetime
    response_due: datetime | None = Field(description="the running response clock's target")
    resolution_due: datetime | None = Field(description="the running resolution clock's target")
    breached: bool = Field(description="a running clock has passed its target")
    tags: list[str] = Field(default_factory=list, description="the ticket's tags (报修人着急: the reporter is upset)")


class Queue(BaseModel):
    total: int
    items: list[QueueItem]


class Queues(BaseModel):
    mine: Queue
    team: Queue
    unclaimed: Queue
    breaching: Queue


# --- what the ticket API gives (documented in the spec; the routes build the same shapes) -------------------------

def _moment(description: str = "") -> Any:
    """An ISO 8601 time with its offset (UTC, `+00:00`), as the routes write it."""
    return Field(json_schema_extra={"format": "date-time"}, description=description or None)


class TimelineEntry(_Model):
    at: str = _moment()
    kind: str = Field(description="created, routed, claimed, comment, asked, held, resolved, note, sla_breach, …")
    actor: str | None = Field(description="who did it (a person's id); null for the desk itself")
    actor_name: str | None
    body: str | None = Field(description="what was said or done, in words")
    data: dict[str, Any] = Field(description="the entry's facts (ids, times, counts)")
    public: bool = Field(description="false: internal (notes, SLA clocks), shown only to staff serving the ticket")


class TicketDetail(_Model):
    """A ticket as the caller may see it: staff serving it see everything, its reporter the public part."""

    id: int
    status: str = Field(description="new, claimed, in_progress, waiting, on_hold, resolved, closed, reopened, "
                                    "cancelled, merged")
    priority: str = Field(description="P1–P4")
    urgency: int = Field(description="1 normal, 2 business affected, 3 branch stopped")
    title: str
    description: str
    category: str | None = Field(description="`终端设备 › 打印机`; null: uncategorised")
    branch: str | None
    branch_name: str | None
    branch_address: str | None
    branch_phone: str | None
    reporter: str
    reporter_name: str
    reporter_phone: str | None = Field(description="for staff serving the ticket and the reporter themselves")
    team: str | None
    team_name: str | None
    assignee: str | None
    assignee_name: str | None
    resolution: str | None
    rating: int | None
    rating_comment: str | None
    tags: list[str]
    parent: int | None
    merged_into: int | None
    children: list[int]
    follows: int | None = Field(description="the earlier ticket this one reports again")
    followed_by: list[int]
    followers: list[str] = Field(description="others who reported the same fault and hear of it")
    waiting_since: str | None = _moment("asked the reporter or on hold since")
    hold_until: str | None = _moment()
    hold_reason: str | None
    chase_count: int
    response_due: str | None = _moment("the running response clock's due time; null when stopped or paused")
    resolution_due: str | None = _moment("the running resolution clock's due time; null when stopped or paused")
    created_at: str = _moment()
    updated_at: str = _moment("its timeline's latest entry the caller may see")
    claimed_at: str | None = _moment("when its present holder claimed it; null while nobody holds it")
    resolved_at: str | None = _moment("when it was resolved; null again once reopened")
    closed_at: str | None = _moment()
    response_met: bool | None = Field(description="the response SLA's verdict; null while it runs")
    resolution_met: bool | None = Field(description="the resolution SLA's verdict; null while it runs")
    reopen_count: int
    channel: str = Field(description="where it was reported: wechat, wecom, telegram, http, api, console, …")
    timeline: list[TimelineEntry]


class TicketListItem(_Model):
    id: int
    status: str
    priority: str
    title: str
    category: str | None
    branch: str | None
    branch_name: str | None
    reporter: str
    reporter_name: str
    team: str | None
    team_name: str | None
    assignee: str | None
    assignee_name: str | None
    created_at: str = _moment()


class TicketList(_Model):
    items: list[TicketListItem]
    total: int = Field(description="how many match, over all pages")
    limit: int
    offset: int
