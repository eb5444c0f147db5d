"""The WeChat Official Account channel: `/channels/wechat/{account}`.

Inbound: URL verification; every POST is checked before any work — body size, the `signature` of
token/timestamp/nonce (constant-time), XML without DTDs or entities (defusedxml), the AES envelope (`wechatpy`'s
`WeChatCrypto`, which checks `msg_signature`), then timestamp freshness and a nonce used once (in one state-store
round trip with other requests', which also tells whether texts are held for the sender). A message is handled
once per `MsgId` (events: sender + time + event), however often WeChat retries it. When the engine answers within
WeChat's deadline the answer goes back as the passive reply; otherwise the request is acknowledged with `success`
and the answer is pushed through the customer-service API (via the outbox, so it survives a crash).

Outbound (`WeChatSender`): customer-service text messages with an access token shared by every process
through the state store and refreshed under a lock. When WeChat refuses because the 48-hour window has
closed or its quota is used up, the text is held and delivered with the person's next message.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime
from typing import Any

import requests
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from wechatpy import WeChatClient, parse_message  # type: ignore[import-untyped]
from wechatpy.crypto import WeChatCrypto  # type: ignore[import-untyped]
from wechatpy.exceptions import InvalidSignatureException, WeChatClientException  # type: ignore[import-untyped]
from wechatpy.replies import TextReply  # type: ignore[import-untyped]

from wuyou.adapters import sent_marks, wechat_inbox
from wuyou.adapters.bootstrap import Desk
from wuyou.adapters.channels import WeChatAccount
from wuyou.adapters.delivery import DeliveryFailed
from wuyou.adapters.webhooks import check_fresh, read_body, refuse_for_redelivery, safe_xml
from wuyou.adapters.wx_tokens import SharedToken, StoreSession, redact
from wuyou.bot.engine import Answer, Unavailable
from wuyou.bot.messages import Attachment, Chat, Inbound, Outbound, PassiveReply, ReplyWindow, Sender
from wuyou.desk import conversations
from wuyou.store import StateStore, StoreError

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
LATE_RETRIES = 25  # a message answered `success` but not taken is tried again for about ten minutes
MAX_TEXT = 2000  # a customer-service text message's practical limit (2048 bytes of UTF-8 in places)
WINDOW_CLOSED = (45015, 45047)  # outside the 48-hour window / over the per-user quota
TOKEN_EXPIRED = (40001, 40014, 42001)

# A platform's webhook, verified by its own signature: not part of the API, so not in the spec.
router = APIRouter(prefix="/channels/wechat", tags=["wechat"], include_in_schema=False)
_pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="wechat")
MEDIA_DEADLINE = 2.0  # seconds a photo's or voice message's download may take before the webhook goes on


def _desk(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


def _account(desk: Desk, name: str) -> WeChatAccount:
    account = desk.channels.wechat.get(name)
    if account is None:
        raise HTTPException(status_code=404, detail="no such WeChat account")
    return account


def _signature_ok(token: str, signature: str, timestamp: str, nonce: str) -> bool:
    expected = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
    return hmac.compare_digest(expected.encode(), (signature or "").encode())  # bytes: any input compares


def _check_signature(account: WeChatAccount, params: dict[str, str]) -> None:
    """The query's signature, before anything is read: 403 when it does not hold."""
    if not _signature_ok(account.token, params.get("signature", ""), params.get("timestamp", ""),
                         params.get("nonce", "")):
        raise HTTPException(status_code=403, detail="bad signature")


async def _check_fresh(desk: Desk, account: WeChatAccount, params: dict[str, str], body: bytes, openid: str) -> bool:
    """Freshness and single use of the nonce (403 otherwise); whether texts are held for the sender, found in the
    same round trip to the state store."""
    held = await check_fresh(desk.trips, scope=f"wx:{account.name}", now=desk.clock().timestamp(),
                             timestamp=params.get("timestamp", ""), nonce=params.get("nonce", ""), body=body,
                             peek=_held_key(account, openid))
    return held is not None


@router.get("/{account}")
def verify(account: str, request: Request) -> Response:
    """WeChat's URL verification: echo `echostr` when the signature holds."""
    desk = _desk(request)
    acc = _account(desk, account)
    params = dict(request.query_params)
    _check_signature(acc, params)
    return Response(params.get("echostr", ""), media_type="text/plain")


