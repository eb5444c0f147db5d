"""Sliding-window send limits shared by every process through the state store (platform limits such as
Telegram's 30 messages/s, WeCom's 30/min and 1000/h per member)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence

from wuyou.store import LockTimeout, StateStore

Window = tuple[str, float, int]  # store key, span in seconds, at most this many sends in the span


class SlidingWindows:
    def __init__(self, store: StateStore, *, clock: Callable[[], float] = time.time, busy_wait: float = 1.0) -> None:
        self._store = store
        self._clock = clock  # wall time: the windows are shared by every process
        self._busy_wait = busy_wait

    def reserve(self, lock: str, windows: Sequence[Window]) -> float:
        """Take one slot in every window: 0 when taken, else the seconds to wait (nothing is taken then)."""
        try:
            with self._store.lock(lock, ttl=5, wait=5):
                now = self._clock()
                logs = [[t for t in json.loads(self._store.get(key) or "[]") if t > now - span]
                        for key, span, _ in windows]
                wait = max((log[-limit] + span - now for log, (_, span, limit) in zip(logs, windows, strict=True)
                            if len(log) >= limit), default=0.0)
                if wait > 0:
                    return wait
                for log, (key, span, limit) in zip(logs, windows, strict=True):
                    self._store.set(key, json.dumps([*log, now][-limit:]), ttl=max(1, int(span) + 1))
                return 0.0
        except LockTimeout:
            return self._busy_wait
