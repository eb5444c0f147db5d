"""Fuzzing the platform webhooks (hypothesis): whatever arrives — garbage, a forged or half-valid request, or a
correctly signed and encrypted envelope around any XML or JSON at all — the answer is a 2xx or a 4xx, never a
5xx and never a crash. Shared by tests/adapters/test_webhook_fuzz.py (a short run in `make test`) and
bench/fuzz_webhooks.py (as long as asked: ten minutes for issue 8)."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from wechatpy.crypto import WeChatCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WeComCrypto

from tests.adapters.fake_telegram import TOKEN as TG_TOKEN
from tests.adapters.fake_telegram import FakeTelegram
from tests.adapters.fake_wechat import FakeWeChat
from tests.adapters.fake_wecom import FakeWeCom

APP_ID, CORP, AGENT = "wx0123456789abcdef", "ww0123456789abcdef", "1000002"
TOKEN, AES_KEY = "fuzz-token", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
TG_SECRET = "fuzz-secret-token"
KNOWN_OPENID = "oJN001zhangsan"  # zhang.san in ../shared/org-sample.yaml: a known sender reaches the bot
FIELDS = ["MsgType", "Content", "MsgId", "Event", "EventKey", "PicUrl", "MediaId", "Format", "Recognition",
          "Location_X", "Location_Y", "Label", "Title", "Url", "CreateTime", "AgentID", "TaskId", "ResponseCode",
          "ChangeType", "Ticket"]
MSG_TYPES = ["text", "image", "voice", "video", "location", "link", "event", "file", "shortvideo", ""]


@contextmanager
def fakes(home: Path) -> Iterator[Path]:
    """The three platforms' fake APIs on 127.0.0.1, and a channels file pointing at them."""
    wx, wecom, tg = FakeWeChat(), FakeWeCom(), FakeTelegram()
    path = home / "channels.yaml"
    path.write_text(
        f"wechat:\n  main: {{app_id: {APP_ID}, app_secret: s, token: {TOKEN}, aes_key: {AES_KEY}, "
        f"api_base: '{wx.url}'}}\n"
        f"wecom:\n  ops: {{corp_id: {CORP}, agent_id: {AGENT}, secret: s, token: {TOKEN}, aes_key: {AES_KEY}, "
        f"bot_token: {TOKEN}, bot_aes_key: {AES_KEY}, api_base: '{wecom.url}'}}\n"
        f"telegram:\n  main: {{token: '{TG_TOKEN}', secret_token: {TG_SECRET}, api_base: '{tg.url}'}}\n",
        encoding="utf-8")
    try:
        yield path
    finally:
        for fake in (wx, wecom, tg):
            fake.close()


# --- what arrives ----------------------------------------------------------------------------------------------

values = st.one_of(st.text(max_size=300), st.sampled_from(MSG_TYPES), st.integers().map(str),
                   st.sampled_from(["]]>", "<![CDATA[", "&", "<xml>", "\x00", "表情😀", "a" * 5000]))
xml_fields = st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.from_regex(r"[A-Za-z_]{1,12}", fullmatch=True)),
                             values, max_size=8)
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) \
    | st.text(max_size=50)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=6), max_leaves=25)
telegram_updates = st.fixed_dictionaries(
    {"update_id": st.integers(min_value=-2**40, max_value=2**40)},
    optional={"message": st.dictionaries(st.sampled_from(["message_id", "date", "chat", "from", "text", "photo",
                                                          "voice", "document", "entities", "reply_to_message",
                                                          "message_thread_id"]), json_values, max_size=8),
              "callback_query": st.dictionaries(st.sampled_from(["id", "from", "data", "message", "chat_instance"]),
                                                json_values, max_size=5),
              "edited_message": json_values})


# Media links that fail fast (nothing listens on port 9 of 127.0.0.1; the others are not URLs one can fetch).
media_links = st.fixed_dictionaries(
    {"url": st.one_of(st.sampled_from(["http://127.0.0.1:9/m", "https://", "http://[::1", "ftp://x/y", ""]),
                      st.text(max_size=40).map(lambda t: "http://127.0.0.1:9/" + t), st.text(max_size=40))},
    optional={"aeskey": st.one_of(st.text(max_size=50), st.just(AES_KEY))})
mixed_parts = st.fixed_dictionaries({"msg_item": st.lists(st.one_of(
    st.fixed_dictionaries({"msgtype": st.just("text"), "text": st.fixed_dictionaries({"content": values})}),
    st.fixed_dictionaries({"msgtype": st.just("image"), "image": st.one_of(media_links, json_values)}),
    json_values), max_size=4)})
ai_bot_messages = st.fixed_dictionaries(
    {"msgid": st.text(max_size=20), "msgtype": st.sampled_from(["text", "voice", "mixed", "stream", "event", "image",
                                                               "file", ""])},
    optional={"from": st.one_of(st.fixed_dictionaries({"userid": st.sampled_from(["LiWei", "nobody", ""])}),
                                json_values),
              "chattype": st.sampled_from(["single", "group", "x"]), "chatid": json_values,
              "text": st.one_of(st.fixed_dictionaries({"content": values}), json_values),
              "image": st.one_of(media_links, json_values), "file": st.one_of(media_links, json_values),
              "voice": json_values, "mixed": st.one_of(mixed_parts, json_values), "stream": json_values,
              "event": json_values})


