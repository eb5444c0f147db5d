"""Both state stores honour the same contract."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from tests.conftest import redis_store
from wuyou.store import LockTimeout, MemoryStore, StateStore


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[StateStore]:
    yield MemoryStore() if request.param == "memory" else redis_store()


def test_get_set_delete(store: StateStore) -> None:
    assert store.get("k") is None
    store.set("k", "值")
    assert store.get("k") == "值"
    store.delete("k")
    assert store.get("k") is None


def test_values_expire(store: StateStore) -> None:
    store.set("short", "v", ttl=0.05)
    assert store.get("short") == "v"
    time.sleep(0.12)
    assert store.get("short") is None


def test_set_nx_only_once(store: StateStore) -> None:
    assert store.set_nx("dedup:1", "a", ttl=5)
    assert not store.set_nx("dedup:1", "b", ttl=5)
    assert store.get("dedup:1") == "a"


def test_lock_excludes_and_times_out(store: StateStore) -> None:
    entered = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with store.lock("L", ttl=5, wait=1):
            entered.set()
            release.wait(2)

    t = threading.Thread(target=hold)
    t.start()
    assert entered.wait(2)
    with pytest.raises(LockTimeout), store.lock("L", wait=0.1):
        pass
    release.set()
    t.join()
    with store.lock("L", wait=1):
        pass


def test_lock_of_a_dead_holder_expires(store: StateStore) -> None:
    cm = store.lock("crashy", ttl=0.1)
    cm.__enter__()  # never released, as if the process died
    time.sleep(0.2)
    with store.lock("crashy", wait=0.5):
        pass


def test_ping(store: StateStore) -> None:
    assert store.ping()


def test_incr_counts_within_a_window_that_starts_at_the_first_increment(store: StateStore) -> None:
    assert [store.incr("hits", ttl=0.3) for _ in range(3)] == [1, 2, 3]
    time.sleep(0.2)
    assert store.incr("hits", ttl=0.3) == 4  # a later increment does not extend the window
    time.sleep(0.15)
    assert store.incr("hits", ttl=0.3) == 1


def test_incr_many_counts_each_key_as_often_as_it_is_named_in_order(store: StateStore) -> None:
    assert store.incr_many(["a", "b", "a", "c", "a"], ttl=0.3) == [1, 1, 2, 1, 3]
    assert store.incr_many(["b", "a"], ttl=0.3) == [2, 4]
    assert store.incr_many([], ttl=0.3) == []
    time.sleep(0.35)  # every counter expired with its window, also those first made in a batch
    assert store.incr_many(["a", "b", "c"], ttl=0.3) == [1, 1, 1]


def test_incr_within_counts_the_second_key_only_for_a_first_still_within_its_limit(store: StateStore) -> None:
    # Two people of one branch and one without a branch; limit 2 per person: the third message of "p1" is over
    # its own limit and no longer counts for the branch.
    got = store.incr_within(["p1", "p2", "p3", "p1"], [2, 2, 2, 2], ["b1", "b1", None, "b1"], ttl=0.3)
    assert got == [(1, 1), (1, 2), (1, None), (2, 3)]
    assert store.incr_within(["p1", "p2"], [2, 5], ["b1", "b1"], ttl=0.3) == [(3, None), (2, 4)]
    assert store.incr_within([], [], [], ttl=0.3) == []
    time.sleep(0.35)  # the second counters expire with their window too
    assert store.incr_within(["p1"], [2], ["b1"], ttl=0.3) == [(1, 1)]


def test_claim_many_stores_free_keys_tells_what_the_others_hold_and_reads_peeks(store: StateStore) -> None:
    store.set("nonce:2", "earlier")
    store.set("held:a", "[\"文本\"]")
    held, peeked = store.claim_many([("nonce:1", "d1", 5), ("nonce:2", "d2", 5), ("nonce:1", "d3", 5)],
                                    ["held:a", "held:b"])
    assert held == [None, "earlier", "d1"]  # stored / held by another / stored moments ago by this very call
    assert peeked == ["[\"文本\"]", None]
    assert store.get("nonce:1") == "d1" and store.get("nonce:2") == "earlier"
    assert store.claim_many([], []) == ([], [])


def test_claimed_keys_expire(store: StateStore) -> None:
    store.claim_many([("short", "v", 0.05)])
    time.sleep(0.12)
    assert store.claim_many([("short", "w", 5)]) == ([None], [])
