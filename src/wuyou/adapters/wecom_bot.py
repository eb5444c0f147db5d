"""The WeCom AI bot (智能机器人, API mode) callback: `/channels/wecom/{account}/bot`.

A WeCom app's group chats are push-only; the corp's AI bot, added to a group, receives the messages that @-mention
it there (and its 1:1 chats), as encrypted JSON. Where the account has the bot's `bot_token` and `bot_aes_key`, a
war-room or branch group becomes two-way for those messages: `@无忧 通报 INC-7 …`, `@无忧 打印机卡纸了`.

Inbound, checked as the app's callback is: the URL verification, `msg_signature` over the `encrypt` field,
wechatpy's AES envelope (its `WeChatCrypto` with an empty receive id, as WeCom documents for AI bots), timestamp
freshness with a nonce used once; handled once per `msgid` however often WeCom retries. The sender is the same
WeCom userid the app knows (`wecom:` identities); a group is an incident's war-room when it is the app group the
desk opened for it, or once staff name the open incident there (`@无忧 INC-7 …`, bot.incidents).

The answer goes back as the passive reply — a finished stream message (markdown), the only kind WeCom takes as an
answer to a message — when the engine answers within `reply_deadline`; otherwise the engine queues it through the
outbox (to the person, through the app) in the transaction of the message's effects, and the request is answered
empty once that is committed (WeCom delivers again what gets no answer at all).

Pictures and files (a photo 1:1, or with words in a group's mixed message) are fetched and decrypted before the
engine sees the message (wecom_bot_media), and go with the report like the app chat's photos.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import time
from typing import Any

from defusedxml import ElementTree as SafeXml
from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy.exc import OperationalError
from wechatpy.enterprise.crypto import WeChatCrypto  # type: ignore[import-untyped]
from wechatpy.exceptions import InvalidSignatureException  # type: ignore[import-untyped]

from wuyou.adapters import wecom_bot_media as bot_media
from wuyou.adapters.bootstrap import Desk
from wuyou.adapters.channels import WeComAccount
from wuyou.adapters.webhooks import check_fresh, read_body, refuse_for_redelivery
from wuyou.adapters.wechat import claim_answer
from wuyou.adapters.wecom import echo, sender_of
from wuyou.bot.engine import Answer, Unavailable
from wuyou.bot.messages import Chat, Inbound, PassiveReply, ReplyWindow
from wuyou.i18n import DEFAULT_LOCALE
from wuyou.store import StoreError

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
MAX_STREAM = 20_000  # a stream message's content takes 20,480 bytes
STREAM_TTL = 600  # WeCom asks for a stream's content again (msgtype stream) for a few minutes
_MENTION = re.compile(r"^\s*@\S+\s*")  # the @bot that addressed the message
router = APIRouter(prefix="/channels/wecom", tags=["wecom"], include_in_schema=False)


def _desk(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


def _account(desk: Desk, name: str) -> tuple[WeComAccount, WeChatCrypto]:
    account = desk.channels.wecom.get(name)
    if account is None or not account.bot_token or not account.bot_aes_key:
        raise HTTPException(status_code=404, detail="no AI bot on such a WeCom account")
    return account, WeChatCrypto(account.bot_token, account.bot_aes_key, "")  # an AI bot's receive id is empty


@router.get("/{account}/bot")
def verify(account: str, request: Request) -> Response:
    """The bot's URL verification: decrypt and echo `echostr` when `msg_signature` holds."""
    _, crypto = _account(_desk(request), account)
    return echo(crypto, dict(request.query_params))


@router.post("/{account}/bot")
async def receive(account: str, request: Request) -> Response:
    desk = _desk(request)
    acc, crypto = _account(desk, account)
    body = await read_body(request, MAX_BODY)
    p = dict(request.query_params)
    try:
        envelope = json.loads(body)
        encrypted = envelope["encrypt"]
        if not isinstance(encrypted, str):
            raise TypeError("encrypt is not a string")
    except (ValueError, KeyError, TypeError) as exc:
        raise HTTPException(status_code=400, detail="not an AI bot callback") from exc
    try:
        plain = crypto.decrypt_message({"Encrypt": encrypted}, p.get("msg_signature", ""), p.get("timestamp", ""),
                                       p.get("nonce", ""))
    except InvalidSignatureException as exc:
        raise HTTPException(status_code=403, detail="bad message signature") from exc
    except Exception as exc:  # wechatpy raises several kinds for a broken envelope
        raise HTTPException(status_code=400, detail="undecryptable message") from exc
    await check_fresh(desk.trips, scope=f"wecom-bot:{acc.name}", now=desk.clock().timestamp(),
                      timestamp=p["timestamp"], nonce=p["nonce"], body=body)
    try:
        message = json.loads(plain)
        if not isinstance(message, dict):
            raise TypeError("not an object")
    except (ValueError, TypeError) as exc:
        raise HTTPException(status_code=400, detail="unreadable message") from exc
    if message.get("msgtype") == "stream":  # WeCom asking again for a stream already answered in full
        stream_id = str(_part(message, "stream").get("id", ""))
        try:
            content = desk.store.get(_stream_key(acc, stream_id))
        except StoreError:
            content = None
        return _reply(crypto, p, _stream(stream_id, content)) if content is not None else _empty()
    if message.get("msgtype") == "event" and _part(message, "event").get("eventtype") == "enter_chat":
        # Someone opens their 1:1 chat with the bot (the first time that day): WeCom shows a welcome, if given one.
        welcome = desk.catalog.t("greeting", desk.settings.locale, name="")
        return _reply(crypto, p, {"msgtype": "text", "text": {"content": welcome}})
    started = time.monotonic()
    try:
        inbound = await run_in_threadpool(_inbound, desk, acc, message)
    except OperationalError:  # the sender's look-up: the database is down, nothing is taken yet
        await refuse_for_redelivery(started)
    if inbound is None:
        return _empty()
    return await _answer(desk, acc, crypto, p, inbound, started)


