"""The desk's errors: one root, so the edges can map them to replies and HTTP statuses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace


class DeskError(Exception):
    """Root of the desk's errors."""


class NotFound(DeskError):
    """The object does not exist, or the actor may not know that it exists."""


class Forbidden(DeskError):
    """The actor's role does not allow this action."""


class InvalidTransition(DeskError):
    """The ticket's state does not allow this action."""

    def __init__(self, status: str, action: str) -> None:
        super().__init__(f"cannot {action} a ticket in state {status}")
        self.status = status
        self.action = action


class AlreadyClaimed(DeskError):
    """Somebody else claimed the ticket first."""

    def __init__(self, holder_name: str, since: object) -> None:
        super().__init__(f"already claimed by {holder_name}")
        self.holder_name = holder_name
        self.since = since


class NotServing(DeskError):
    """A transfer target does not serve the ticket's branch (another region, or no such person/team)."""

    def __init__(self, target: str, reason: str, *, teams: str = "", branch: str = "") -> None:
        super().__init__(f"{target} cannot take this ticket: {reason}")
        self.target = target
        self.reason = reason  # "region" (serves another region), "unknown" (no such team/person), "role"
        self.teams = teams  # for "region": the target's teams and the regions they serve ("青岛终端组（青岛分公司）")
        self.branch = branch  # for "region": the ticket's branch


class TooSoon(DeskError):
    """The same request was made too recently (a chase within its interval)."""

    def __init__(self, last: object, next_allowed: object, by: str | None = None, told: Sequence[object] = ()) -> None:
        super().__init__("too soon")
        self.last = last
        self.next_allowed = next_allowed
        self.by = by  # who made it, when that was someone else
        self.told = list(told)  # whom it reached (people)


class NotAllowed(DeskError):
    """A request that can never make sense, whatever the state: `reason` names which (for the message)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "cycle" (a ticket its own ancestor), "same" (merging a ticket into itself)


class Refusal(DeskError, ValueError):
    """A request the desk refuses, with words for people: `key` names the catalogue's message and `params` fill
    it (the console shows that); str() is the English an API client can rely on."""

    def __init__(self, english: str, key: str = "", **params: object) -> None:
        super().__init__(english)
        self.key = key
        self.params = params


class OrgFileError(Refusal):
    """The org directory file (or a section of it the API replaces) is malformed; the message names the place."""


# How API clients have always read each section of the org document: the word, then `[index]` (0-based), the
# entry's name, `: field`.
_ENGLISH = {
    "document": "the org file", "regions": "regions", "children": "region {owner} children",
    "branches": "branches", "branch": "branch", "people": "people", "person": "person", "teams": "teams",
    "team": "team", "overrides": "team {owner} overrides", "catalog": "catalog", "category": "catalog",
    "leaf": "catalog", "sla": "sla", "routing": "routing", "replies": "replies",
    "policy": "sla", "rule": "routing",  # an SLA policy or routing rule as it is checked: always named in English
}
_UNNAMED = {"policy": "sla[{index}]", "rule": "rule {n}"}  # (as they are stored when given no name)


@dataclass(frozen=True)
class Place:
    """Where in the org document a refusal points: an entry of a section by its 0-based `index` and/or its `name`
    (a code, an id, a catalog path `终端设备/打印机`), perhaps one `field` of it. str() is the English API clients
    have always read (`sla[2] 快速`, `branch JN-001: address`); `key` and `params` are the catalogue's words, which
    count from 1 (`第 3 条 SLA 策略「快速」`, `网点 JN-001 的地址`)."""

    section: str  # one of _ENGLISH's
    index: int | None = None
    name: str = ""
    field: str = ""  # address, phone, equipment, hours, sla
    owner: str = ""  # the team of an override, the region of a region's children

    def __str__(self) -> str:
        text = _ENGLISH[self.section].format(owner=self.owner)
        if self.index is not None:
            text += f"[{self.index}]"
            name = self.name or _UNNAMED.get(self.section, "").format(index=self.index, n=self.index + 1)
        else:
            name = self.name
        return text + (f" {name}" if name else "") + (f": {self.field}" if self.field else "")

    @property
    def key(self) -> str:
        if self.field:
            return f"adm_field_{self.field}"
        if self.index is None:
            return f"adm_place_{self.section}"
        return f"adm_place_{self.section}_at" + ("_named" if self.name else "")

    @property
    def params(self) -> dict[str, object]:
        if self.field:
            return {"place": replace(self, field="")}
        return {"n": 0 if self.index is None else self.index + 1, "name": self.name, "owner": self.owner,
                "path": self.name.replace("/", " › ", 1)}
