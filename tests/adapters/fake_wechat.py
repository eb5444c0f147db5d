"""A fake WeChat API server on 127.0.0.1: access tokens, customer-service messages and media, recording
every call; it can refuse the next sends with a given errcode."""

from __future__ import annotations

import hashlib
import json
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201e221bc33"
    "0000000049454e44ae426082"
)


def signed_delivery(crypto: Any, token: str, openid: str, content: str, msg_id: str | int,
                    to: str = "gh_test") -> tuple[str, bytes]:
    """One text message as WeChat delivers it to a webhook: the signed query string (timestamp, nonce, signature,
    msg_signature) and the AES envelope `crypto` (a wechatpy `WeChatCrypto`) encrypts."""
    now = int(time.time())
    inner = (f"<xml><ToUserName><![CDATA[{to}]]></ToUserName><FromUserName><![CDATA[{openid}]]>"
             f"</FromUserName><CreateTime>{now}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
             f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>")
    nonce = secrets.token_hex(5)
    envelope = crypto.encrypt_message(inner, nonce, now)
    msg_signature = envelope.split("<MsgSignature><![CDATA[")[1].split("]]>")[0]
    signature = hashlib.sha1("".join(sorted([token, str(now), nonce])).encode()).hexdigest()
    query = f"signature={signature}&timestamp={now}&nonce={nonce}&encrypt_type=aes&msg_signature={msg_signature}"
    return query, envelope.encode()


class _QuietServer(ThreadingHTTPServer):
    """A client that hung up (a worker killed mid-send, on purpose) is not an error of the fake."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class FakeWeChat:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.token_requests = 0
        self.fail_next: list[int] = []  # errcodes to answer the next sends with
        self.token = "TOKEN-1"
        self.media_delay = 0.0  # seconds the media download takes (a slow WeChat API)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _json(self, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/cgi-bin/token":
                    fake.token_requests += 1
                    self._json({"access_token": fake.token, "expires_in": 7200})
                elif url.path == "/cgi-bin/media/get":
                    time.sleep(fake.media_delay)
                    self.send_response(200)
                    self.send_header("content-type", "image/png")
                    self.send_header("content-length", str(len(PNG)))
                    self.end_headers()
                    self.wfile.write(PNG)
                else:
                    self._json({"errcode": 404, "errmsg": f"unknown {url.path} {query}"})

            def do_POST(self) -> None:
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
                if url.path == "/cgi-bin/message/custom/send":
                    if query.get("access_token") != fake.token:
                        self._json({"errcode": 40001, "errmsg": "invalid credential"})
                    elif fake.fail_next:
                        code = fake.fail_next.pop(0)
                        self._json({"errcode": code, "errmsg": "refused by the fake"})
                    else:
                        fake.sent.append(body)
                        self._json({"errcode": 0, "errmsg": "ok"})
                else:
                    self._json({"errcode": 404, "errmsg": f"unknown {url.path}"})

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def texts_to(self, openid: str) -> list[str]:
        return [m["text"]["content"] for m in self.sent if m.get("touser") == openid]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
