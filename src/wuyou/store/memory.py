"""In-process state store: the embedded default for a single server process."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from wuyou.store.base import LockTimeout


class MemoryStore:
    """A dict with expiry and locks; state is lost with the process, like a cache."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._data: dict[str, tuple[str, float | None]] = {}
        self._mutex = threading.Lock()
        self._released = threading.Condition(self._mutex)
        self._clock = clock

    def _live(self, key: str) -> str | None:
        item = self._data.get(key)
        if item is None:
            return None
        value, expires = item
        if expires is not None and expires <= self._clock():
            del self._data[key]
            return None
        return value

    def get(self, key: str) -> str | None:
        with self._mutex:
            return self._live(key)

    def set(self, key: str, value: str, *, ttl: float | None = None) -> None:
        with self._mutex:
            self._data[key] = (value, None if ttl is None else self._clock() + ttl)

    def set_nx(self, key: str, value: str, *, ttl: float) -> bool:
        with self._mutex:
            if self._live(key) is not None:
                return False
            self._data[key] = (value, self._clock() + ttl)
            return True

    def claim_many(self, claims: Sequence[tuple[str, str, float]], peek: Sequence[str] = ()
                   ) -> tuple[list[str | None], list[str | None]]:
        with self._mutex:
            held: list[str | None] = []
            for key, value, ttl in claims:
                current = self._live(key)
                if current is None:
                    self._data[key] = (value, self._clock() + ttl)
                held.append(current)
            return held, [self._live(key) for key in peek]

    def incr(self, key: str, *, ttl: float) -> int:
        with self._mutex:
            current = self._live(key)
            count = int(current or 0) + 1
            expires = self._data[key][1] if current is not None else self._clock() + ttl
            self._data[key] = (str(count), expires)
            return count

    def incr_many(self, keys: Sequence[str], *, ttl: float) -> list[int]:
        return [self.incr(key, ttl=ttl) for key in keys]

    def incr_within(self, keys: Sequence[str], limits: Sequence[int], then: Sequence[str | None], *,
                    ttl: float) -> list[tuple[int, int | None]]:
        counts = [self.incr(key, ttl=ttl) for key in keys]  # (as Redis: every first key, then the second ones)
        return [(count, self.incr(second, ttl=ttl) if second is not None and count <= limit else None)
                for count, limit, second in zip(counts, limits, then, strict=True)]

    def delete(self, key: str) -> None:
        with self._mutex:
            self._data.pop(key, None)
            self._released.notify_all()

    @contextmanager
    def lock(self, name: str, *, ttl: float = 30.0, wait: float = 10.0) -> Iterator[None]:
        key = f"lock:{name}"
        deadline = time.monotonic() + wait
        token = f"{threading.get_ident()}:{time.monotonic_ns()}"
        with self._mutex:
            while self._live(key) is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise LockTimeout(name)
                self._released.wait(min(remaining, 0.05))
            self._data[key] = (token, self._clock() + ttl)
        try:
            yield
        finally:
            with self._mutex:
                if self._live(key) == token:
                    del self._data[key]
                self._released.notify_all()

    def ping(self) -> bool:
        return True