@router.post("/{account}")
async def receive(account: str, request: Request) -> Response:
    """One webhook delivery from WeChat."""
    desk = _desk(request)
    acc = _account(desk, account)
    body = await read_body(request, MAX_BODY)
    params = dict(request.query_params)
    _check_signature(acc, params)
    safe_xml(body)
    if params.get("encrypt_type") != "aes":
        # The account has its EncodingAESKey: WeChat encrypts every message (安全模式, or 兼容模式 beside the plain
        # copy). A plain one is covered by the URL's signature alone, which a verification URL in a proxy log
        # would lend anyone for five minutes.
        raise HTTPException(status_code=400, detail="encrypted messages only: set the account to 安全模式")
    crypto = WeChatCrypto(acc.token, acc.aes_key, acc.app_id)
    try:
        plain = crypto.decrypt_message(body, params.get("msg_signature", ""), params["timestamp"], params["nonce"])
    except InvalidSignatureException as exc:
        raise HTTPException(status_code=403, detail="bad message signature") from exc
    except Exception as exc:  # wechatpy raises several kinds for a broken envelope
        raise HTTPException(status_code=400, detail="undecryptable message") from exc
    safe_xml(plain.encode() if isinstance(plain, str) else plain)
    try:
        message = parse_message(plain)
        for name in getattr(type(message), "_fields", {}):  # wechatpy converts fields when read: read them now
            getattr(message, name)
    except Exception as exc:
        raise HTTPException(status_code=400, detail="unreadable message") from exc
    held = await _check_fresh(desk, acc, params, body, str(message.source))
    return await _handle(desk, acc, message, plain if isinstance(plain, str) else plain.decode(), crypto, params,
                         held)


def _dedup_key(message: Any) -> str:
    if getattr(message, "type", "") == "event":
        # (with the menu key: two different clicks in one second are two events, as WeCom's key has it)
        return f"{message.source}:{message.create_time}:{getattr(message, 'event', '')}:{getattr(message, 'key', '')}"
    return str(message.id)


async def _handle(desk: Desk, acc: WeChatAccount, message: Any, plain: str, crypto: WeChatCrypto | None,
                  params: dict[str, str], held: bool) -> Response:
    started = time.monotonic()
    inbound = await _received(desk, acc, message)
    if inbound is None:
        return _success()
    # Through the batching intake, as the other channels: a message still waiting when the reply deadline passes
    # is kept in the database before `success` (below), and taken by a worker's round if this process dies first.
    waiting = desk.intake.waiting(inbound)
    waiting.add_done_callback(lambda done: done.cancelled() or done.exception())  # seen here or in _push_late
    try:
        try:
            # shield: running out of time must not cancel the engine's work, only stop waiting for it
            answer = await asyncio.wait_for(asyncio.shield(waiting),
                                            timeout=max(0.0, acc.reply_deadline - (time.monotonic() - started)))
        except (TimeoutError, FutureTimeout):
            if inbound.passive is None or inbound.passive.give_up():
                # The engine will queue the answer itself, in the transaction of the message's effects. WeChat
                # will not deliver the message again, so it is kept in the database before `success`: if this
                # process dies before taking it, a worker does.
                if not await asyncio.wrap_future(_pool.submit(_keep, desk, acc, inbound, plain)):
                    await refuse_for_redelivery(started)  # not kept: WeChat must deliver it again
                waiting.add_done_callback(lambda done: _pool.submit(_push_late, desk, acc, inbound, done))
                return _success()
            answer = await waiting  # the engine is committing an answer for this response: it is moments away
    except Unavailable:
        await refuse_for_redelivery(started)
    if answer.duplicate and not await asyncio.wrap_future(_pool.submit(claim_answer, desk, answer.receipt)):
        return _success()  # a redelivery whose answer went (or goes) out through the customer-service API
    texts = _take_held(desk.store, acc, message.source) if held else []
    text = "\n\n".join([*texts, *(_render(r) for r in answer.replies)]).strip()
    if not text:
        return _success()
    reply = TextReply(source=message.target, target=message.source, content=_cut(text)).render()
    if crypto is not None:
        reply = crypto.encrypt_message(reply, params["nonce"], params["timestamp"])
    return Response(reply, media_type="application/xml")


