"""Checks every platform webhook goes through before any work: a bounded body, a fresh timestamp with a
nonce used once, and XML without DTDs or entities."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from typing import NoReturn

from defusedxml import ElementTree as SafeXml
from defusedxml.common import DefusedXmlException
from fastapi import HTTPException, Request

from wuyou.adapters.store_trips import StoreTrips
from wuyou.store import StoreError

log = logging.getLogger(__name__)

FRESH_SECONDS = 300
REDELIVERY_AFTER = 6.0  # seconds: WeChat and WeCom give up on an answer after 5 and deliver the message again


async def refuse_for_redelivery(started: float) -> NoReturn:
    """A message that could not be taken (the database is down). WeChat and WeCom deliver again only what got no
    answer within 5 seconds (an error status would show the person "service unavailable" instead): stay silent
    past that, then answer 503. `started`: when the request came in (`time.monotonic()`)."""
    await asyncio.sleep(max(0.0, REDELIVERY_AFTER - (time.monotonic() - started)))
    raise HTTPException(status_code=503, detail="the desk cannot take messages right now")


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 past `limit` bytes (declared or actually sent)."""
    if int(request.headers.get("content-length") or 0) > limit:
        raise HTTPException(status_code=413, detail="body too large")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(status_code=413, detail="body too large")
    return bytes(body)


async def check_fresh(trips: StoreTrips, *, scope: str, now: float, timestamp: str, nonce: str, body: bytes,
                      peek: str | None = None) -> str | None:
    """403 unless the timestamp is within FRESH_SECONDS of now and this timestamp + nonce never came with another
    body. The same body again is the platform redelivering a request it got no answer for (message receipts make
    that harmless); another body under a used nonce is a replay. When the state store is down the nonce goes
    unchecked (the signature and the timestamp still are): refusing every message would be worse.

    In the same round trip (`StoreTrips`, shared with other requests), the value of the key `peek`, returned."""
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):  # (int() takes 400 digits, ９)
        raise HTTPException(status_code=403, detail="bad timestamp")
    if abs(now - int(timestamp)) > FRESH_SECONDS:
        raise HTTPException(status_code=403, detail="stale timestamp")
    key, digest = f"{scope}:nonce:{timestamp}:{nonce}", hashlib.sha256(body).hexdigest()
    try:
        held, peeked = await trips.claim(key, digest, ttl=2 * FRESH_SECONDS, peek=peek)
    except StoreError as exc:
        log.warning("webhook nonce not checked (state store unavailable): %s", exc)
        return None
    if held is None or held == digest:
        return peeked
    raise HTTPException(status_code=403, detail="nonce already used")


def safe_xml(body: bytes) -> None:
    """Refuse DTDs, entity declarations and malformed XML before any other parser sees the body."""
    try:
        SafeXml.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, SafeXml.ParseError) as exc:
        raise HTTPException(status_code=400, detail=f"unacceptable XML: {exc.__class__.__name__}") from exc
