"""The WeCom (企业微信) self-built app channel: `/channels/wecom/{account}`.

Inbound: the callback's URL verification and AES messages (`wechatpy.enterprise`), checked like the
WeChat OA's (freshness, single-use nonce, defused XML, `msg_signature`), handled once per message;
text / image / voice from the app's 1:1 chat, menu clicks, and `template_card_event` — a button on a
card — handled as that button's action, after which the card's buttons are replaced by what was done.
The webhook is acknowledged at once with an empty body; answers go out through the API (WeCom allows
it at any time for an app's members).

Outbound (`WeComSender`): text, or a `button_interaction` template card when the message has buttons
(button keys are short tokens mapped to actions in the state store); an access token shared by all
processes and refreshed under a lock; a send already made is never repeated. `AppChat` creates
war-room group chats, adds members and posts to them (app group chats are push-only).
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import requests
from defusedxml import ElementTree as SafeXml
from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from wechatpy.enterprise import WeChatClient  # type: ignore[import-untyped]
from wechatpy.enterprise.crypto import WeChatCrypto  # type: ignore[import-untyped]
from wechatpy.exceptions import InvalidSignatureException, WeChatClientException  # type: ignore[import-untyped]

from wuyou.adapters import sent_marks
from wuyou.adapters.bootstrap import Desk
from wuyou.adapters.channels import WeComAccount
from wuyou.adapters.delivery import DeliveryFailed
from wuyou.adapters.rate_limits import SlidingWindows
from wuyou.adapters.webhooks import check_fresh, read_body, refuse_for_redelivery, safe_xml
from wuyou.adapters.wechat import MAX_BODY, TOKEN_EXPIRED, fetch_media
from wuyou.adapters.wx_tokens import SharedToken, StoreSession, redact
from wuyou.bot.engine import Unavailable
from wuyou.bot.messages import Chat, Inbound, ReplyWindow, Sender
from wuyou.desk.org import person_by_identity
from wuyou.store import StateStore

log = logging.getLogger(__name__)

MAX_TEXT_BYTES = 2048  # WeCom text messages take 2048 bytes (UTF-8: a Chinese character is three)
EXPIRED_BUTTON = "/expired"  # what a button whose action is forgotten does: the person is told to type it
CARD_LABEL = 12  # characters on a card's disabled button after a press
BUTTON_TTL = 7 * 24 * 3600
PER_MEMBER_MINUTE, PER_MEMBER_HOUR = 30, 1000
# A platform's webhook, verified by its own signature: not part of the API, so not in the spec.
router = APIRouter(prefix="/channels/wecom", tags=["wecom"], include_in_schema=False)


def _desk(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


def _account(desk: Desk, name: str) -> WeComAccount:
    account = desk.channels.wecom.get(name)
    if account is None:
        raise HTTPException(status_code=404, detail="no such WeCom account")
    return account


@router.get("/{account}")
def verify(account: str, request: Request) -> Response:
    """WeCom's URL verification: decrypt and echo `echostr` when `msg_signature` holds."""
    acc = _account(_desk(request), account)
    return echo(WeChatCrypto(acc.token, acc.aes_key, acc.corp_id), dict(request.query_params))


def echo(crypto: WeChatCrypto, p: dict[str, str]) -> Response:
    """The decrypted `echostr` of a URL verification, 403 unless its `msg_signature` holds."""
    try:
        echoed = crypto.check_signature(p.get("msg_signature", ""), p.get("timestamp", ""), p.get("nonce", ""),
                                        p.get("echostr", ""))
    except Exception as exc:
        raise HTTPException(status_code=403, detail="bad signature") from exc
    return Response(echoed, media_type="text/plain")