def _keep(desk: Desk, acc: WeChatAccount, inbound: Inbound, plain: str) -> bool:
    """Keep a message about to be answered `success` before it is taken; False when the database is down."""
    try:
        with desk.sessions() as session:
            wechat_inbox.keep(session=session, account=acc.name, delivery=inbound.dedup_key or "", body=plain,
                              now=desk.clock())
            session.commit()
    except DBAPIError as exc:
        log.warning("could not keep a late WeChat message from %s: %s", inbound.sender.platform_user_id, exc.orig)
        return False
    return True


def _forget(desk: Desk, acc: WeChatAccount, inbound: Inbound) -> None:
    """A kept message was taken (best effort: the worker's round forgets it otherwise, as a redelivery)."""
    try:
        with desk.sessions() as session:
            wechat_inbox.forget(session=session, account=acc.name, delivery=inbound.dedup_key or "")
            session.commit()
    except DBAPIError as exc:
        log.info("a taken WeChat message stays kept until the worker's round: %s", exc.orig)


def take_kept(desk: Desk) -> int:
    """The worker's round: take the kept WeChat messages their own process did not (it died, or gave up
    retrying); their answers go out through the outbox. How many were taken."""
    with desk.sessions() as session:
        rows = [(row.account, row.delivery, row.body) for row in wechat_inbox.claim(session=session, now=desk.clock())]
        session.commit()
    taken = 0
    for account, delivery, body in rows:
        acc = desk.channels.wechat.get(account)
        inbound = _inbound(desk, acc, parse_message(body)) if acc is not None else None
        if acc is not None and inbound is not None:
            assert inbound.passive is not None
            inbound.passive.give_up()  # WeChat stopped waiting long ago: the engine pushes the answer
            try:
                answer = desk.bot.receive(inbound)
            except Unavailable:
                continue  # the lease runs out and the next round tries again
            if answer.pushed:
                desk.loop.wake()
            elif not answer.duplicate:
                _queue_late(desk, acc, inbound.sender.platform_user_id, answer)
            taken += not answer.duplicate
        with desk.sessions() as session:
            wechat_inbox.forget(session=session, account=account, delivery=delivery)
            session.commit()
    return taken


def claim_answer(desk: Desk, receipt: str | None) -> bool:
    """WeChat redelivers only what it got no answer for: the redelivery answers, unless a late answer of the first
    delivery is already on its way through the outbox (whoever claims the receipt first delivers)."""
    if receipt is None:
        return True
    with desk.sessions() as session:
        mine = conversations.claim_answer(session=session, key=receipt)
        session.commit()
    return mine


def _success() -> Response:
    return Response("success", media_type="text/plain")


def _render(reply: Outbound) -> str:
    """WeChat OA text has no buttons: the engine's texts already say what to reply."""
    return reply.text


