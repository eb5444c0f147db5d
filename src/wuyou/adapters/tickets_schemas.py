"""What the ticket-working API takes and gives (request bodies, queues)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

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