@router.post("/{account}")
async def receive(account: str, request: Request) -> Response:
    desk = _desk(request)
    acc = _account(desk, account)
    body = await read_body(request, MAX_BODY)
    p = dict(request.query_params)
    safe_xml(body)
    crypto = WeChatCrypto(acc.token, acc.aes_key, acc.corp_id)
    try:
        plain = crypto.decrypt_message(body, p.get("msg_signature", ""), p.get("timestamp", ""), p.get("nonce", ""))
    except InvalidSignatureException as exc:
        raise HTTPException(status_code=403, detail="bad message signature") from exc
    except Exception as exc:
        raise HTTPException(status_code=400, detail="undecryptable message") from exc
    await check_fresh(desk.trips, scope=f"wecom:{acc.name}", now=desk.clock().timestamp(), timestamp=p["timestamp"],
                      nonce=p["nonce"], body=body)
    raw = plain.encode() if isinstance(plain, str) else plain
    safe_xml(raw)
    fields = {child.tag: (child.text or "") for child in SafeXml.fromstring(raw)}
    started = time.monotonic()
    try:
        await run_in_threadpool(_handle, desk, acc, fields)
    except Unavailable:
        await refuse_for_redelivery(started)
    return Response("", media_type="text/plain")


def _dedup_key(fields: dict[str, str]) -> str:
    if fields.get("MsgId"):
        return fields["MsgId"]
    return f"{fields.get('FromUserName')}:{fields.get('CreateTime')}:{fields.get('Event')}:{fields.get('EventKey')}"


def _handle(desk: Desk, acc: WeComAccount, fields: dict[str, str]) -> None:
    try:
        inbound = _inbound(desk, acc, fields)
    except OperationalError as exc:  # the sender's look-up: the database is down, nothing is taken yet
        raise Unavailable(str(exc)) from exc
    if inbound is None:
        return
    # A redelivery is answered from the message's receipt; replies already sent are skipped by their keys.
    replies = desk.intake.submit(inbound).result().replies
    sender = WeComSender(acc, desk.store)
    for i, reply in enumerate(replies):
        try:
            sender.post(user=inbound.sender.platform_user_id, text=reply.text,
                        buttons=[{"label": b.label, "action": b.action} for b in reply.buttons],
                        key=f"reply:{_dedup_key(fields)}:{i}")
        except DeliveryFailed as exc:  # the outbox keeps trying (without the buttons)
            log.warning("WeCom reply to %s deferred: %s", inbound.sender.platform_user_id, exc)
            desk.deliverer.queue_texts(platform="wecom", address=inbound.sender.platform_user_id, texts=[reply.text],
                                       key=f"wecom:reply:{_dedup_key(fields)}:{i}")
    if fields.get("Event") == "template_card_event" and fields.get("ResponseCode"):
        sender.close_card(fields["ResponseCode"], user=inbound.sender.platform_user_id,
                          done=card_label(replies[0].text if replies else ""))


def sender_of(desk: Desk, acc: WeComAccount, user: str) -> Sender:
    """The sender; for someone not in the directory yet, with their WeCom name and department as a hint."""
    with desk.sessions() as session:
        if person_by_identity(session=session, platform="wecom", external_id=user) is not None:
            return Sender(platform_user_id=user)
    try:
        client = _Client(acc, desk.store)
        profile = client.get("user/get", params={"userid": user})
        departments = profile.get("department") or []
        unit = ""
        if departments:
            found = client.get("department/get", params={"id": departments[0]})
            unit = str((found.get("department") or {}).get("name", ""))
        return Sender(platform_user_id=user, display_name=str(profile.get("name", "")), org_unit=unit)
    except (WeChatClientException, requests.RequestException, OSError) as exc:
        log.info("no WeCom profile for %s: %s", user, redact(exc))
        return Sender(platform_user_id=user)