def _cut(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def _received(desk: Desk, acc: WeChatAccount, message: Any) -> Inbound | None:
    """The message as the engine takes it. A photo or a voice message is downloaded now (WeChat keeps it 3 days),
    off the event loop and for at most MEDIA_DEADLINE: a slow WeChat API must neither stall every other request of
    the process nor eat the 5 s WeChat waits for the answer — past it, the reference alone goes on, and the sender
    is asked to send it again."""
    if message.type not in ("image", "voice"):
        return _inbound(desk, acc, message)
    try:
        return await asyncio.wait_for(asyncio.wrap_future(_pool.submit(_inbound, desk, acc, message)), MEDIA_DEADLINE)
    except TimeoutError:
        log.warning("WeChat media %s not downloaded within %.1f s", message.media_id, MEDIA_DEADLINE)
        return _inbound(desk, acc, message, fetch=False)


def _inbound(desk: Desk, acc: WeChatAccount, message: Any, *, fetch: bool = True) -> Inbound | None:
    sender = Sender(platform_user_id=str(message.source))
    common: dict[str, Any] = {
        "platform": "wechat", "account": acc.name, "sender": sender,
        "chat": Chat(kind="direct", id=str(message.source)), "dedup_key": _dedup_key(message),
        "window": ReplyWindow(sync_deadline_s=acc.reply_deadline, push_window_s=48 * 3600, push_quota=5),
        "passive": PassiveReply(),
    }
    kind = message.type
    if kind == "text":
        return Inbound(text=str(message.content), **common)
    if kind == "voice":
        recognised = str(getattr(message, "recognition", "") or "")
        media = _fetch_media(desk, acc, str(message.media_id), "voice") if fetch \
            else (Attachment(kind="voice", ref=str(message.media_id)),)
        return Inbound(text=recognised, from_speech=bool(recognised), attachments=media, **common)
    if kind == "image":
        media = _fetch_media(desk, acc, str(message.media_id), "image") if fetch \
            else (Attachment(kind="image", ref=str(message.media_id)),)
        return Inbound(attachments=media, **common)
    if kind == "event":
        event = str(getattr(message, "event", "")).lower()
        if event == "subscribe":
            return Inbound(action="/help", **common)
        if event == "click":
            return Inbound(action=str(getattr(message, "key", "") or "/help"), **common)
        return None  # view, location, unsubscribe: nothing to answer
    return Inbound(text="", **common)  # video, link, ...: the engine answers politely


def _fetch_media(desk: Desk, acc: WeChatAccount, media_id: str, kind: str) -> tuple[Attachment, ...]:
    return fetch_media(_client(desk.store, acc), f"{acc.api_base}/cgi-bin/media/get", media_id, kind)


def fetch_media(client: Any, url: str, media_id: str, kind: str) -> tuple[Attachment, ...]:
    """Download temporary media now (WeChat's expires in 3 days); on failure keep only the reference."""
    try:
        response = client._http.get(url, params={"access_token": client.access_token, "media_id": media_id},
                                    timeout=2)
        response.raise_for_status()
        if "application/json" in response.headers.get("content-type", ""):
            raise ValueError(response.text[:200])
        content_type = response.headers.get("content-type", "application/octet-stream").split(";")[0]
        name = f"{media_id}.{'amr' if kind == 'voice' else 'jpg'}"
        return (Attachment(kind=kind, ref=media_id, data=response.content, name=name, content_type=content_type),)
    except Exception as exc:  # the text of the message still counts
        log.warning("could not download WeChat media %s: %s", media_id, redact(exc))
        return (Attachment(kind=kind, ref=media_id),)


def _push_late(desk: Desk, acc: WeChatAccount, inbound: Inbound, done: Future[Answer] | asyncio.Future[Answer],
               tries: int = 0) -> None:
    """The engine answered after the deadline: queue the answer for the customer-service API (unless WeChat's
    redelivery of the message already carried it). WeChat already got `success` and will not deliver the message
    again, so a message the database could not take then is taken again here, and an answer that could not be
    queued is queued again, with back-off, for several minutes."""
    openid = inbound.sender.platform_user_id
    try:
        answer = done.result()
    except Unavailable:
        _later(tries, openid, "not taken", lambda: _pool.submit(desk.bot.receive, inbound).add_done_callback(
            lambda again: _pool.submit(_push_late, desk, acc, inbound, again, tries + 1)))
        return
    except Exception:
        log.exception("could not take a WeChat message from %s", openid)
        return
    if answer.pushed:
        desk.loop.wake()  # queued by the engine with the message's effects
    else:
        _queue_late(desk, acc, openid, answer)  # someone the directory does not know, a redelivery's answer
    _forget(desk, acc, inbound)


def _queue_late(desk: Desk, acc: WeChatAccount, openid: str, answer: Answer, tries: int = 0) -> None:
    texts = [_render(r) for r in answer.replies]
    try:
        if desk.deliverer.queue_texts(platform="wechat", address=openid, texts=texts,
                                      key=f"late:{acc.name}:{answer.receipt or uuid.uuid4().hex}",
                                      receipt=answer.receipt):
            desk.loop.wake()
        else:
            _hold(desk.store, acc, openid, texts)
    except (DBAPIError, StoreError):
        _later(tries, openid, "answer not queued", lambda: _queue_late(desk, acc, openid, answer, tries + 1))
    except Exception:
        log.exception("could not queue a late WeChat answer for %s", openid)


def _later(tries: int, openid: str, what: str, again: Callable[[], object]) -> None:
    """Try again in a while (the database or the store is down); give up, loudly, after LATE_RETRIES tries."""
    if tries >= LATE_RETRIES:
        log.error("WeChat message from %s: %s after %d tries; it is lost", openid, what, tries + 1)
        return
    delay = min(2.0**tries, 30.0)
    log.warning("WeChat message from %s: %s (database or state store unavailable); trying again in %.0f s",
                openid, what, delay)
    timer = threading.Timer(delay, lambda: _pool.submit(again))
    timer.daemon = True
    timer.start()


def _held_key(acc: WeChatAccount, openid: str) -> str:
    return f"wx:held:{acc.name}:{openid}"


def _hold(store: StateStore, acc: WeChatAccount, openid: str, texts: Sequence[str]) -> None:
    """Keep texts WeChat would not take now; they go out with the person's next message."""
    with store.lock(f"{_held_key(acc, openid)}:lock", ttl=5, wait=5):
        held = json.loads(store.get(_held_key(acc, openid)) or "[]")
        store.set(_held_key(acc, openid), json.dumps([*held, *texts], ensure_ascii=False), ttl=7 * 24 * 3600)


def _take_held(store: StateStore, acc: WeChatAccount, openid: str) -> list[str]:
    """Texts held for this person (none while the store is unreachable: they wait for the next message)."""
    try:
        with store.lock(f"{_held_key(acc, openid)}:lock", ttl=5, wait=5):
            held: list[str] = json.loads(store.get(_held_key(acc, openid)) or "[]")
            if held:
                store.delete(_held_key(acc, openid))
    except StoreError as exc:
        log.warning("held WeChat texts for %s not read (state store unavailable): %s", openid, exc)
        return []
    return held


class _Client(SharedToken, WeChatClient):  # type: ignore[misc]
    """wechatpy's client pointed at the account's API host, refreshing the token once for all processes."""

    def __init__(self, account: WeChatAccount, store: StateStore) -> None:
        # auto_retry off: wechatpy would retry with the stale token; `WeChatSender` refreshes and retries once.
        super().__init__(account.app_id, account.app_secret, session=StoreSession(store, "wx"), auto_retry=False,
                         timeout=5)
        self.API_BASE_URL = f"{account.api_base}/cgi-bin/"
        self._account = account
        self._store = store

    def fetch_access_token(self) -> dict[str, Any]:
        return self._refresh_token(self._store, f"wx:token-refresh:{self.appid}", lambda: self._fetch_access_token(
            url=f"{self._account.api_base}/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        ))


def _client(store: StateStore, account: WeChatAccount) -> _Client:
    return _Client(account, store)


class WeChatSender:
    """Customer-service messages to an OA follower (`address` = openid)."""

    platform = "wechat"

    def __init__(self, account: WeChatAccount, store: StateStore) -> None:
        self._account = account
        self._store = store

    def send(
        self, *, session: Session, address: str, text: str, buttons: list[dict[str, str]], key: str, now: datetime
    ) -> None:
        sent_key = f"wx:sent:{key}"
        if sent_marks.already(self._store, sent_key):
            return  # already delivered by an earlier attempt whose bookkeeping did not commit
        client = _client(self._store, self._account)
        for attempt in range(2):
            try:
                client.message.send_text(address, _cut(text))
                sent_marks.remember(self._store, sent_key)
                return
            except WeChatClientException as exc:
                if exc.errcode in TOKEN_EXPIRED and attempt == 0:
                    client.forget_token()
                    continue
                if exc.errcode in WINDOW_CLOSED:
                    _hold(self._store, self._account, address, [text])
                    sent_marks.remember(self._store, sent_key, "held")
                    log.info("WeChat window closed for %s: message held for the next contact", address)
                    return
                raise DeliveryFailed(f"WeChat refused: {exc.errcode} {exc.errmsg}") from exc
            except (requests.RequestException, OSError) as exc:
                raise DeliveryFailed(f"WeChat unreachable: {redact(exc)}") from exc
        raise DeliveryFailed("WeChat access token could not be refreshed")
