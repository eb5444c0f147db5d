"""Per-person dialogue state, kept in the database row of the person's conversation (`desk.conversations`)."""

from __future__ import annotations

from copy import copy
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from wuyou.bot.messages import Chat
from wuyou.desk.conversations import Held
from wuyou.desk.models import Conversation

TTL_SECONDS = 30 * 60  # a suggestion or ticket dialogue lapses after 30 minutes of silence


@dataclass
class Dialogue:
    """Where a person is in a conversation. `step` is empty when nothing is under way."""

    step: str = ""
    text: str = ""  # the report that started it
    offered: list[str] = field(default_factory=list)  # KB articles offered, best first
    viewed: str | None = None
    category_id: int | None = None
    urgency: int | None = None
    pending_command: str | None = None  # a suggested command that "1" would run
    ticket: int | None = None
    choices: list[str] = field(default_factory=list)  # commands that "1", "2", … would run
    replying_to: int | None = None  # the next message is a reply to this ticket's reporter
    attachments: list[int] = field(default_factory=list)  # staged attachments for the ticket to come
    report: int | None = None  # the fault report (surge detection) the dialogue started from
    suggestion: int | None = None  # the suggestion session (KB deflection) the dialogue is in
    draft: dict[str, Any] | None = None  # a notice waiting for its sender's "1"
    described: bool = False  # the report came with its description (the ticket needs no more words)
    helped: list[str] | None = None  # [article id, ISO time]: an offered article the reporter solved a problem with
    incident: int | None = None  # an open incident of the reporter's area offered with the category ("是" joins it)
    chat: str | None = None  # the group it is under way in, "" for 1:1 (`chat_of`; staff's words in a war-room
    #                           elsewhere are the incident's)


_IDLE = Dialogue()
_FIELDS = tuple(f.name for f in fields(Dialogue))


def load(row: Conversation | Held, *, now: datetime) -> Dialogue:
    """The dialogue kept in the person's conversation row; a fresh one when it lapsed or cannot be read."""
    if not row.state or row.updated_at < now - timedelta(seconds=TTL_SECONDS):
        return Dialogue()
    try:
        return Dialogue(**{k: v for k, v in row.state.items() if k in Dialogue.__dataclass_fields__})
    except (ValueError, TypeError):
        return Dialogue()  # unreadable state from an older version: start afresh


def chat_of(chat: Chat) -> str:
    """A chat as `Dialogue.chat` names it: a group's (or topic's) id, "" for the person's own chats with the bot."""
    return "" if chat.kind == "direct" else f"{chat.id or ''}:{chat.thread_id or ''}"


def note_chat(dialogue: Dialogue, chat: Chat) -> None:
    """After a message: the chat a dialogue under way is in (the one it began in), none for an idle one."""
    if not dialogue.step:
        dialogue.chat = None
    elif dialogue.chat is None:
        dialogue.chat = chat_of(chat)


def save(row: Conversation | Held, dialogue: Dialogue, *, now: datetime) -> None:
    """Write the dialogue into the row (the caller's commit keeps it with the message's effects)."""
    state = {} if dialogue == _IDLE else {name: copy(getattr(dialogue, name)) for name in _FIELDS}
    if state or row.state:  # a dialogue under way is written (and its time renewed); an idle one left alone
        row.state = state
        row.updated_at = now
