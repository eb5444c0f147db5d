"""The webhooks' state-store look-ups, many requests' in one round trip, made off the event loop.

A round trip made on the event loop holds the loop until the reply is read and the GIL taken back — under a storm,
until the busy intake thread lets go of it, often milliseconds: a WeChat storm spent a third of its loop time so.
Here one thread takes whatever requests have queued since its last trip, claims their nonces and reads their keys
in one `claim_many`, and hands the results to each event loop in one hop."""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass

from wuyou.bot.intake import settle_on_loops
from wuyou.store import StateStore, StoreError

log = logging.getLogger(__name__)

Found = tuple[str | None, str | None]  # what the claimed key held (None: claimed now), the peeked key's value
Outcome = Found | StoreError


@dataclass(frozen=True, slots=True)
class _Ask:
    key: str
    value: str
    ttl: float
    peek: str | None
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Found]


class StoreTrips:
    """Batches `claim` calls of any number of event loops; thread-safe."""

    def __init__(self, store: StateStore) -> None:
        self._store = store
        self._asks: list[_Ask] = []
        self._mutex = threading.Lock()
        self._asked = threading.Condition(self._mutex)
        self._thread: threading.Thread | None = None
        self._closed = False

    def claim(self, key: str, value: str, *, ttl: float, peek: str | None = None) -> asyncio.Future[Found]:
        """On the running event loop: `set_nx(key, value)` and `get(peek)`. The future gives what `key` held
        (None when this claim stored it) and `peek`'s value, or raises `StoreError` when the store is down."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Found] = loop.create_future()
        with self._mutex:
            if self._closed:
                raise RuntimeError("the store trips are closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="store-trips", daemon=True)
                self._thread.start()
            self._asks.append(_Ask(key, value, ttl, peek, loop, future))
            self._asked.notify()
        return future

    def close(self) -> None:
        """Answer what was asked, then stop."""
        with self._mutex:
            self._closed, thread = True, self._thread
            self._asked.notify()
        if thread is not None:
            thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            with self._mutex:
                while not self._asks and not self._closed:
                    self._asked.wait()
                asks, self._asks = self._asks, []
            if not asks:
                return
            settle_on_loops(((a.loop, a.future, outcome) for a, outcome in zip(asks, self._trip(asks), strict=True)),
                            what="state-store answers")

    def _trip(self, asks: list[_Ask]) -> list[Outcome]:
        peeks = [a.peek for a in asks if a.peek is not None]
        try:
            held, peeked = self._store.claim_many([(a.key, a.value, a.ttl) for a in asks], peeks)
        except StoreError as exc:
            return [exc] * len(asks)
        except Exception as exc:  # a bug must not stop the thread: every later request would wait for ever
            log.exception("state-store look-ups failed")
            return [StoreError(f"look-up failed: {exc!r}")] * len(asks)
        values = iter(peeked)
        return [(found, next(values) if a.peek is not None else None) for a, found in zip(asks, held, strict=True)]
