"""The Telegram channel: `POST /channels/telegram/{account}` (the bot's webhook).

Every delivery is checked before any work: the account exists, `X-Telegram-Bot-Api-Secret-Token` matches
(constant-time), the body is at most 1 MB of JSON that python-telegram-bot reads as an `Update`. An update is
handled once per `update_id` however often Telegram redelivers it. In groups the bot reacts only when addressed:
a command (for it), an @mention of it, or a reply to one of its messages. Answers go back to the same chat (and
forum topic) through the Bot API (`telegram_sending`); what Telegram will not take now goes through the outbox.
"""

from __future__ import annotations

import hmac
import json
import logging
import re

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from telegram import Chat as TgChat
from telegram import Message, MessageEntity, Update, User

from wuyou.adapters.bootstrap import Desk
from wuyou.adapters.channels import TelegramAccount
from wuyou.adapters.delivery import DeliveryFailed
from wuyou.adapters.telegram_sending import (
    RateLimiter,
    TelegramSender,
    button_action,
    button_owner,
    record_migration,
    split_text,
)
from wuyou.adapters.webhooks import read_body
from wuyou.bot.engine import Unavailable
from wuyou.bot.messages import Attachment, Chat, Inbound, Outbound, Sender

__all__ = ["RateLimiter", "TelegramSender", "router", "split_text"]

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024

# A platform's webhook, verified by its own signature: not part of the API, so not in the spec.
router = APIRouter(prefix="/channels/telegram", tags=["telegram"], include_in_schema=False)


