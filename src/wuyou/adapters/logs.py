"""Logging: plain text for a terminal, or one JSON object per line (`WUYOU_LOG_FORMAT=json`) for a log
pipeline, each with the request id (taken from `X-Request-ID` or made up, and echoed back) and whatever ids a
call site adds with `extra=` (ticket, incident, platform). Tokens and secrets are masked before any output.

Lines are written through a buffer flushed once a second, and at once for a warning or worse (as nginx's
`access_log … buffer= flush=`): under a storm the access log's line per request is a copy in memory, not a
system call. A process killed with `kill -9` loses at most its last second of info lines."""

from __future__ import annotations

import atexit
import contextvars
import io
import itertools
import json
import logging
import os
import re
import threading
import time
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


FLUSH_EVERY = 1.0  # seconds an info line may wait in the buffer


class BufferedHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that leaves flushing to a timer (every `every` seconds), except for warnings and worse."""

    def __init__(self, stream: io.TextIOBase | None = None, *, every: float = FLUSH_EVERY) -> None:
        super().__init__(stream if stream is not None else _buffered_stderr())
        self._every = every
        threading.Thread(target=self._flush_now_and_then, name="log-flush", daemon=True).start()
        atexit.register(self.flush)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            self.stream.write(line + self.terminator)
            if record.levelno >= logging.WARNING:
                self.flush()
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)

    def _flush_now_and_then(self) -> None:
        while True:
            time.sleep(self._every)
            self.flush()


def _buffered_stderr() -> io.TextIOBase:
    """Standard error with a 64 KB buffer (Python's own `sys.stderr` writes every line through)."""
    raw = io.FileIO(os.dup(2), "w")
    return io.TextIOWrapper(io.BufferedWriter(raw, 1 << 16), encoding="utf-8", errors="backslashreplace")


def configure(fmt: str = "text", level: int = logging.INFO) -> None:
    """Set up the root logger once per process, at the edge (the CLI, a server's worker process). Uvicorn's own
    loggers (its access log too) are left unconfigured, so that their lines come here: masked, with request ids,
    as JSON when asked."""
    handler = BufferedHandler()
    handler.addFilter(RequestIdFilter())
    handler.addFilter(MaskSecrets())
    handler.setFormatter(JsonFormatter() if fmt == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Alembic says at INFO which plugins it set up and which dialect it uses, tens of lines before every command's
    # one line of its own; what a migration does, and anything that goes wrong, it says at WARNING and above.
    logging.getLogger("alembic").setLevel(logging.WARNING)


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
        request_id = given if re.fullmatch(r"[A-Za-z0-9._-]{1,64}", given) else new_request_id()
        token = REQUEST_ID.set(request_id)

        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self._app(scope, receive, tagged)
        finally:
            REQUEST_ID.reset(token)


_IDS: dict[int, tuple[str, itertools.count[int]]] = {}


def new_request_id() -> str:
    """16 hex digits, unique across processes: 8 random per process, then a counter (no system call per id, as
    `uuid4` makes: a few per cent of a storm's time)."""
    pid = os.getpid()
    made = _IDS.get(pid)
    if made is None:
        made = _IDS[pid] = (os.urandom(4).hex(), itertools.count(1))
    prefix, counter = made
    return f"{prefix}{next(counter) & 0xFFFFFFFF:08x}"
