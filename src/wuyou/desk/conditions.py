"""One condition evaluator for routing rules and SLA policy selection.

A condition set is a mapping; every key present must hold (AND), and a list value holds when any of
its items does (OR):

    category: [终端设备/POS机, 网络]   # a leaf by path, or a top-level category and everything under it;
                                    # none: a ticket without one (the reporter chose 其他 / 说不清)
    priority: [P1, P2]
    branch:   [JN-001]
    region:   [SD]                  # the branch's region or any region above it
    keywords: [全部, 所有网点]        # any of them in the ticket's title or description (case-insensitive)
    channel:  [wechat, wecom]
    urgency:  [3]
    hours:    in | out              # inside / outside the branch's business hours when the ticket opens
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from wuyou.desk.errors import Place, Refusal

NO_CATEGORY = "none"
KEYS = ("category", "priority", "branch", "region", "keywords", "channel", "urgency", "hours")
CHANNELS = ("wechat", "wecom", "telegram", "http")  # where a ticket can come from (http: the web chat, the API)
URGENCIES = ("1", "2", "3")


class ConditionError(Refusal):
    """A condition set that cannot be evaluated: unknown key or bad value; the message names it."""


@dataclass(frozen=True)
class Facts:
    """What conditions are evaluated against, taken from a ticket as it is being opened."""

    category: str = ""  # "终端设备/POS机"
    priority: str = ""
    branch: str = ""
    regions: tuple[str, ...] = ()  # the branch's region and its ancestors
    text: str = ""
    channel: str = ""
    urgency: int = 1
    in_hours: Callable[[], bool] = field(default=lambda: True, compare=False)  # evaluated only when asked


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _items(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]


def validate(conditions: Mapping[str, Any], *, where: Place) -> None:
    """Refuse unknown keys and bad `hours` values before a rule or policy is stored."""
    for key, value in conditions.items():
        if key not in KEYS:
            raise ConditionError(f"{where}: unknown condition '{key}' (known: {', '.join(KEYS)})", "adm_cond_unknown",
                                 place=where, condition=key, known=", ".join(KEYS))
        if key == "hours" and str(value) not in ("in", "out"):
            raise ConditionError(f"{where}: hours must be 'in' or 'out', not {value!r}", "adm_cond_hours",
                                 place=where, value=value)
        if key != "hours" and not _items(value):
            raise ConditionError(f"{where}: condition '{key}' has no values", "adm_cond_empty", place=where,
                                 condition=key)
        # A value that can never hold makes a rule that silently never matches; an empty keyword matches every ticket.
        if key == "keywords" and any(not w.strip() for w in _items(value)):
            raise ConditionError(f"{where}: an empty keyword would match every ticket", "adm_cond_keyword",
                                 place=where)
        if key == "channel" and (bad := [w for w in _items(value) if w not in CHANNELS]):
            raise ConditionError(f"{where}: unknown channel {bad[0]!r} (known: {', '.join(CHANNELS)})",
                                 "adm_cond_channel", place=where, channel=bad[0], known=", ".join(CHANNELS))
        if key == "urgency" and (bad := [w for w in _items(value) if w not in URGENCIES]):
            raise ConditionError(f"{where}: urgency is 1, 2 or 3, not {bad[0]!r}", "adm_cond_urgency", place=where,
                                 value=bad[0])


def matches(conditions: Mapping[str, Any], facts: Facts) -> bool:
    """True when every condition holds for the facts."""
    for key, value in conditions.items():
        wanted = _items(value)
        if key == "category":
            path = facts.category.replace(" › ", "/")
            if not any(path == w.replace(" › ", "/") or path.startswith(w.rstrip("/") + "/") if path
                       else w.strip().lower() == NO_CATEGORY for w in wanted):
                return False
        elif key == "priority":
            if facts.priority.upper() not in {w.upper() for w in wanted}:
                return False
        elif key == "branch":
            if facts.branch not in wanted:
                return False
        elif key == "region":
            if not set(facts.regions) & set(wanted):
                return False
        elif key == "keywords":
            text = _norm(facts.text)
            if not any(_norm(w) in text for w in wanted):
                return False
        elif key == "channel":
            if facts.channel not in wanted:
                return False
        elif key == "urgency":
            if str(facts.urgency) not in wanted:
                return False
        elif key == "hours":
            if facts.in_hours() != (str(value) == "in"):
                return False
        else:
            raise ConditionError(f"unknown condition '{key}'")
    return True
