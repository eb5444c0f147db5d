"""The messages that cross the adapter line. No platform SDK type ever gets past them."""

from __future__ import annotations

import threading
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


class PassiveReply:
    """Who answers a message whose platform waits a few seconds for the answer (WeChat): the adapter, passively,
    if the engine commits before the adapter gives up waiting; else the engine, through the outbox, in the same
    transaction as the message's effects — so that no instant exists where the answer could be lost."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = "waiting"  # → "passive" (the engine committed in time) or "gave_up" (the adapter stopped)

    def engine_must_push(self) -> bool:
        """Called by the engine just before it commits: True when the adapter has given up waiting."""
        with self._lock:
            if self._state == "waiting":
                self._state = "passive"
            return self._state == "gave_up"

    def give_up(self) -> bool:
        """Called by the adapter when its time is up: True when the engine will push the answer itself; False
        when the engine is already committing an answer for the adapter to give passively."""
        with self._lock:
            if self._state == "waiting":
                self._state = "gave_up"
            return self._state == "gave_up"


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
    passive: PassiveReply | None = field(default=None, compare=False)


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
