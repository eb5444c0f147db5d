"""The state store: short-lived shared state (dialogues, dedup keys, locks) behind one interface."""

from wuyou.store.base import LockTimeout, StateStore, StoreError
from wuyou.store.memory import MemoryStore
from wuyou.store.redis import RedisStore

__all__ = ["LockTimeout", "MemoryStore", "RedisStore", "StateStore", "StoreError"]
