"""Redis behind Sentinel: the store finds the master through the Sentinels and follows a fail-over."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.adapters.server import free_port
from tests.conftest import unavailable
from wuyou.store import RedisStore, StoreError


def _start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def _wait(check: object, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except (redis.RedisError, StoreError):  # a connection to the demoted master is dropped once
            pass
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s: {check}")


@pytest.fixture
def sentinel_setup(tmp_path: Path) -> Iterator[tuple[int, int, int]]:
    """A private master, its replica and one Sentinel watching them (quorum 1, fast fail-over)."""
    server = shutil.which("redis-server")
    if server is None:
        unavailable("redis-server is not installed")
    master, replica, sentinel = free_port(), free_port(), free_port()
    common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(tmp_path)]
    conf = tmp_path / "sentinel.conf"
    conf.write_text(f"port {sentinel}\nbind 127.0.0.1\nsentinel monitor desk 127.0.0.1 {master} 1\n"
                    "sentinel down-after-milliseconds desk 1000\nsentinel failover-timeout desk 5000\n")
    procs = [_start([str(server), "--port", str(master), *common], tmp_path / "master.log"),
             _start([str(server), "--port", str(replica), "--replicaof", "127.0.0.1", str(master), *common],
                    tmp_path / "replica.log")]
    try:
        _wait(lambda: redis.Redis(port=replica).info("replication")["master_link_status"] == "up")
        procs.append(_start([str(server), str(conf), "--sentinel"], tmp_path / "sentinel.log"))
        _wait(lambda: redis.Redis(port=sentinel).sentinel_masters().get("desk", {}).get("num-slaves", 0) >= 1)
        yield master, replica, sentinel
    finally:
        for proc in procs:
            proc.kill()
            proc.wait(10)


def test_the_store_follows_a_failover(sentinel_setup: tuple[int, int, int]) -> None:
    master, replica, sentinel = sentinel_setup
    store = RedisStore("redis://ignored/0", prefix="t:", sentinels=f"127.0.0.1:{sentinel}", master="desk")
    store.set("k", "before")
    assert redis.Redis(port=master).get("t:k") == b"before"  # it wrote to the master
    _wait(lambda: redis.Redis(port=sentinel).execute_command("SENTINEL", "FAILOVER", "desk"))  # once it has
    # seen the replica for long enough to trust it
    _wait(lambda: redis.Redis(port=replica).info("replication")["role"] == "master")
    _wait(lambda: store.set("k", "after") is None and redis.Redis(port=replica).get("t:k") == b"after")
    assert store.get("k") == "after"