async def _answer(desk: Desk, acc: WeComAccount, crypto: WeChatCrypto, params: dict[str, str],
                  inbound: Inbound, started: float) -> Response:
    waiting = desk.intake.waiting(inbound)
    try:
        try:
            # shield: running out of time must not cancel the engine's work, only stop waiting for it
            # (the deadline counts from the callback's arrival: fetching its photos took part of it already — waited
            # in full after them, the passive reply missed WeCom's 5 s and the answer was lost)
            left = max(0.0, acc.reply_deadline - (time.monotonic() - started))
            answer: Answer = await asyncio.wait_for(asyncio.shield(waiting), timeout=left)
        except TimeoutError:
            assert inbound.passive is not None
            if inbound.passive.give_up():
                # The engine queues the answer itself, in the transaction of the message's effects; the request is
                # answered once that is committed (a process that dies first gets no answer: WeCom delivers again).
                await waiting
                return _empty()
            answer = await waiting  # the engine is committing an answer for this response: it is moments away
    except Unavailable:
        await refuse_for_redelivery(started)
    if answer.duplicate and not await run_in_threadpool(claim_answer, desk, answer.receipt):
        return _empty()  # a redelivery whose answer went (or goes) out through the app
    text = "\n\n".join(r.text for r in answer.replies).strip()
    if not text:
        return _empty()
    if inbound.chat.kind == "group" and any(r.buttons for r in answer.replies):
        # The bot sees only the group's messages that @-mention it: "回复 1" typed alone would never reach it.
        text += "\n" + desk.bot.catalog.t("group_answer_by_mention", DEFAULT_LOCALE)
    stream_id = "wy" + secrets.token_hex(8)
    text = text if len(text.encode()) <= MAX_STREAM else text[: MAX_STREAM // 3 - 1] + "…"
    try:
        desk.store.set(_stream_key(acc, stream_id), text, ttl=STREAM_TTL)  # for WeCom's polls of the stream
    except StoreError as exc:
        log.warning("could not keep WeCom stream %s for its polls: %s", stream_id, exc)
    return _reply(crypto, params, _stream(stream_id, text))


def _inbound(desk: Desk, acc: WeComAccount, message: dict[str, Any]) -> Inbound | None:
    """What the engine should see of a callback; None for what it should not (events, unknown kinds)."""
    kind = str(message.get("msgtype", ""))
    user = str(_part(message, "from").get("userid", ""))
    if not user or kind == "event":
        return None
    text, spoken = "", False
    if kind == "text":
        text = str(_part(message, "text").get("content", ""))
    elif kind == "voice":
        text, spoken = str(_part(message, "voice").get("content", "")), True
    elif kind == "mixed":
        items = _part(message, "mixed").get("msg_item")
        text = " ".join(str(_part(i, "text").get("content", "")) for i in (items if isinstance(items, list) else [])
                        if isinstance(i, dict) and i.get("msgtype") == "text")
    text = _MENTION.sub("", text, count=1).strip()
    msgid = message.get("msgid")
    media = tuple(bot_media.fetch(kind_, item, bot_key=acc.bot_aes_key or "")
                  for kind_, item in bot_media.media_items(message))
    chat = Chat(kind="direct", id=user)
    group = message.get("chatid")
    if message.get("chattype") == "group" and isinstance(group, str) and group:
        chat = Chat(kind="group", id=group[:200])
    return Inbound(platform="wecom", account=acc.name, sender=sender_of(desk, acc, user), text=text,
                   from_speech=spoken, attachments=media, chat=chat, dedup_key=f"bot:{msgid}" if msgid else None,
                   window=ReplyWindow(sync_deadline_s=acc.reply_deadline), passive=PassiveReply())


def _part(message: dict[str, Any], name: str) -> dict[str, Any]:
    """A part of the callback that should be an object ({} when it is missing or is not one)."""
    value = message.get(name)
    return value if isinstance(value, dict) else {}


def _stream_key(acc: WeComAccount, stream_id: str) -> str:
    return f"wecom:bot-stream:{acc.name}:{stream_id}"


def _stream(stream_id: str, content: object) -> dict[str, Any]:
    return {"msgtype": "stream", "stream": {"id": stream_id, "finish": True, "content": str(content)}}


def _reply(crypto: WeChatCrypto, params: dict[str, str], message: dict[str, Any]) -> Response:
    """The passive reply: the message encrypted as WeCom expects it of an AI bot (JSON, not XML)."""
    nonce, timestamp = params.get("nonce") or secrets.token_hex(8), params.get("timestamp") or str(int(time.time()))
    xml = crypto.encrypt_message(json.dumps(message, ensure_ascii=False), nonce, timestamp)
    fields = {child.tag: (child.text or "") for child in SafeXml.fromstring(xml)}
    return Response(json.dumps({"encrypt": fields["Encrypt"], "msgsignature": fields["MsgSignature"],
                                "timestamp": int(fields["TimeStamp"]), "nonce": fields["Nonce"]}),
                    media_type="application/json")


def _empty() -> Response:
    return Response("", media_type="text/plain")