def _inbound(desk: Desk, acc: WeComAccount, fields: dict[str, str]) -> Inbound | None:
    user = fields.get("FromUserName", "")
    common: dict[str, Any] = {
        "platform": "wecom", "account": acc.name, "sender": sender_of(desk, acc, user),
        "chat": Chat(kind="direct", id=user), "dedup_key": _dedup_key(fields),
        "window": ReplyWindow(sync_deadline_s=4.5),
    }
    kind = fields.get("MsgType", "")
    if kind == "text":
        return Inbound(text=fields.get("Content", ""), **common)
    if kind in ("image", "voice", "file"):
        client = _Client(acc, desk.store)
        media = fetch_media(client, f"{acc.api_base}/cgi-bin/media/get", fields.get("MediaId", ""),
                            "image" if kind == "image" else kind)
        recognised = fields.get("Recognition", "")
        return Inbound(text=recognised, from_speech=bool(recognised), attachments=media, **common)
    if kind == "event":
        event = fields.get("Event", "")
        if event == "template_card_event":
            action = desk.store.get(f"wecom:btn:{fields.get('EventKey', '')}")
            # (a button the store no longer knows — a week old, or kept in a store that restarted: said so)
            return Inbound(action=str(action) if action else EXPIRED_BUTTON, **common)
        if event == "click":
            return Inbound(action=fields.get("EventKey") or "/help", **common)
        if event in ("subscribe", "enter_agent"):
            return None
        return None
    return Inbound(text="", **common)  # video, location, ...: the engine answers politely


class _Client(SharedToken, WeChatClient):  # type: ignore[misc]
    """wechatpy's WeCom client on the account's API host; one token refresh for all processes."""

    def __init__(self, account: WeComAccount, store: StateStore) -> None:
        super().__init__(account.corp_id, account.secret, session=StoreSession(store, "wecom"), auto_retry=False,
                         timeout=5)
        self.API_BASE_URL = f"{account.api_base}/cgi-bin/"
        self._account = account
        self._store = store

    def fetch_access_token(self) -> dict[str, Any]:
        lock = f"wecom:token-refresh:{self._account.corp_id}:{self._account.agent_id}"
        return self._refresh_token(self._store, lock, lambda: self._fetch_access_token(
            url=f"{self._account.api_base}/cgi-bin/gettoken",
            params={"corpid": self._account.corp_id, "corpsecret": self._account.secret},
        ))

    def call(self, endpoint: str, data: dict[str, Any]) -> dict[str, Any]:
        """POST an API call, refreshing an expired token once; WeChatClientException on refusal."""
        for attempt in range(2):
            try:
                result: dict[str, Any] = self.post(endpoint, data=data)
                return result
            except WeChatClientException as exc:
                if exc.errcode in TOKEN_EXPIRED and attempt == 0:
                    self.forget_token()
                    continue
                raise
        raise WeChatClientException(errcode=-1, errmsg="token refresh failed")


def _card(text: str, buttons: Sequence[dict[str, str]], store: StateStore, task_id: str) -> dict[str, Any]:
    lines = text.splitlines() or [""]
    button_list = []
    for button in buttons[:6]:
        token = secrets.token_urlsafe(9)
        store.set(f"wecom:btn:{token}", button["action"], ttl=BUTTON_TTL)
        button_list.append({"text": button["label"][:10], "style": 1, "key": token})
    return {
        "card_type": "button_interaction",
        "main_title": {"title": lines[0][:36]},
        "sub_title_text": "\n".join(lines[1:])[:500],
        "task_id": task_id,
        "button_list": button_list,
    }


