"""The port every state store implements."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Protocol


class StoreError(Exception):
    """Root of the state store's errors."""


class LockTimeout(StoreError):
    """A lock could not be taken within the wait time."""


class StateStore(Protocol):
    """Key/value state with expiry, shared by every server process when it is Redis."""

    def get(self, key: str) -> str | None:
        """The value of `key`, or None when it is absent or expired."""
        ...

    def set(self, key: str, value: str, *, ttl: float | None = None) -> None:
        """Store `value` under `key`, expiring after `ttl` seconds when given."""
        ...

    def set_nx(self, key: str, value: str, *, ttl: float) -> bool:
        """Store `value` only if `key` is absent; True when this call stored it."""
        ...

    def claim_many(self, claims: Sequence[tuple[str, str, float]], peek: Sequence[str] = ()
                   ) -> tuple[list[str | None], list[str | None]]:
        """`set_nx` of each (key, value, ttl) claim and a `get` of each `peek` key, all in one round trip to the
        server. For each claim: None when this call stored it, else the value the key holds; each peek's value."""
        ...

    def delete(self, key: str) -> None:
        """Remove `key` if present."""
        ...

    def incr(self, key: str, *, ttl: float) -> int:
        """Add 1 to the counter `key` (created at 0, expiring `ttl` seconds after its creation); the new value."""
        ...

    def incr_many(self, keys: Sequence[str], *, ttl: float) -> list[int]:
        """`incr` of several counters at once (one round trip to the server); their new values, in order."""
        ...

    def incr_within(self, keys: Sequence[str], limits: Sequence[int], then: Sequence[str | None], *,
                    ttl: float) -> list[tuple[int, int | None]]:
        """`incr_many` of `keys` and, in the same round trip, of `then[i]` for each `keys[i]` still within
        `limits[i]` after it (a rate limit with a second, wider one: a person's, then their branch's). For each
        key: its count, and its `then` count or None when that was not counted."""
        ...

    def lock(self, name: str, *, ttl: float = 30.0, wait: float = 10.0) -> AbstractContextManager[None]:
        """Hold a named mutual-exclusion lock (released on exit, or after `ttl` if the holder dies)."""
        ...

    def ping(self) -> bool:
        """True when the store answers."""
        ...


