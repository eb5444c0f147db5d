"""The intake: the platform adapters (the HTTP channel, WeChat, WeCom, Telegram) hand their messages here, and get
a future of the answer.

One thread takes what has arrived since its last turn as a batch (`bot.batch`: the plain new reports of the batch
in one transaction), so that the cost of a transaction is shared by all the messages of a storm instead of paid by
each. The other messages go to `Engine.receive` in a small pool, one lane per sender: a sender's messages are
answered in the order they came, and a message of a sender with messages still in a lane waits in that lane."""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from wuyou.bot import batch
from wuyou.bot.engine import Answer, Engine
from wuyou.bot.messages import Inbound

log = logging.getLogger(__name__)

MAX_BATCH = 256  # messages per transaction; a storm's backlog is taken in slices of this
LANES = 16  # threads answering messages one by one

Sender = tuple[str, str, str]


class _Awaited:
    """An event loop's caller of `receive`: its future is settled on its loop, with the rest of the batch's."""

    __slots__ = ("future", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop, future: asyncio.Future[Answer]) -> None:
        self.loop, self.future = loop, future


Waiter = Future[Answer] | _Awaited
Item = tuple[Inbound, Waiter]
Outcome = Answer | BaseException


class Intake:
    """Batches messages for the engine; thread-safe; `submit` may be called from any thread."""

    def __init__(self, engine: Engine, *, max_batch: int = MAX_BATCH, lanes: int = LANES) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[Item | None] = queue.SimpleQueue()
        self._pool = ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="intake-lane")
        self._lanes: dict[Sender, deque[Item]] = {}
        self._mutex = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, inbound: Inbound) -> Future[Answer]:
        """Take a message; the future gives its `Answer`, or raises `Unavailable` (not taken: deliver it again)."""
        future: Future[Answer] = Future()
        self._put(inbound, future)
        return future

    async def receive(self, inbound: Inbound) -> Answer:
        """`submit`, awaited."""
        return await self.waiting(inbound)

    def waiting(self, inbound: Inbound) -> asyncio.Future[Answer]:
        """`submit` for the running event loop (call it there): the answers of a batch reach a loop in one hop (a
        wake-up of the loop per message, as `asyncio.wrap_future` does, cost the HTTP channel a tenth of its time
        under a storm). Cancelling the future only stops the waiting: the message is taken all the same."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Answer] = loop.create_future()
        self._put(inbound, _Awaited(loop, future))
        return future

    def _put(self, inbound: Inbound, waiter: Waiter) -> None:
        with self._mutex:
            if self._closed:
                raise RuntimeError("the intake is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="intake", daemon=True)
                self._thread.start()
        self._queue.put((inbound, waiter))

    def close(self) -> None:
        """Answer what was submitted, then stop."""
        with self._mutex:
            self._closed, thread = True, self._thread
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=30)
        self._pool.shutdown(wait=True)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            items = [item]
            stop = False
            while len(items) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                items.append(more)
            self._take(items)
            if stop:
                return

    def _take(self, items: list[Item]) -> None:
        with self._mutex:  # a sender with messages in a lane: this one queues behind them
            free = [i for i, (inbound, _) in enumerate(items) if _sender(inbound) not in self._lanes]
        answers: list[Answer | None] = [None] * len(items)
        try:
            for i, answer in zip(free, batch.take(self.engine, [items[i][0] for i in free]), strict=True):
                answers[i] = answer
        except Exception as exc:  # nothing was taken: every message goes the one-by-one way, which retries
            log.warning("a batch of %d messages could not be taken together (%s); taking them one by one",
                        len(free), exc)
        _settle([(waiter, answer) for (_, waiter), answer in zip(items, answers, strict=True) if answer is not None])
        for (inbound, waiter), answer in zip(items, answers, strict=True):
            if answer is None:
                self._queue_in_lane(inbound, waiter)

    def _queue_in_lane(self, inbound: Inbound, waiter: Waiter) -> None:
        sender = _sender(inbound)
        with self._mutex:
            lane = self._lanes.get(sender)
            if lane is not None:
                lane.append((inbound, waiter))
                return
            self._lanes[sender] = deque([(inbound, waiter)])
        self._pool.submit(self._drain, sender)

    def _drain(self, sender: Sender) -> None:
        while True:
            with self._mutex:
                lane = self._lanes[sender]
                if not lane:
                    del self._lanes[sender]
                    return
                inbound, waiter = lane[0]
            outcome: Outcome
            try:
                outcome = self.engine.receive(inbound)
            except BaseException as exc:  # Unavailable, or a bug: the adapter answers the platform accordingly
                outcome = exc
            _settle([(waiter, outcome)])
            with self._mutex:
                lane.popleft()


def _sender(inbound: Inbound) -> Sender:
    return inbound.platform, inbound.account, inbound.sender.platform_user_id


def _settle(outcomes: list[tuple[Waiter, Outcome]]) -> None:
    """Give each waiter its answer (or the exception): a thread's future at once, an event loop's futures in
    one call per loop."""
    awaited: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[Answer], Outcome]] = []
    for waiter, outcome in outcomes:
        if isinstance(waiter, _Awaited):
            awaited.append((waiter.loop, waiter.future, outcome))
        elif isinstance(outcome, BaseException):
            waiter.set_exception(outcome)
        else:
            waiter.set_result(outcome)
    settle_on_loops(awaited, what="answers")


T = TypeVar("T")


def settle_on_loops(settled: Iterable[tuple[asyncio.AbstractEventLoop, asyncio.Future[T], T | BaseException]], *,
                    what: str) -> None:
    """Settle event loops' futures from another thread, with one call per loop (a wake-up of the loop per future,
    as `asyncio.wrap_future` does, cost the HTTP channel a tenth of its time under a storm). An exception becomes
    the future's; a future already done (its waiter gave up: a dropped connection cancels the request) is left."""
    hops: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[T], T | BaseException]]] = {}
    for loop, future, outcome in settled:
        hops.setdefault(loop, []).append((future, outcome))
    for loop, pairs in hops.items():
        try:
            loop.call_soon_threadsafe(_resolve, pairs)
        except RuntimeError:  # the loop has closed: nobody is waiting any more
            log.warning("%d %s for a closed event loop dropped", len(pairs), what)


def _resolve(settled: list[tuple[asyncio.Future[T], T | BaseException]]) -> None:
    for future, outcome in settled:
        if future.done():
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