def _inner(fields: dict[str, str], sender: str, to: str) -> str:
    body = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
    return (f"<xml><ToUserName><![CDATA[{to}]]></ToUserName><FromUserName><![CDATA[{sender}]]></FromUserName>"
            f"{body}</xml>")


def _ok(response: Any) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:300])


# --- the properties ----------------------------------------------------------------------------------------------


def properties(client: TestClient) -> list[Callable[..., None]]:
    """Each a hypothesis-decorated callable (settings applied by the caller) taking no arguments."""
    wx = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    wecom = WeComCrypto(TOKEN, AES_KEY, CORP)

    @given(st.dictionaries(st.sampled_from(["signature", "timestamp", "nonce", "encrypt_type", "msg_signature",
                                            "echostr", "openid"]), st.text(max_size=60), max_size=7),
           st.binary(max_size=3000), st.sampled_from(["/channels/wechat/main", "/channels/wecom/ops",
                                                      "/channels/wechat/nope", "/channels/telegram/main",
                                                      "/channels/wecom/ops/bot"]))
    @example({"signature": "\x80"}, b"", "/channels/wechat/main")  # found by the fuzzer: was a 500
    def garbage(query: dict[str, str], body: bytes, path: str) -> None:
        _ok(client.post(path, params=query, content=body))
        _ok(client.get(path, params=query))

    @given(xml_fields, st.sampled_from([KNOWN_OPENID, "o-stranger", ""]), st.booleans())
    @example({"MsgType": "text", "MsgId": ":"}, KNOWN_OPENID, False)  # found by the fuzzer: was a 500
    def wechat_signed(fields: dict[str, str], sender: str, plain: bool) -> None:
        now, nonce = int(time.time()), secrets.token_hex(5)
        inner = _inner(fields, sender, "gh_fuzz")
        signature = hashlib.sha1("".join(sorted([TOKEN, str(now), nonce])).encode()).hexdigest()
        if plain:  # plaintext mode: the body is the message itself
            _ok(client.post("/channels/wechat/main", params={"signature": signature, "timestamp": now,
                                                             "nonce": nonce}, content=inner.encode()))
            return
        envelope = wx.encrypt_message(inner, nonce, now)
        msg_signature = re.findall(r"<MsgSignature><!\[CDATA\[(.*?)\]\]>", envelope)[0]
        _ok(client.post("/channels/wechat/main", params={"signature": signature, "timestamp": now, "nonce": nonce,
                                                         "encrypt_type": "aes", "msg_signature": msg_signature},
                        content=envelope.encode()))

    @given(xml_fields, st.sampled_from(["li.wei", "LiWei", "nobody", ""]))
    def wecom_signed(fields: dict[str, str], sender: str) -> None:
        now, nonce = int(time.time()), secrets.token_hex(5)
        envelope = wecom.encrypt_message(_inner({"AgentID": AGENT, **fields}, sender, CORP), nonce, now)
        msg_signature = re.findall(r"<MsgSignature><!\[CDATA\[(.*?)\]\]>", envelope)[0]
        _ok(client.post("/channels/wecom/ops", params={"msg_signature": msg_signature, "timestamp": now,
                                                       "nonce": nonce}, content=envelope.encode()))

    @given(st.one_of(telegram_updates, json_values))
    def telegram_json(update: Any) -> None:
        _ok(client.post("/channels/telegram/main", json=update,
                        headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}))

    bot = WeComCrypto(TOKEN, AES_KEY, "")  # the AI bot's callback: JSON, an empty receive id

    @given(st.one_of(ai_bot_messages, json_values), st.booleans())
    @example({"msgtype": "text", "from": "LiWei", "text": ["x"]}, False)
    @example({"msgid": "i", "msgtype": "image", "from": {"userid": "LiWei"}, "image": {"url": "http://[::1"}}, False)
    @example({"msgid": "m", "msgtype": "mixed", "from": {"userid": "LiWei"}, "chattype": "group", "chatid": "g",
              "mixed": {"msg_item": [{"msgtype": "image", "image": {"url": "http://127.0.0.1:9/m", "aeskey": "?"}},
                                     {"msgtype": "image", "image": {"url": "http://127.0.0.1:9/m"}}, 7]}}, False)
    def wecom_bot_signed(message: Any, as_text: bool) -> None:
        now, nonce = int(time.time()), secrets.token_hex(5)
        plain = str(message) if as_text else json.dumps(message, ensure_ascii=False)
        envelope = bot.encrypt_message(plain, nonce, now)
        encrypted = re.findall(r"<Encrypt><!\[CDATA\[(.*?)\]\]>", envelope)[0]
        msg_signature = re.findall(r"<MsgSignature><!\[CDATA\[(.*?)\]\]>", envelope)[0]
        _ok(client.post("/channels/wecom/ops/bot", params={"msg_signature": msg_signature, "timestamp": now,
                                                           "nonce": nonce}, content=json.dumps({"encrypt": encrypted})))

    return [garbage, wechat_signed, wecom_signed, telegram_json, wecom_bot_signed]


def run(client: TestClient, *, examples: int, seed: int | None = None) -> None:
    """Every property with `examples` cases each (no deadline: the desk does real work per message)."""
    chosen = settings(max_examples=examples, deadline=None, derandomize=seed is None, database=None,
                      suppress_health_check=list(HealthCheck))
    for prop in properties(client):
        test = chosen(prop)
        if seed is not None:
            from hypothesis import seed as seeded

            test = seeded(seed)(test)
        test()
