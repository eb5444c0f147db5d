"""Access tokens for wechatpy's WeChat and WeCom clients, shared by every process through the state store
and refreshed by one process at a time under a lock (wechatpy's own refresh is per process)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import Any

from wuyou.store import LockTimeout, StateStore, StoreError

MARGIN_SECONDS = 300
_SECRET_PARAMS = re.compile(r"((?:corp)?secret|access_token)=[^&\s'\")]+", re.I)


def redact(text: object) -> str:
    """An error's text without the app secret or access token that request URLs carry (safe to log)."""
    return _SECRET_PARAMS.sub(r"\1=***", str(text))  # a stored token is dropped this long before WeChat expires it


class StoreSession:
    """wechatpy's session storage on our state store, with this process's own copy to fall back on while the
    store is unreachable (a token fetched then is kept here; other processes fetch their own)."""

    def __init__(self, store: StateStore, prefix: str) -> None:
        self._store = store
        self._prefix = prefix
        self._local: dict[str, str] = {}

    def get(self, key: str, default: Any = None) -> Any:
        try:
            value = self._store.get(f"{self._prefix}:session:{key}")
        except StoreError:
            value = self._local.get(key)
        return default if value is None else value

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        self._local[key] = str(value)
        with contextlib.suppress(StoreError):  # kept in this process until the store is back
            self._store.set(f"{self._prefix}:session:{key}", str(value),
                            ttl=max(60, int(ttl or 7200) - MARGIN_SECONDS))

    def delete(self, key: str) -> None:
        self._local.pop(key, None)
        with contextlib.suppress(StoreError):
            self._store.delete(f"{self._prefix}:session:{key}")


class SharedToken:
    """Mixin for a wechatpy client: `fetch_access_token` under a store lock, reusing a token another process
    fetched meanwhile unless it is the one just found stale; `forget_token` after WeChat rejected it."""

    session: StoreSession
    access_token_key: str
    _stale: str | None = None

    def _refresh_token(self, store: StateStore, lock: str, fetch: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        try:
            with store.lock(lock, ttl=15, wait=15):
                current = self.session.get(self.access_token_key)
                if current and current != self._stale:
                    return {"access_token": current}
                return fetch()
        except LockTimeout:
            raise
        except StoreError:  # no lock without the store: this process fetches its own
            return fetch()

    def forget_token(self) -> None:
        self._stale = self.session.get(self.access_token_key)
        self.session.delete(self.access_token_key)
