"""Per-person dialogue state, kept in the database row of the person's conversation (`desk.conversations`)."""

from __future__ import annotations

import secrets
from copy import copy
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import Any

from wuyou.bot.messages import Button, Chat, Outbound
from wuyou.desk.conversations import Held
from wuyou.desk.models import Conversation

TTL_SECONDS = 30 * 60  # a suggestion or ticket dialogue lapses after 30 minutes of silence
PARKED = "parked"  # in a conversation row's state: the dialogues under way in the person's other chats, by `chat_of`
PARKED_KEPT = 5  # other chats' dialogues kept waiting at once (the one left longest is dropped beyond)

Parked = dict[str, dict[str, Any]]


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
    chat: str | None = None  # the chat it is under way in, "" for 1:1 (`chat_of`): a message in another chat parks
    #                           it there (`open_in`)
    asked: str | None = None  # what this dialogue's buttons carry (`stamp`): a button of an earlier one is stale


_IDLE = Dialogue()
_FIELDS = tuple(f.name for f in fields(Dialogue))


def load(row: Conversation | Held, *, now: datetime) -> Dialogue:
    """The dialogue kept in the person's conversation row; a fresh one when it lapsed or cannot be read."""
    if not row.state or row.updated_at < now - timedelta(seconds=TTL_SECONDS):
        return Dialogue()
    return _read(row.state)


def _read(state: dict[str, Any]) -> Dialogue:
    try:
        return Dialogue(**{k: v for k, v in state.items() if k in Dialogue.__dataclass_fields__})
    except (ValueError, TypeError):
        return Dialogue()  # unreadable state from an older version: start afresh


def under_way(dialogue: Dialogue) -> bool:
    """Whether anything is under way: a question asked, choices or a command offered, a report staged."""
    return replace(dialogue, chat=None, asked=None) != _IDLE


# A button that answers the dialogue ("1", "解决了") carries the dialogue it answers and its step: "1 ~3fa9c2.category".
# Pressed once that dialogue is over (a new report began, it lapsed) or has moved on to another question (the category
# asked since the suggestions were shown), it is stale: it answers nothing, rather than the question open now.
# A side question asked on top of a step (撤单 N's "回复 1 确认", which ticket to chase, a command suggested for a
# mistyped one: `choices`, `pending_command`) marks its buttons "category+": the step's own buttons answer the step
# and drop the side question (the category's "1. 打印机" cancelled the ticket 撤单 named), and the side question's
# answer nothing once it is over (a "#1002" to chase was taken for category 2).
_STAMP = " ~"
_SAME_QUESTION = {"viewing": "suggesting"}  # (the list of suggestions stays open while one of them is read)
_SIDE = "+"
_READING = "@"  # then the article read: "解决了 ~3fa9c2.suggesting@KB-P001"


def stamp(replies: list[Outbound], dialogue: Dialogue) -> list[Outbound]:
    """After a message: the replies' buttons that answer the dialogue, stamped with it (a dialogue a handler began
    anew, `Dialogue(…)`, is a new one; one it changed or copied, the same)."""
    if not under_way(dialogue):
        dialogue.asked = None
        return replies
    if dialogue.asked is None:
        dialogue.asked = secrets.token_hex(3)
    # (an article's 解决了 / 没解决 answer for that article: read another since, they are stale)
    reading = f"{_READING}{dialogue.viewed}" if dialogue.step == "viewing" and dialogue.viewed else ""
    mark = f"{_STAMP}{dialogue.asked}.{_question(dialogue)}{reading}"
    return [replace(r, buttons=tuple(b if b.action.startswith("/") else Button(b.label, b.action + mark)
                                     for b in r.buttons)) if r.buttons else r for r in replies]


def unstamp(action: str, dialogue: Dialogue) -> str | None:
    """A pressed button's answer ("1"), None when the question it answered is no longer the one open; an action
    without a stamp (a platform without buttons, typed) as it is. A button of the step under a side question answers
    the step: the side question is dropped from `dialogue`."""
    answer, stamped, mark = action.rpartition(_STAMP)
    if not stamped:
        return action
    asked, _, question = mark.partition(".")
    question, _, article = question.partition(_READING)
    if asked != dialogue.asked or (article and (dialogue.step != "viewing" or dialogue.viewed != article)):
        return None
    if question == _question(dialogue):
        return answer
    if dialogue.step and question == _question(dialogue).removesuffix(_SIDE):
        dialogue.choices, dialogue.pending_command = [], None
        return answer
    return None


def _question(dialogue: Dialogue) -> str:
    """What a button stamped now answers: the dialogue's step, "+" when a side question stands on it."""
    side = _SIDE if dialogue.choices or dialogue.pending_command else ""
    return _SAME_QUESTION.get(dialogue.step, dialogue.step) + side


def open_in(row: Conversation | Held, chat: Chat, *, now: datetime) -> tuple[Dialogue, Parked]:
    """The dialogue of the chat a message came in, and the person's other chats' dialogues, which wait: what the
    bot asked in one chat is answered in that chat (an @-message in a group is a message of its own, not the
    category asked 1:1), and a dialogue goes on where it was when the person comes back to its chat."""
    current = load(row, now=now)
    parked = _parked(row, now=now)
    here = chat_of(chat)
    if under_way(current) and current.chat is not None and current.chat != here:
        parked[current.chat] = {**_state(current), "at": row.updated_at.isoformat()}
        current = Dialogue()
    if not under_way(current) and here in parked:
        waiting = dict(parked.pop(here))
        waiting.pop("at", None)
        current = _read(waiting)
    kept = sorted(parked.items(), key=lambda item: str(item[1].get("at", "")))[-PARKED_KEPT:]
    return current, dict(kept)


def idle(row: Conversation | Held, *, now: datetime) -> bool:
    """Nothing under way in any of the person's chats."""
    return load(row, now=now) == _IDLE and not _parked(row, now=now)


def _parked(row: Conversation | Held, *, now: datetime) -> Parked:
    """The other chats' dialogues kept in the row, those of the last `TTL_SECONDS` (each lapses on its own)."""
    found = (row.state or {}).get(PARKED)
    if not isinstance(found, dict):
        return {}
    since = now - timedelta(seconds=TTL_SECONDS)
    fresh: Parked = {}
    for chat, state in found.items():
        try:
            if datetime.fromisoformat(state["at"]) >= since:
                fresh[chat] = state
        except (TypeError, KeyError, ValueError):  # unreadable: dropped
            continue
    return fresh


def chat_of(chat: Chat) -> str:
    """A chat as `Dialogue.chat` names it: a group's (or topic's) id, "" for the person's own chats with the bot."""
    return "" if chat.kind == "direct" else f"{chat.id or ''}:{chat.thread_id or ''}"


def note_chat(dialogue: Dialogue, chat: Chat) -> None:
    """After a message: the chat a dialogue under way is in (the one it began in), none for an idle one."""
    if not under_way(dialogue):
        dialogue.chat = None
    elif dialogue.chat is None:
        dialogue.chat = chat_of(chat)


def _state(dialogue: Dialogue) -> dict[str, Any]:
    return {name: copy(getattr(dialogue, name)) for name in _FIELDS}


def save(row: Conversation | Held, dialogue: Dialogue, *, now: datetime, parked: Parked | None = None) -> None:
    """Write the dialogue, and the other chats' (`open_in`), into the row (the caller's commit keeps them with the
    message's effects)."""
    state = {} if dialogue == _IDLE else _state(dialogue)
    if parked:
        state[PARKED] = parked
    if state or row.state:  # a dialogue under way is written (and its time renewed); an idle one left alone
        row.state = state
        row.updated_at = now