def _desk(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


@router.post("/{account}")
async def receive(account: str, request: Request) -> Response:
    """One webhook delivery from Telegram; 200 once it is handled (or known)."""
    desk = _desk(request)
    acc = desk.channels.telegram.get(account)
    if acc is None:
        raise HTTPException(status_code=404, detail="no such Telegram account")
    given = request.headers.get("x-telegram-bot-api-secret-token", "").encode()
    if not acc.secret_token or not hmac.compare_digest(given, acc.secret_token.encode()):
        raise HTTPException(status_code=401, detail="bad secret token")
    update = _parse(await read_body(request, MAX_BODY))
    try:
        await run_in_threadpool(_handle, desk, acc, update)
    except DeliveryFailed as exc:  # getMe failed before anything was taken: Telegram will redeliver
        raise HTTPException(status_code=503, detail="Telegram API unreachable") from exc
    except Unavailable as exc:  # the database is down: nothing was taken, Telegram will redeliver
        raise HTTPException(status_code=503, detail="the desk cannot take messages right now") from exc
    return Response(status_code=200)


def _parse(body: bytes) -> Update:
    try:
        data = json.loads(body)
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            raise ValueError("not an update")
        return Update.de_json(data)
    except Exception as exc:  # PTB raises several kinds for a malformed object
        raise HTTPException(status_code=400, detail="not a Telegram update") from exc


def _handle(desk: Desk, account: TelegramAccount, update: Update) -> None:
    sender = TelegramSender(account, desk.store)
    query = update.callback_query
    # A button under a group message for someone else (their category, their "单独报修"): pressed by another member,
    # its "1" answered whatever the presser's own dialogue had open. They are told, and nothing is done.
    owner = button_owner(desk.store, query.data or "") if query is not None else None
    foreign = query is not None and owner is not None and owner != str(query.from_user.id)
    inbound = None if foreign else _inbound(desk, sender, account, update)
    if query is not None:
        try:
            sender.answer_callback(query.id, desk.catalog.t("button_not_yours", desk.settings.locale)
                                   if foreign else None)
            origin = query.message
            # (in a private chat its buttons are done with once one is pressed; a group's serve everyone in it)
            if isinstance(origin, Message) and inbound is not None and origin.chat.type == "private":
                sender.clear_keyboard(origin.chat.id, origin.message_id)
        except DeliveryFailed as exc:
            log.warning("could not answer Telegram callback %s: %s", query.id, exc)
    if inbound is None:
        return
    # In a group, an answer quotes what it answers (a busy group cannot tell otherwise whose it is): the message, or
    # for a pressed button the bot's message that carried it (itself quoting the one it answered).
    pressed = query.message if query is not None and isinstance(query.message, Message) else None
    message = update.message or pressed
    reply_to = message.message_id if message is not None and inbound.chat.kind != "direct" else None
    # A redelivery (Telegram got no 200: the first attempt died, or the database was down) is answered from the
    # message's receipt; posts already made are skipped by their keys.
    replies = desk.intake.submit(inbound).result().replies
    key = f"tg:{account.name}:{update.update_id}"
    for i, reply in enumerate(replies):
        chat = reply.chat or inbound.chat
        try:
            sender.post(chat_id=chat.id, text=reply.text, buttons=reply.buttons, key=f"{key}:{i}",
                        thread_id=chat.thread_id, reply_to=reply_to,
                        owner=inbound.sender.platform_user_id if chat.kind != "direct" else None)
        except DeliveryFailed as exc:
            log.warning("Telegram refused an answer to %s now (%s): it goes through the outbox", chat.id, exc)
            _queue(desk, inbound, replies[i:], key)
            return


def _inbound(desk: Desk, sender: TelegramSender, account: TelegramAccount, update: Update) -> Inbound | None:
    """What the engine should see of the update; None for what it should not (a group chat not addressed to
    the bot, a migration notice, an expired button, edits, ...)."""
    query = update.callback_query
    if query is not None:
        # (a button the store no longer knows — kept in a store that restarted, or long expired: the person is told)
        action = button_action(desk.store, query.data or "") or "/expired"
        origin = query.message
        chat = (Chat(kind="direct", id=str(query.from_user.id)) if origin is None
                else _chat(origin.chat, origin if isinstance(origin, Message) else None))
        return _make(account, update, query.from_user, chat, action=action)
    message = update.message
    if message is None:
        return None
    if message.migrate_to_chat_id is not None:
        record_migration(desk.store, str(message.chat.id), str(message.migrate_to_chat_id))
        return None
    if message.migrate_from_chat_id is not None:
        record_migration(desk.store, str(message.migrate_from_chat_id), str(message.chat.id))
        return None
    user = message.from_user
    if user is None or user.is_bot:
        return None
    chat = _chat(message.chat, message)
    text = message.text or message.caption or ""
    if not isinstance(text, str):  # PTB does not check types: `"text": 12345` would reach the engine as a number
        text = str(text)
    # In the desk's own war-room supergroup every topic message is for the desk (the incident's timeline).
    war_room = chat.kind == "topic" and account.war_room_chat is not None and chat.id == str(account.war_room_chat)
    if chat.kind != "direct" and not war_room:
        bot_id, username = sender.me()
        if not _addressed(message, bot_id, username):
            return None
        text = _without_mention(text, username)
    return _make(account, update, user, chat, text=text, attachments=_media(sender, message))


def _media(sender: TelegramSender, message: Message) -> tuple[Attachment, ...]:
    """The photo (largest size), voice message or document, downloaded now; the reference alone if that fails."""
    if message.photo:
        file_id, kind, name, content_type = message.photo[-1].file_id, "image", "photo.jpg", "image/jpeg"
    elif message.voice is not None:
        file_id, kind, name = message.voice.file_id, "voice", "voice.ogg"
        content_type = message.voice.mime_type or "audio/ogg"
    elif message.document is not None:
        file_id, kind = message.document.file_id, "file"
        name = message.document.file_name or "file"
        content_type = message.document.mime_type or "application/octet-stream"
        if content_type.startswith("image/"):
            kind = "image"
    else:
        return ()
    try:
        data: bytes | None = sender.download(file_id)
    except DeliveryFailed as exc:
        log.warning("could not download Telegram file %s: %s", file_id, exc)
        data = None
    return (Attachment(kind=kind, ref=file_id, data=data, name=name, content_type=content_type),)


def _make(account: TelegramAccount, update: Update, user: User, chat: Chat, *, text: str = "",
          action: str | None = None, attachments: tuple[Attachment, ...] = ()) -> Inbound:
    return Inbound(platform="telegram", account=account.name, sender=Sender(str(user.id), user.full_name), text=text,
                   chat=chat, dedup_key=str(update.update_id), action=action, attachments=attachments)


def _chat(chat: TgChat, message: Message | None) -> Chat:
    if chat.type == TgChat.PRIVATE:
        return Chat(kind="direct", id=str(chat.id))
    if message is not None and message.is_topic_message and message.message_thread_id is not None:
        return Chat(kind="topic", id=str(chat.id), thread_id=str(message.message_thread_id))
    return Chat(kind="group", id=str(chat.id))


def _addressed(message: Message, bot_id: int, username: str) -> bool:
    """A command for this bot, a mention of it, or a reply to one of its messages (not a topic's opening)."""
    replied = message.reply_to_message
    if (replied is not None and replied.from_user is not None and replied.from_user.id == bot_id
            and replied.forum_topic_created is None):
        return True
    name = username.lower()
    entities = {**message.parse_entities(), **message.parse_caption_entities()}
    for entity, part in entities.items():
        if entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0:
            target = part.partition("@")[2].lower()  # "/claim" goes to every bot, "/claim@other_bot" not to us
            if not target or target == name:
                return True
        mentioned = entity.type == MessageEntity.MENTION and bool(name) and part[1:].lower() == name
        named = entity.type == MessageEntity.TEXT_MENTION and entity.user is not None and entity.user.id == bot_id
        if mentioned or named:
            return True
    return False


def _without_mention(text: str, username: str) -> str:
    """The text without `@bot` (addressing, not content); `/cmd@bot` stays for the engine to read."""
    if not username:
        return text
    return re.sub(rf"(?<![\w/@])@{re.escape(username)}\b", " ", text, flags=re.IGNORECASE).strip()


def _queue(desk: Desk, inbound: Inbound, replies: list[Outbound], key: str) -> None:
    """Answers Telegram would not take now go to the person through the outbox, so they are not lost (as
    plain text: the engine's texts say what to reply, for lack of buttons)."""
    try:
        if desk.deliverer.queue_texts(platform="telegram", address=inbound.sender.platform_user_id,
                                      texts=[r.text for r in replies], key=f"{key}:late"):
            desk.loop.wake()
        else:
            log.warning("dropped %d Telegram answer(s) to unknown user %s", len(replies),
                        inbound.sender.platform_user_id)
    except Exception:
        log.exception("could not queue Telegram answers for %s", inbound.sender.platform_user_id)
