"""Logging: plain text for a terminal, or one JSON object per line (`WUYOU_LOG_FORMAT=json`) for a log
pipeline, each with the request id (taken from `X-Request-ID` or made up, and echoed back) and whatever ids a
call site adds with `extra=` (ticket, incident, platform). Tokens and secrets are masked before any output."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from datetime import UTC, datetime

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
CONTEXT_FIELDS = ("ticket", "incident", "platform", "person", "outbox")
_SECRETS = re.compile(r"(wy_[A-Za-z0-9_-]{16,}"  # API tokens and console sessions
                      r"|(?:access_token|secret|password|token|encodingaeskey)[\"']?\s*[=:]\s*[\"']?)([^\s&\"',}]+)?",
                      re.IGNORECASE)


def mask(text: str) -> str:
    """The text with API tokens and `secret=…`-like values replaced by `***`."""
    return _SECRETS.sub(lambda m: "wy_***" if m.group(0).startswith("wy_") else f"{m.group(1)}***", text)


class MaskSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask(record.getMessage())
        record.args = None
        return True


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            out["request_id"] = request_id
        for name in CONTEXT_FIELDS:
            if getattr(record, name, None) is not None:
                out[name] = getattr(record, name)
        if record.exc_info:
            out["exc"] = mask(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False, default=str)


def configure(fmt: str = "text", level: int = logging.INFO) -> None:
    """Set up the root logger once, at the edge (the CLI)."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.addFilter(MaskSecrets())
    handler.setFormatter(JsonFormatter() if fmt == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


class RequestIds:
    """ASGI middleware: every request gets an id (the caller's `X-Request-ID` when it is sane), in the logs
    and in the response's `X-Request-ID`."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if re.fullmatch(r"[A-Za-z0-9._-]{1,64}", given) else uuid.uuid4().hex[:16]
        token = REQUEST_ID.set(request_id)

        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self._app(scope, receive, tagged)
        finally:
            REQUEST_ID.reset(token)
