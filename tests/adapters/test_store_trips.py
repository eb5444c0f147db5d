"""The webhooks' state-store look-ups: many requests' in one round trip, off the event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

from wuyou.adapters.store_trips import StoreTrips
from wuyou.adapters.webhooks import check_fresh
from wuyou.store import MemoryStore, StoreError
from wuyou.store.redis import RedisStore


class SlowFirstTrip(MemoryStore):
    """A memory store whose first `claim_many` waits until released: the asks made meanwhile queue up."""

    def __init__(self) -> None:
        super().__init__()
        self.trips: list[int] = []
        self.release = threading.Event()

    def claim_many(self, claims: Sequence[tuple[str, str, float]], peek: Sequence[str] = ()
                   ) -> tuple[list[str | None], list[str | None]]:
        self.trips.append(len(claims))
        if len(self.trips) == 1:
            self.release.wait(5)
        return super().claim_many(claims, peek)


def test_asks_made_during_a_trip_go_together_in_the_next_and_each_gets_its_own_answer() -> None:
    store = SlowFirstTrip()
    store.set("held:o7", "texts")
    trips = StoreTrips(store)

    async def storm() -> list[tuple[str | None, str | None]]:
        first = trips.claim("n:first", "x", ttl=5)
        await asyncio.sleep(0.05)  # the first trip is under way (and waits)
        rest = [trips.claim(f"n:{i % 40}", f"d{i}", ttl=5, peek=f"held:o{i}" if i % 2 else None)
                for i in range(60)]
        store.release.set()
        return [await first, *await asyncio.gather(*rest)]

    try:
        found = asyncio.run(storm())
    finally:
        trips.close()
    assert store.trips == [1, 60]
    assert found[0] == (None, None)
    answers = found[1:]
    assert [held for held, _ in answers[:40]] == [None] * 40  # each nonce claimed by its first ask
    assert [held for held, _ in answers[40:]] == [f"d{i}" for i in range(20)]  # … and found used by the second
    assert answers[7] == (None, "texts") and answers[9] == (None, None) and answers[8] == (None, None)


def test_a_store_that_is_down_fails_each_ask_and_the_webhook_check_lets_the_request_through(
        caplog: pytest.LogCaptureFixture) -> None:
    trips = StoreTrips(RedisStore("redis://127.0.0.1:1/0"))  # nothing listens there

    async def ask() -> tuple[BaseException | None, str | None]:
        try:
            await trips.claim("n:1", "x", ttl=5)
            failure = None
        except StoreError as exc:
            failure = exc
        return failure, await check_fresh(trips, scope="wx:main", now=1000.0, timestamp="1000", nonce="n",
                                          body=b"<xml/>", peek="held:o1")

    try:
        failure, peeked = asyncio.run(ask())
    finally:
        trips.close()
    assert isinstance(failure, StoreError) and peeked is None
    assert "nonce not checked" in caplog.text


def test_a_used_nonce_with_another_body_is_refused_and_the_same_body_again_is_a_redelivery() -> None:
    from fastapi import HTTPException

    trips = StoreTrips(MemoryStore())

    async def deliveries() -> tuple[str | None, str | None, int]:
        first = await check_fresh(trips, scope="wx:main", now=1000.0, timestamp="1000", nonce="n", body=b"a")
        again = await check_fresh(trips, scope="wx:main", now=1000.0, timestamp="1000", nonce="n", body=b"a")
        try:
            await check_fresh(trips, scope="wx:main", now=1000.0, timestamp="1000", nonce="n", body=b"b")
        except HTTPException as exc:
            return first, again, exc.status_code
        return first, again, 200

    try:
        assert asyncio.run(deliveries()) == (None, None, 403)
    finally:
        trips.close()


def test_closing_answers_what_was_asked_and_refuses_more() -> None:
    trips = StoreTrips(MemoryStore())

    async def ask() -> tuple[str | None, str | None]:
        return await trips.claim("n:1", "x", ttl=5)

    assert asyncio.run(ask()) == (None, None)
    trips.close()
    with pytest.raises(RuntimeError):
        asyncio.run(ask())


class BrokenOnce(MemoryStore):
    """A store whose first `claim_many` fails with something that is not a StoreError (a bug)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def claim_many(self, claims: Sequence[tuple[str, str, float]], peek: Sequence[str] = ()
                   ) -> tuple[list[str | None], list[str | None]]:
        self.calls += 1
        if self.calls == 1:
            raise ValueError("a bug")
        return super().claim_many(claims, peek)


def test_a_failing_trip_fails_its_asks_and_the_next_asks_are_still_answered(caplog: pytest.LogCaptureFixture) -> None:
    trips = StoreTrips(BrokenOnce())

    async def asks() -> tuple[BaseException | None, tuple[str | None, str | None]]:
        try:
            await asyncio.wait_for(trips.claim("n:1", "x", ttl=5), timeout=5)
            failure = None
        except StoreError as exc:
            failure = exc
        return failure, await asyncio.wait_for(trips.claim("n:2", "y", ttl=5), timeout=5)

    try:
        failure, later = asyncio.run(asks())
    finally:
        trips.close()
    assert isinstance(failure, StoreError) and later == (None, None)
    assert "look-ups failed" in caplog.text
