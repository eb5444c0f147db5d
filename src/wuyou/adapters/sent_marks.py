"""Best-effort "already sent" marks in the state store, one per message key. The outbox row's status is what
counts; a mark only spares a second send when the bookkeeping after a send never committed (a crash between
the two). When the store is down a mark is neither read nor written and sending goes on: a send must never
fail, or be repeated, because its mark could not be written."""

from __future__ import annotations

import logging

from wuyou.store import StateStore, StoreError

log = logging.getLogger(__name__)
SENT_TTL = 7 * 24 * 3600


def already(store: StateStore, key: str) -> str | None:
    """The mark of `key` (its value), or None when there is none or the store cannot say."""
    try:
        return store.get(key)
    except StoreError as exc:
        log.warning("sent mark %s not checked (state store unavailable): %s", key, exc)
        return None


def remember(store: StateStore, key: str, value: str = "1", *, ttl: float = SENT_TTL) -> None:
    try:
        store.set(key, value, ttl=ttl)
    except StoreError as exc:
        log.warning("sent mark %s not written (state store unavailable): %s", key, exc)
