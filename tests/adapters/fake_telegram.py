"""A fake Telegram Bot API server on 127.0.0.1: getMe, sendMessage, answerCallbackQuery, recording every
call; it can answer the next sendMessage calls with flood control (429) or a server error, and knows which
groups became supergroups."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

BOT_ID = 7000001
TOKEN = f"{BOT_ID}:AAF-fake-token"
USERNAME = "wuyou_test_bot"
FILE_BYTES = b"\xff\xd8\xff\xe0fake-jpeg-bytes"


class FakeTelegram:
    def __init__(self, token: str = TOKEN) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []  # (method, params) of every request
        # (status, body) to answer the next sendMessage calls with; None lets one through
        self.fail_next: list[tuple[int, dict[str, Any]] | None] = []
        self.migrated: dict[int, int] = {}  # old group id → supergroup id
        self.sent: list[dict[str, Any]] = []  # params of the sendMessage calls that went through
        self.topics: list[dict[str, Any]] = []  # params of createForumTopic calls
        self._message_id = 0
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if unquote(urlparse(self.path).path) == f"/file/bot{token}/photos/file_1.jpg":
                    self.send_response(200)
                    self.send_header("content-type", "image/jpeg")
                    self.send_header("content-length", str(len(FILE_BYTES)))
                    self.end_headers()
                    self.wfile.write(FILE_BYTES)
                else:
                    self._answer(404, {"ok": False, "error_code": 404, "description": "Not Found"})

            def do_POST(self) -> None:
                path = urlparse(self.path).path
                prefix = f"/bot{token}/"
                if not path.startswith(prefix):
                    self._answer(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                    return
                method = path[len(prefix):]
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                params = _params(raw, self.headers.get("content-type", ""))
                with fake._lock:
                    fake.calls.append((method, params))
                    status, payload = fake._dispatch(method, params)
                self._answer(status, payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _dispatch(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method == "getFile":
            return 200, {"ok": True, "result": {"file_id": params["file_id"], "file_unique_id": "u1",
                                                "file_size": len(FILE_BYTES), "file_path": "photos/file_1.jpg"}}
        if method == "getMe":
            return 200, {"ok": True, "result": _bot_user()}
        if method in ("answerCallbackQuery", "editMessageReplyMarkup"):
            return 200, {"ok": True, "result": True}
        if method == "createForumTopic":
            self._message_id += 1
            self.topics.append(params)
            return 200, {"ok": True, "result": {"message_thread_id": 9000 + self._message_id,
                                                "name": params["name"], "icon_color": 7322096}}
        if method != "sendMessage":
            return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
        failure = self.fail_next.pop(0) if self.fail_next else None
        if failure is not None:
            return failure
        chat_id = int(params["chat_id"])
        if chat_id in self.migrated:
            return 400, {"ok": False, "error_code": 400,
                         "description": "Bad Request: group chat was upgraded to a supergroup chat",
                         "parameters": {"migrate_to_chat_id": self.migrated[chat_id]}}
        self._message_id += 1
        self.sent.append(params)
        chat = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
        result = {"message_id": self._message_id, "date": int(time.time()), "chat": chat, "from": _bot_user(),
                  "text": params.get("text", "")}
        return 200, {"ok": True, "result": result}

    def flood(self, times: int, *, retry_after: int = 1, after: int = 0) -> None:
        """Answer `times` sendMessage calls (after letting `after` through) with 429, as flood control does."""
        self.fail_next.extend([None] * after)
        self.fail_next.extend((429, {"ok": False, "error_code": 429,
                                     "description": f"Too Many Requests: retry after {retry_after}",
                                     "parameters": {"retry_after": retry_after}}) for _ in range(times))

    def break_down(self, times: int) -> None:
        """Answer the next `times` sendMessage calls with 502."""
        self.fail_next.extend((502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})
                              for _ in range(times))

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.sent.clear()
            self.topics.clear()
            self.fail_next.clear()
            self.migrated.clear()

    def attempts(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        """The params of every call of `method`, answered or refused."""
        return [p for m, p in self.calls if m == method]

    def messages(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """The sendMessage calls that went through (to `chat_id`), oldest first."""
        return [p for p in self.sent if chat_id is None or int(p["chat_id"]) == chat_id]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _bot_user() -> dict[str, Any]:
    return {"id": BOT_ID, "is_bot": True, "first_name": "无忧", "username": USERNAME}


def _params(raw: bytes, content_type: str) -> dict[str, Any]:
    """PTB posts form fields whose non-string values are JSON; other clients post JSON."""
    if "application/json" in content_type:
        loaded: dict[str, Any] = json.loads(raw or b"{}")
        return loaded
    params: dict[str, Any] = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
    for name, value in params.items():
        if isinstance(value, str) and value[:1] in "{[":
            params[name] = json.loads(value)
    return params
