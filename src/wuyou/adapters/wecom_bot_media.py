"""Photos and files sent to the WeCom AI bot: links to encrypted content, fetched and decrypted at once.

An AI bot's callback carries an image (1:1 chats), a file (1:1) or the images of a mixed message (groups too) as a
`url` valid for five minutes, whose content is encrypted as the callback is: AES-256-CBC with the bot's
EncodingAESKey (the key is the 43 characters decoded from base64, the IV its first 16 bytes), PKCS#7-padded to a
multiple of 32 bytes. A media item that names its own `aeskey` (the bot's long-connection mode) is decrypted with
that. What cannot be fetched or decrypted is kept as a reference only: the words of the message still count.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from typing import Any

import requests
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from wuyou.adapters.wx_tokens import redact
from wuyou.bot.messages import Attachment

log = logging.getLogger(__name__)

MAX_DOWNLOAD = 20 * 1024 * 1024  # WeCom's own limit for a file sent to a bot
MAX_ITEMS = 9  # a mixed message holds at most this many pictures worth taking
TIMEOUT = 2.0  # the whole answer is due within WeCom's 5 s
_PADDING_BLOCK = 32

_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"GIF8", "image/gif", "gif"),
    (b"%PDF", "application/pdf", "pdf"),
    (b"PK\x03\x04", "application/zip", "zip"),
)


class MediaError(ValueError):
    """Content that is not what WeCom sends: a bad key, a broken cipher text or padding."""


def aes_key(encoded: str) -> bytes:
    """The 32-byte key of a 43-character EncodingAESKey (or of a media item's base64 `aeskey`)."""
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MediaError("the AES key is not base64") from exc
    if len(key) != 32:
        raise MediaError(f"the AES key has {len(key)} bytes, not 32")
    return key


def decrypt(data: bytes, key: bytes) -> bytes:
    """WeCom's media cipher text → the content."""
    if not data or len(data) % 16:
        raise MediaError(f"cipher text of {len(data)} bytes is not whole AES blocks")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(data) + decryptor.finalize()
    pad = plain[-1]
    if not 1 <= pad <= _PADDING_BLOCK or pad > len(plain) or plain[-pad:] != bytes([pad]) * pad:
        raise MediaError("bad padding: not encrypted with this key")
    return plain[:-pad]


def encrypt(content: bytes, key: bytes) -> bytes:
    """The inverse of `decrypt` (what WeCom does; for tests and tools)."""
    pad = _PADDING_BLOCK - len(content) % _PADDING_BLOCK
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return encryptor.update(content + bytes([pad]) * pad) + encryptor.finalize()


def kind_of(data: bytes) -> tuple[str, str]:
    """Content type and file extension, from the content's first bytes."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "webp"
    for magic, content_type, extension in _SIGNATURES:
        if data.startswith(magic):
            return content_type, extension
    return "application/octet-stream", "bin"


def media_items(message: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(kind, item) of each picture or file in a callback: its own image or file, or a mixed message's images."""
    kind = message.get("msgtype")
    if kind in ("image", "file"):
        item = message.get(kind)
        return [(kind, item)] if isinstance(item, dict) else []
    if kind != "mixed":
        return []
    mixed = message.get("mixed")
    items = mixed.get("msg_item") if isinstance(mixed, dict) else None
    found = [("image", i["image"]) for i in (items if isinstance(items, list) else [])
             if isinstance(i, dict) and i.get("msgtype") == "image" and isinstance(i.get("image"), dict)]
    return found[:MAX_ITEMS]


def fetch(kind: str, item: dict[str, Any], *, bot_key: str) -> Attachment:
    """Download and decrypt one picture or file; on failure keep only the reference."""
    url = str(item.get("url", ""))
    ref = hashlib.sha256(url.encode()).hexdigest()[:32]
    if not url.startswith(("https://", "http://")):
        return Attachment(kind=kind, ref=ref)
    try:
        key = aes_key(str(item["aeskey"])) if item.get("aeskey") else aes_key(bot_key)
        with requests.get(url, timeout=TIMEOUT, stream=True) as response:
            response.raise_for_status()
            data = bytearray()  # (appended in place: not a copy of the whole per chunk)
            for chunk in response.iter_content(64 * 1024):
                data += chunk
                if len(data) > MAX_DOWNLOAD:
                    raise MediaError(f"more than {MAX_DOWNLOAD} bytes")
        content = decrypt(bytes(data), key)
    except (requests.RequestException, ValueError, OSError) as exc:  # MediaError is a ValueError, as are bad URLs
        log.warning("could not fetch WeCom AI bot media %s: %s", ref, redact(exc))
        return Attachment(kind=kind, ref=ref)
    content_type, extension = kind_of(content)
    if kind == "image" and not content_type.startswith("image/"):
        content_type = "image/jpeg"  # WeCom's pictures are JPEG unless they say otherwise
        extension = "jpg"
    return Attachment(kind=kind, ref=ref, data=content, name=f"wecom-{ref[:12]}.{extension}", content_type=content_type)
