"""The desk's errors: one root, so the edges can map them to replies and HTTP statuses."""

from __future__ import annotations

from collections.abc import Sequence


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


class OrgFileError(DeskError):
    """The org directory file is malformed; the message names the place."""


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
