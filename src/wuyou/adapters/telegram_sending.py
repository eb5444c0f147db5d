"""Telegram outbound: `TelegramSender` posts through the Bot API with python-telegram-bot's `Bot`.

Exactly once: a message is remembered in the store under its key once Telegram took it (each part of a long
text on its own), so a retried outbox row or webhook never posts it twice. Buttons become an inline keyboard
whose `callback_data` is a short random token; the token's action stays in the store for a week. Telegram's
flood limits (30 messages a second per bot, 20 a minute per group) are kept by `RateLimiter`, shared by every
process through the store.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
import threading
import time
import warnings
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.orm import Session
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.error import ChatMigrated, RetryAfter, TelegramError, TimedOut
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from wuyou.adapters import sent_marks
from wuyou.adapters.channels import TelegramAccount
from wuyou.adapters.delivery import DeliveryFailed
from wuyou.adapters.rate_limits import SlidingWindows, Window
from wuyou.bot.messages import Button
from wuyou.store import StateStore

log = logging.getLogger(__name__)

MAX_TEXT = 4096  # per message, counted in UTF-16 code units as Telegram counts
BUTTON_TTL = 7 * 24 * 3600
SENT_TTL = 7 * 24 * 3600
ME_TTL = 24 * 3600
PER_SECOND = 30
PER_GROUP_MINUTE = 20
MAX_INLINE_WAIT = 1.0  # shorter waits for a free slot are slept through; longer ones go back to the outbox
CALL_TIMEOUT = 30.0

_T = TypeVar("_T")


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of at most `limit` UTF-16 units, cut after a line break when there is one in the second half."""
    parts: list[str] = []
    while _units(text) > limit:
        cut, used = 0, 0
        while used + _units(text[cut]) <= limit:
            used += _units(text[cut])
            cut += 1
        newline = text.rfind("\n", 0, cut)
        if newline >= cut // 2:
            cut = newline + 1
        parts.append(text[:cut].rstrip("\n"))
        text = text[cut:]
    return [*parts, text]


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def button_action(store: StateStore, token: str) -> str | None:
    """The action behind a pressed inline button's `callback_data`, while it is remembered."""
    return store.get(f"tg:cb:{token}") if token else None


def button_owner(store: StateStore, token: str) -> str | None:
    """The Telegram user a group message's button was for (pressed by anyone else, it is not theirs to answer)."""
    return store.get(f"tg:cb:{token}:for") if token else None


def current_chat(store: StateStore, chat_id: str) -> str:
    """The chat id to write to: a group that became a supergroup has a new id."""
    return store.get(f"tg:migrated:{chat_id}") or chat_id


def record_migration(store: StateStore, old: str, new: str) -> None:
    """Remember for good that group `old` is now supergroup `new` (the old id never works again)."""
    store.set(f"tg:migrated:{old}", new)


class RateLimiter:
    """At most 30 messages a second per bot and 20 a minute per group chat, for every process together."""

    def __init__(self, store: StateStore, *, clock: Callable[[], float] = time.time) -> None:
        self._windows = SlidingWindows(store, clock=clock, busy_wait=MAX_INLINE_WAIT)

    def reserve(self, bot: str, chat_id: str) -> float:
        """Take a slot for one message to `chat_id`: 0 when taken, else the seconds to wait (nothing taken)."""
        windows: list[Window] = [(f"tg:rate:{bot}", 1.0, PER_SECOND)]
        if chat_id.startswith("-"):  # groups, supergroups and channels have negative ids
            windows.append((f"tg:rate:{bot}:{chat_id}", 60.0, PER_GROUP_MINUTE))
        return self._windows.reserve(f"tg:rate:{bot}", windows)


