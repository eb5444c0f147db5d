"""A fake WeCom API server on 127.0.0.1: tokens, messages, template-card updates and app group chats,
recording every call; it can fail the next N sends with HTTP 500. It also serves the encrypted media links of AI
bot callbacks (`bot_media`)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

IMAGE = b"\x89PNG\r\n\x1a\nfake-png-bytes"


class FakeWeCom:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail_sends = 0
        self.token = "WECOM-TOKEN"
        self.directory: dict[str, dict[str, Any]] = {
            "LiuYang": {"userid": "LiuYang", "name": "刘洋", "department": [2]},
        }
        self.departments = {2: "济南历下营业厅"}
        self.bot_media: dict[str, bytes] = {}  # what an AI bot's media links serve (already encrypted), by name
        self.media_delay = 0.0  # seconds each of them takes
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, payload: dict[str, Any], status: int = 200) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                path = urlparse(self.path).path
                if path == "/cgi-bin/gettoken":
                    self._reply({"errcode": 0, "access_token": fake.token, "expires_in": 7200})
                elif path == "/cgi-bin/user/get":
                    user = parse_qs(urlparse(self.path).query).get("userid", [""])[0]
                    known = fake.directory.get(user)
                    self._reply({"errcode": 0, **known} if known else {"errcode": 60111, "errmsg": "no such user"})
                elif path == "/cgi-bin/department/get":
                    dept = int(parse_qs(urlparse(self.path).query).get("id", ["0"])[0])
                    self._reply({"errcode": 0, "department": {"id": dept, "name": fake.departments.get(dept, "")}})
                elif path.startswith("/aibot/media/") and path.removeprefix("/aibot/media/") in fake.bot_media:
                    data = fake.bot_media[path.removeprefix("/aibot/media/")]
                    time.sleep(fake.media_delay)
                    self.send_response(200)
                    self.send_header("content-type", "application/octet-stream")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                elif path == "/cgi-bin/media/get":
                    self.send_response(200)
                    self.send_header("content-type", "image/png")
                    self.send_header("content-length", str(len(IMAGE)))
                    self.end_headers()
                    self.wfile.write(IMAGE)
                else:
                    self._reply({"errcode": 404}, 404)

            def do_POST(self) -> None:
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
                if query.get("access_token") != fake.token:
                    self._reply({"errcode": 40014, "errmsg": "invalid access_token"})
                    return
                if url.path == "/cgi-bin/message/send" and fake.fail_sends > 0:
                    fake.fail_sends -= 1
                    self._reply({"errcode": -1, "errmsg": "system busy"}, 500)
                    return
                fake.calls.append((url.path.removeprefix("/cgi-bin/"), body))
                self._reply({"errcode": 0, "errmsg": "ok", "chatid": body.get("chatid", "")})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def sent_to(self, user: str) -> list[dict[str, Any]]:
        return [body for path, body in self.calls if path == "message/send" and body.get("touser") == user]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
