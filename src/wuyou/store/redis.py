"""Redis state store: shared by every server and worker process."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlparse

import redis
from redis.sentinel import Sentinel

from wuyou.store.base import LockTimeout, StoreError

# Delete the lock only if we still own it: a holder that outlived its TTL must not free
# somebody else's lock.
_UNLOCK = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
# Counters with an expiry from their first increment, any number in one command (atomic: no counter is left
# without its expiry).
_INCR_MANY = """
local out = {}
for i, key in ipairs(KEYS) do
  local n = redis.call('incr', key)
  if n == 1 then redis.call('pexpire', key, ARGV[1]) end
  out[i] = n
end
return out
"""
# KEYS: n counters, then the second ones named; ARGV: the expiry (ms), n, n limits, n indexes into the second keys
# (0: none). Returns n firsts, then n seconds (-1: not counted).
_INCR_WITHIN = """
local n = tonumber(ARGV[2])
local out = {}
for i = 1, n do
  local count = redis.call('incr', KEYS[i])
  if count == 1 then redis.call('pexpire', KEYS[i], ARGV[1]) end
  out[i] = count
end
for i = 1, n do
  local second = tonumber(ARGV[2 + n + i])
  out[n + i] = -1
  if second > 0 and out[i] <= tonumber(ARGV[2 + i]) then
    local key = KEYS[n + second]
    local count = redis.call('incr', key)
    if count == 1 then redis.call('pexpire', key, ARGV[1]) end
    out[n + i] = count
  end
end
return out
"""


class RedisStore:
    """State in Redis under a key prefix (several desks, or test runs, can share one server)."""

    def __init__(self, url: str, *, prefix: str = "wuyou:", sentinels: str | None = None,
                 master: str = "mymaster") -> None:
        options: dict[str, Any] = {"decode_responses": True, "socket_timeout": 5, "socket_connect_timeout": 2}
        if sentinels:
            # The master is asked of the Sentinels at every (re)connection: a fail-over is followed by itself.
            parsed = urlparse(url)
            nodes = [(host, int(port)) for host, _, port in (s.strip().rpartition(":") for s in sentinels.split(","))]
            sentinel = Sentinel(nodes, socket_timeout=2, socket_connect_timeout=2)
            self._redis = sentinel.master_for(master, password=parsed.password,
                                              db=int(parsed.path.strip("/") or 0), **options)
        else:
            self._redis = redis.Redis.from_url(url, **options)
        self._prefix = prefix
        self._unlock = self._redis.register_script(_UNLOCK)
        self._incr_many = self._redis.register_script(_INCR_MANY)
        self._incr_within = self._redis.register_script(_INCR_WITHIN)

    def _k(self, key: str) -> str:
        return self._prefix + key

    def get(self, key: str) -> str | None:
        try:
            value = self._redis.get(self._k(key))
        except redis.RedisError as exc:
            raise StoreError(str(exc)) from exc
        return value if isinstance(value, str) else None

    def set(self, key: str, value: str, *, ttl: float | None = None) -> None:
        try:
            if ttl is None:
                self._redis.set(self._k(key), value)
            else:
                self._redis.set(self._k(key), value, px=max(1, int(ttl * 1000)))
        except redis.RedisError as exc:
            raise StoreError(str(exc)) from exc

    def set_nx(self, key: str, value: str, *, ttl: float) -> bool:
        try:
            return bool(self._redis.set(self._k(key), value, nx=True, px=max(1, int(ttl * 1000))))
        except redis.RedisError as exc:
            raise StoreError(str(exc)) from exc

    def claim_many(self, claims: Sequence[tuple[str, str, float]], peek: Sequence[str] = ()
                   ) -> tuple[list[str | None], list[str | None]]:
        if not claims and not peek:
            return [], []
        pipe = self._redis.pipeline(transaction=False)
        for key, value, ttl in claims:
            pipe.set(self._k(key), value, nx=True, px=max(1, int(ttl * 1000)))
            pipe.get(self._k(key))
        for key in peek:
            pipe.get(self._k(key))
        try:
            done = pipe.execute()
        except redis.RedisError as exc:
            raise StoreError(str(exc)) from exc
        n = 2 * len(claims)
        return [None if done[i] else done[i + 1] for i in range(0, n, 2)], list(done[n:])

    def incr(self, key: str, *, ttl: float) -> int:
        return self.incr_many([key], ttl=ttl)[0]

    def incr_many(self, keys: Sequence[str], *, ttl: float) -> list[int]:
        if not keys:
            return []
        try:
            done = self._incr_many(keys=[self._k(key) for key in keys], args=[max(1, int(ttl * 1000))])
        except redis.RedisError as exc:
            raise StoreError(str(exc)) from exc
        return [int(count) for count in done]

    def incr_within(self, keys: Sequence[str], limits: Sequence[int], then: Sequence[str | None], *,
                    ttl: float) -> list[tuple[int, int | None]]:
        if not keys:
            return []
        seconds = list(dict.fromkeys(key for key in then if key is not None))
        place = {key: i for i, key in enumerate(seconds, start=1)}
        try:
            done = self._incr_within(
                keys=[self._k(key) for key in (*keys, *seconds)],
                args=[max(1, int(ttl * 1000)), len(keys), *limits, *(place[k] if k is not None else 0 for k in then)])
        except redis.RedisError as exc:
            raise StoreError(str(exc)) from exc
        n = len(keys)
        return [(int(done[i]), int(done[n + i]) if int(done[n + i]) >= 0 else None) for i in range(n)]

    def delete(self, key: str) -> None:
        try:
            self._redis.delete(self._k(key))
        except redis.RedisError as exc:
            raise StoreError(str(exc)) from exc

    @contextmanager
    def lock(self, name: str, *, ttl: float = 30.0, wait: float = 10.0) -> Iterator[None]:
        key = f"lock:{name}"
        token = uuid.uuid4().hex
        deadline = time.monotonic() + wait
        delay = 0.005
        while not self.set_nx(key, token, ttl=ttl):
            if time.monotonic() >= deadline:
                raise LockTimeout(name)
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
        try:
            yield
        finally:
            try:
                self._unlock(keys=[self._k(key)], args=[token])
            except redis.RedisError as exc:
                raise StoreError(str(exc)) from exc

    def ping(self) -> bool:
        try:
            return bool(self._redis.ping())
        except redis.RedisError:
            return False