class _Loop:
    """PTB's Bot is async and our callers are threads (the outbox worker, the webhook's thread pool): every
    call runs on one private event loop, so each bot keeps one connection pool across calls."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, name="telegram-api", daemon=True).start()

    def run(self, coro: Coroutine[Any, Any, _T]) -> _T:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(CALL_TIMEOUT)
        except FutureTimeout as exc:
            future.cancel()
            raise DeliveryFailed("Telegram did not answer in time") from exc


@functools.cache
def _loop() -> _Loop:
    return _Loop()


# How long a send waits for Telegram's answer. Past it, the message may well have been posted (Telegram has no
# idempotency key): python-telegram-bot's 5 s made a slow API post one notification five times, each try timed out.
READ_TIMEOUT = 30.0
TIMED_OUT_RETRY = 120.0  # a send that timed out is tried again only this much later


@functools.cache
def _bot(api_base: str, token: str) -> Bot:
    return Bot(token, base_url=f"{api_base}/bot", base_file_url=f"{api_base}/file/bot",
               request=HTTPXRequest(read_timeout=READ_TIMEOUT, write_timeout=READ_TIMEOUT))


def _retry_after(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # the int form is deprecated in PTB 22 but still what it returns by default
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramSender:
    """One bot's way out (`address` = a chat id): the outbox's ChannelSender and the webhook's replier."""

    platform = "telegram"

    def __init__(self, account: TelegramAccount, store: StateStore, *, limiter: RateLimiter | None = None) -> None:
        self._account = account
        self._store = store
        self._limiter = limiter or RateLimiter(store)

    def send(
        self, *, session: Session, address: str, text: str, buttons: list[dict[str, str]], key: str, now: datetime
    ) -> None:
        """Deliver one outbox message (once, however often the outbox retries it) to a chat, or a forum topic
        (`chat#topic`); a button's `for` names the user it is for (a reporter's news in a group)."""
        owner = next((b["for"] for b in buttons if b.get("for")), None)
        chat, _, topic = address.partition("#")  # a forum topic of a group: "-100123#45"
        self.post(chat_id=chat, text=text, buttons=[Button(b["label"], b["action"]) for b in buttons], key=key,
                  owner=owner, thread_id=topic or None)

    def post(self, *, chat_id: str, text: str, buttons: Sequence[Button] = (), key: str,
             thread_id: str | None = None, reply_to: int | None = None, owner: str | None = None) -> None:
        """Send `text` (in several messages when long, the buttons under the last) unless `key` was sent; `owner`:
        the user the buttons are for (in a group, where everyone sees them)."""
        done = f"tg:sent:{key}"
        if sent_marks.already(self._store, done) or not text.strip():
            return
        parts = split_text(text)
        for i, part in enumerate(parts):
            part_done = f"{done}:{i}"
            if len(parts) > 1 and sent_marks.already(self._store, part_done):
                continue  # an earlier attempt got this far
            markup = self._keyboard(buttons, owner) if i == len(parts) - 1 else None
            self._send_one(chat_id, part, markup, thread_id, reply_to if i == 0 else None)
            if len(parts) > 1:
                sent_marks.remember(self._store, part_done, ttl=SENT_TTL)
        sent_marks.remember(self._store, done, ttl=SENT_TTL)

    def create_topic(self, *, chat_id: str, name: str) -> str:
        """A forum topic in a supergroup where the bot is an admin (a war-room); its thread id."""
        topic = self._call(self._api().create_forum_topic(chat_id=current_chat(self._store, chat_id), name=name[:128]))
        return str(topic.message_thread_id)

    def answer_callback(self, callback_id: str, text: str | None = None) -> None:
        """Stop the pressed button's spinner (with a short notice to the one who pressed it, if given)."""
        self._call(self._api().answer_callback_query(callback_id, text=text))

    def clear_keyboard(self, chat_id: str | int, message_id: int) -> None:
        """Take the buttons off a message once one of them is pressed: pressed again later, its "1" would answer
        whatever question is open by then (a category for an article's number)."""
        self._call(self._api().edit_message_reply_markup(chat_id=chat_id, message_id=message_id, reply_markup=None))

    def download(self, file_id: str) -> bytes:
        """A file a user sent (photo, voice, document), fetched through getFile."""
        async def fetch() -> bytes:
            handle = await self._api().get_file(file_id)
            return bytes(await handle.download_as_bytearray())

        return self._call(fetch())

    def me(self) -> tuple[int, str]:
        """The bot's user id and username (getMe, remembered for a day)."""
        key = f"tg:me:{self._account.name}"
        cached = self._store.get(key)
        if cached:
            user_id, _, username = cached.partition(":")
            return int(user_id), username
        user = self._call(self._api().get_me())
        self._store.set(key, f"{user.id}:{user.username or ''}", ttl=ME_TTL)
        return user.id, user.username or ""

    def _send_one(self, chat_id: str, text: str, markup: InlineKeyboardMarkup | None, thread_id: str | None,
                  reply_to: int | None) -> None:
        target = current_chat(self._store, chat_id)
        self._take_slot(target)
        reply = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
        for _ in range(2):
            try:
                self._call(self._api().send_message(
                    chat_id=target, text=text, reply_markup=markup, reply_parameters=reply,
                    message_thread_id=int(thread_id) if thread_id else None,
                ))
                return
            except ChatMigrated as exc:
                record_migration(self._store, target, str(exc.new_chat_id))
                target = str(exc.new_chat_id)
        raise DeliveryFailed(f"Telegram chat {chat_id} keeps moving")

    def _take_slot(self, chat_id: str) -> None:
        wait = 0.0
        for _ in range(3):
            wait = self._limiter.reserve(self._account.name, chat_id)
            if wait <= 0:
                return
            if wait > MAX_INLINE_WAIT:
                break
            time.sleep(wait)
        raise DeliveryFailed(f"over Telegram's rate limit for chat {chat_id}", retry_after=wait)

    def _keyboard(self, buttons: Sequence[Button], owner: str | None = None) -> InlineKeyboardMarkup | None:
        if not buttons:
            return None
        rows = []
        for button in buttons:
            token = secrets.token_urlsafe(12)  # 16 characters: callback_data may hold at most 64 bytes
            self._store.set(f"tg:cb:{token}", button.action, ttl=BUTTON_TTL)
            if owner:
                self._store.set(f"tg:cb:{token}:for", owner, ttl=BUTTON_TTL)
            rows.append([InlineKeyboardButton(button.label, callback_data=token)])
        return InlineKeyboardMarkup(rows)

    def _api(self) -> Bot:
        return _bot(self._account.api_base, self._account.token)

    def _call(self, coro: Coroutine[Any, Any, _T]) -> _T:
        """Run one Bot API call; its failures become DeliveryFailed (a moved group is the caller's to follow)."""
        try:
            return _loop().run(coro)
        except ChatMigrated:
            raise
        except RetryAfter as exc:
            raise DeliveryFailed(f"Telegram flood control: {exc.message}", retry_after=_retry_after(exc)) from exc
        except TimedOut as exc:  # (it may have been posted: not tried again at once)
            raise DeliveryFailed(f"Telegram timed out: {exc.message}", retry_after=TIMED_OUT_RETRY) from exc
        except TelegramError as exc:
            raise DeliveryFailed(f"Telegram refused: {exc.message}") from exc
