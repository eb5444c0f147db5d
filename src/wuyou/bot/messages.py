"""The messages that cross the adapter line. No platform SDK type ever gets past them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ChatKind = Literal["direct", "group", "topic"]


@dataclass(frozen=True)
class Chat:
    kind: ChatKind = "direct"
    id: str = ""
    thread_id: str | None = None


@dataclass(frozen=True)
class Sender:
    platform_user_id: str
    display_name: str = ""
    org_unit: str = ""  # the platform's department for the sender (WeCom), a hint for binding strangers


@dataclass(frozen=True)
class Attachment:
    kind: str  # image / voice / file
    ref: str = ""  # the platform's media reference
    expires_at: str | None = None
    data: bytes | None = None  # the content, once the adapter has it
    name: str = ""
    content_type: str = ""


@dataclass(frozen=True)
class ReplyWindow:
    """How long the platform waits for a passive reply, and how many pushes it allows later."""

    sync_deadline_s: float | None = None
    push_window_s: float | None = None
    push_quota: int | None = None


@dataclass(frozen=True)
class Inbound:
    platform: str
    account: str
    sender: Sender
    text: str = ""
    chat: Chat = field(default_factory=Chat)
    dedup_key: str | None = None
    from_speech: bool = False
    attachments: tuple[Attachment, ...] = ()
    action: str | None = None
    window: ReplyWindow = field(default_factory=ReplyWindow)


@dataclass(frozen=True)
class Button:
    label: str
    action: str


@dataclass(frozen=True)
class Outbound:
    text: str
    buttons: tuple[Button, ...] = ()
    chat: Chat | None = None
    idempotency_key: str | None = None
