"""The generic HTTP chat channel: the web chat page, load tests and scenario tests talk through it."""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, model_validator

from wuyou.adapters import http_mailbox
from wuyou.adapters.bootstrap import Desk
from wuyou.bot.engine import Unavailable
from wuyou.bot.messages import Attachment, Chat, Inbound, Outbound, Sender

MAX_BODY_TEXT = 100_000  # the engine answers long texts politely; beyond this the request is refused
MAX_ATTACHMENT_B64 = 15_000_000  # about 11 MB of content; the desk keeps at most 10 MB per file



def _admitted(request: Request) -> None:
    """The channel closed (`WUYOU_HTTP_CHANNEL=false`): 404; given a token (`WUYOU_HTTP_CHANNEL_TOKEN`): only a
    caller that presents it as `Authorization: Bearer …` — a gateway that has signed its users in."""
    desk: Desk = request.app.state.desk
    settings = desk.settings
    if not settings.http_channel:
        raise HTTPException(status_code=404, detail="Not Found")
    if settings.http_channel_token is None:
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    expected = settings.http_channel_token.get_secret_value()
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected.encode()):
        raise HTTPException(status_code=401, detail="the HTTP chat channel needs its token",
                            headers={"WWW-Authenticate": "Bearer"})


router = APIRouter(prefix="/channels/http", tags=["http channel"], dependencies=[Depends(_admitted)])


class AttachmentIn(BaseModel):
    kind: Literal["image", "voice", "file"] = "image"
    name: str = Field(default="", max_length=200)
    content_type: str = Field(default="application/octet-stream", max_length=100)
    data: str = Field(max_length=MAX_ATTACHMENT_B64, description="the content, base64")


class MessageIn(BaseModel):
    # What the validator below checks, said in the schema too: one of the three, present and not empty.
    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"required": ["text"], "properties": {"text": {"type": "string"}}},
        {"required": ["action"], "properties": {"action": {"type": "string"}}},
        {"required": ["attachments"], "properties": {"attachments": {"type": "array", "minItems": 1}}},
    ]})

    user: str = Field(min_length=1, max_length=200, description="the person's `http` identity")
    text: str | None = Field(default=None, max_length=MAX_BODY_TEXT)
    action: str | None = Field(default=None, max_length=500, description="a pressed button's action")
    message_id: str | None = Field(default=None, max_length=200, description="dedup key (Idempotency-Key)")
    chat: str | None = Field(default=None, max_length=200, description="group or room id")
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=9, description="photos, voice, files")

    @model_validator(mode="after")
    def _text_or_action(self) -> MessageIn:
        if self.text is None and self.action is None and not self.attachments:
            raise ValueError("give 'text', 'action' or 'attachments'")
        return self


class ButtonOut(BaseModel):
    label: str
    action: str


class ReplyOut(BaseModel):
    text: str
    buttons: list[ButtonOut] = []


class RepliesOut(BaseModel):
    replies: list[ReplyOut]
    duplicate: bool = False


class PushedOut(BaseModel):
    text: str
    buttons: list[ButtonOut] = []
    at: str


class MailboxOut(BaseModel):
    messages: list[PushedOut]
    cursor: str


def _desk(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


def _as_json(replies: list[Outbound]) -> list[dict[str, Any]]:
    return [{"text": r.text, "buttons": [{"label": b.label, "action": b.action} for b in r.buttons]} for r in replies]


@router.post("/messages", response_model=RepliesOut, responses={503: {"description": "not taken: send again"}})
async def post_message(
    body: MessageIn, request: Request,
    idempotency_key: Annotated[str | None, Header(max_length=200, description="dedup key, when the body has no "
                                                  "message_id")] = None,
) -> RepliesOut:
    """Send a message (or press a button) as `user`; the answer comes back in the response. With a `message_id`
    (or an `Idempotency-Key` header), sending the same message again (after a timeout, a lost connection) gets the
    same answer and changes nothing. 503 means the message was not taken (the database is unreachable): send it
    again."""
    desk = _desk(request)
    attachments = await run_in_threadpool(lambda: tuple(_decode(a) for a in body.attachments)) \
        if body.attachments else ()  # up to 15 MB of base64, decoded off the event loop
    inbound = Inbound(
        platform="http",
        account="default",
        sender=Sender(platform_user_id=body.user),
        text=body.text or "",
        action=body.action,
        chat=Chat(kind="group", id=body.chat) if body.chat else Chat(kind="direct", id=body.user),
        dedup_key=body.message_id or idempotency_key or None,
        attachments=attachments,
    )
    try:
        answer = await desk.intake.receive(inbound)
    except Unavailable as exc:
        raise HTTPException(status_code=503, detail="the desk cannot take messages right now; send it again",
                            headers={"Retry-After": "1"}) from exc
    return RepliesOut.model_validate({"replies": _as_json(answer.replies), "duplicate": answer.duplicate})


def _decode(item: AttachmentIn) -> Attachment:
    try:
        data = base64.b64decode(item.data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise HTTPException(status_code=422, detail=f"attachment {item.name or item.kind}: data is not base64") from exc
    return Attachment(kind=item.kind, data=data, name=item.name, content_type=item.content_type)


@router.get("/messages", response_model=MailboxOut)
def get_messages(
    request: Request,
    user: Annotated[str, Query(min_length=1, max_length=200)],
    after: Annotated[str | None, Query(max_length=20, description="the cursor returned last time")] = None,
) -> MailboxOut:
    """Messages pushed to `user` after the cursor (notifications, broadcasts)."""
    if after and not (after.isascii() and after.isdigit() and len(after) <= 18):
        raise HTTPException(status_code=400, detail="'after' must be a cursor returned earlier")
    cursor = int(after) if after else 0
    with _desk(request).sessions() as session:
        rows = http_mailbox.read(session=session, user=user, after=cursor)
    next_cursor = rows[-1].id if rows else cursor
    return MailboxOut.model_validate(
        {"messages": [http_mailbox.as_json(r) for r in rows], "cursor": str(next_cursor)}
    )
