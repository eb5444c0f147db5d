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
from concurrent.futures import Future, ThreadPoolExecutor

from wuyou.bot import batch
from wuyou.bot.engine import Answer, Engine
from wuyou.bot.messages import Inbound

log = logging.getLogger(__name__)

MAX_BATCH = 256  # messages per transaction; a storm's backlog is taken in slices of this
LANES = 16  # threads answering messages one by one

Sender = tuple[str, str, str]
Item = tuple[Inbound, "Future[Answer]"]


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
        with self._mutex:
            if self._closed:
                raise RuntimeError("the intake is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="intake", daemon=True)
                self._thread.start()
        self._queue.put((inbound, future))
        return future

    async def receive(self, inbound: Inbound) -> Answer:
        """`submit`, awaited."""
        return await asyncio.wrap_future(self.submit(inbound))

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
        for (inbound, future), answer in zip(items, answers, strict=True):
            if answer is not None:
                future.set_result(answer)
            else:
                self._queue_in_lane(inbound, future)

    def _queue_in_lane(self, inbound: Inbound, future: Future[Answer]) -> None:
        sender = _sender(inbound)
        with self._mutex:
            lane = self._lanes.get(sender)
            if lane is not None:
                lane.append((inbound, future))
                return
            self._lanes[sender] = deque([(inbound, future)])
        self._pool.submit(self._drain, sender)

    def _drain(self, sender: Sender) -> None:
        while True:
            with self._mutex:
                lane = self._lanes[sender]
                if not lane:
                    del self._lanes[sender]
                    return
                inbound, future = lane[0]
            try:
                future.set_result(self.engine.receive(inbound))
            except BaseException as exc:  # Unavailable, or a bug: the adapter answers the platform accordingly
                future.set_exception(exc)
            with self._mutex:
                lane.popleft()


def _sender(inbound: Inbound) -> Sender:
    return inbound.platform, inbound.account, inbound.sender.platform_user_id
