"""Per-person dialogue state, kept in the state store so every server process shares it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from wuyou.store import StateStore

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


def _key(person_id: str) -> str:
    return f"dialogue:{person_id}"


def load(store: StateStore, person_id: str) -> Dialogue:
    raw = store.get(_key(person_id))
    if not raw:
        return Dialogue()
    try:
        data = json.loads(raw)
        return Dialogue(**{k: v for k, v in data.items() if k in Dialogue.__dataclass_fields__})
    except (ValueError, TypeError):
        return Dialogue()  # unreadable state from an older version: start afresh


def save(store: StateStore, person_id: str, dialogue: Dialogue) -> None:
    if dialogue == Dialogue():
        store.delete(_key(person_id))
    else:
        store.set(_key(person_id), json.dumps(asdict(dialogue), ensure_ascii=False), ttl=TTL_SECONDS)