class WeComSender:
    """Messages from the app to a member (`address` = WeCom userid)."""

    platform = "wecom"

    def __init__(self, account: WeComAccount, store: StateStore) -> None:
        self._account = account
        self._store = store

    def send(
        self, *, session: Session, address: str, text: str, buttons: list[dict[str, str]], key: str, now: datetime
    ) -> None:
        self.post(user=address, text=text, buttons=buttons, key=key)

    def post(self, *, user: str, text: str, buttons: Sequence[dict[str, str]], key: str) -> None:
        sent = f"wecom:sent:{key}"
        if sent_marks.already(self._store, sent):
            return  # a retried outbox row must not post twice
        # WeCom drops, without an error, what exceeds 30 messages a minute or 1000 an hour to one member.
        scope = f"wecom:rate:{self._account.corp_id}:{self._account.agent_id}:{user}"
        wait = SlidingWindows(self._store).reserve(scope, [(f"{scope}:m", 60.0, PER_MEMBER_MINUTE),
                                                           (f"{scope}:h", 3600.0, PER_MEMBER_HOUR)])
        if wait > 0:
            raise DeliveryFailed(f"WeCom limit for {user}: wait {wait:.0f} s", retry_after=wait)
        task_id = "wy" + secrets.token_hex(8)
        if buttons:
            data: dict[str, Any] = {"touser": user, "msgtype": "template_card", "agentid": self._account.agent_id,
                                    "template_card": _card(text, buttons, self._store, task_id)}
        else:
            data = {"touser": user, "msgtype": "text", "agentid": self._account.agent_id,
                    "text": {"content": cut_bytes(text, MAX_TEXT_BYTES)}}
        self._call(data)
        sent_marks.remember(self._store, sent, task_id)

    def markdown(self, *, user: str, content: str) -> None:
        """A markdown message (WeCom's subset: headings, bold, links, coloured text)."""
        self._call({"touser": user, "msgtype": "markdown", "agentid": self._account.agent_id,
                    "markdown": {"content": content[:4000]}})

    def text_card(self, *, user: str, title: str, description: str, url: str, button: str = "详情") -> None:
        """A text card: title, a few lines and a link (a ticket's or a war-room's page)."""
        self._call({"touser": user, "msgtype": "textcard", "agentid": self._account.agent_id,
                    "textcard": {"title": title[:128], "description": description[:512], "url": url,
                                 "btntxt": button[:4]}})

    def _call(self, data: dict[str, Any]) -> None:
        try:
            _Client(self._account, self._store).call("message/send", data)
        except WeChatClientException as exc:
            raise DeliveryFailed(f"WeCom refused: {exc.errcode} {exc.errmsg}") from exc
        except (requests.RequestException, OSError) as exc:
            raise DeliveryFailed(f"WeCom unreachable: {redact(exc)}") from exc

    def close_card(self, response_code: str, *, user: str, done: str) -> None:
        """After a button was pressed: the presser's card's buttons become one disabled button saying what happened."""
        data = {"userids": [user], "agentid": self._account.agent_id, "response_code": response_code,
                "button": {"replace_name": done}}
        try:
            _Client(self._account, self._store).call("message/update_template_card", data)
        except (WeChatClientException, requests.RequestException, OSError) as exc:
            log.info("could not update a WeCom card: %s", redact(exc))


class AppChat:
    """WeCom group chats created by the app (war-rooms): push-only, 2–2000 members."""

    def __init__(self, account: WeComAccount, store: StateStore) -> None:
        self._client = _Client(account, store)

    def create(self, *, chat_id: str, name: str, owner: str, members: Sequence[str]) -> str:
        result = self._client.call("appchat/create", {"chatid": chat_id, "name": name, "owner": owner,
                                                       "userlist": list(dict.fromkeys([owner, *members]))})
        return str(result.get("chatid", chat_id))

    def add_members(self, *, chat_id: str, members: Sequence[str]) -> None:
        self._client.call("appchat/update", {"chatid": chat_id, "add_user_list": list(members)})

    def send(self, *, chat_id: str, text: str) -> None:
        self._client.call("appchat/send", {"chatid": chat_id, "msgtype": "text", "text": {"content": text}})


def button_action(store: StateStore, key: str) -> str | None:
    """The action a card button's key stands for (for tests and tools)."""
    value = store.get(f"wecom:btn:{key}")
    return None if value is None else str(value)


def cut_bytes(text: str, most: int) -> str:
    """The text, or as much of it as fits in `most` UTF-8 bytes with an ellipsis (never half a character)."""
    if len(text.encode("utf-8")) <= most:
        return text
    room = most - len("…".encode())
    return text.encode("utf-8")[:room].decode("utf-8", errors="ignore") + "…"


_NUMBERED = re.compile(r"^(.*?#\d+)")


def card_label(reply: str) -> str:
    """What a card's disabled button says after a press: the answer's first line if short, else up to the ticket
    number it names (✅ 已接单 #1002, not ✅ 已接单 #100), else a plain ✓ 已处理 (not 这张单已由 演示工程)."""
    first = reply.splitlines()[0].strip() if reply.strip() else ""
    if first and len(first) <= CARD_LABEL:
        return first
    numbered = _NUMBERED.match(first)
    if numbered and len(numbered.group(1)) <= CARD_LABEL:
        return numbered.group(1)
    return "✓ 已处理"
