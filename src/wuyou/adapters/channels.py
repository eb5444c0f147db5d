"""Chat platform accounts, from the YAML file named by `WUYOU_CHANNELS_FILE`.

Values of the form `${NAME}` are read from the environment, so secrets stay out of the file. Each
account's webhook is `/channels/<platform>/<account>`; `api_base` points it at another API host
(tests use local fakes on 127.0.0.1).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from wuyou.adapters.text_files import TextFileError, read_text

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ChannelsFileError(ValueError):
    """The channels file is malformed or names a variable that is not set; the message says where."""


@dataclass(frozen=True)
class WeChatAccount:
    name: str
    app_id: str
    app_secret: str
    token: str
    aes_key: str
    api_base: str = "https://api.weixin.qq.com"
    reply_deadline: float = 4.5  # seconds to wait for the engine before answering `success` and pushing later


@dataclass(frozen=True)
class WeComAccount:
    name: str
    corp_id: str
    agent_id: int
    secret: str
    token: str
    aes_key: str
    api_base: str = "https://qyapi.weixin.qq.com"
    # The corp's AI bot (智能机器人, API mode): its callback's Token and EncodingAESKey. Where set, groups (war-rooms,
    # branch groups) the bot is in become two-way for messages addressed to it: `/channels/wecom/<account>/bot`.
    bot_token: str | None = None
    bot_aes_key: str | None = None
    reply_deadline: float = 4.5  # seconds to wait for the engine before the bot's answer goes through the app


@dataclass(frozen=True)
class TelegramAccount:
    name: str
    token: str
    secret_token: str
    war_room_chat: int | None = None
    api_base: str = "https://api.telegram.org"


@dataclass(frozen=True)
class Channels:
    wechat: dict[str, WeChatAccount] = field(default_factory=dict)
    wecom: dict[str, WeComAccount] = field(default_factory=dict)
    telegram: dict[str, TelegramAccount] = field(default_factory=dict)


def _expand(value: Any, where: str, env: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        def sub(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                raise ChannelsFileError(f"{where}: environment variable {name} is not set")
            return env[name]
        return _VAR.sub(sub, value)
    return value


_AES_KEY = re.compile(r"[A-Za-z0-9]{43}")
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


def _account(cls: type[Any], name: str, item: Any, where: str, env: Mapping[str, str]) -> Any:
    if not isinstance(item, Mapping):
        raise ChannelsFileError(f"{where}: must be a mapping")
    known = {f for f in cls.__dataclass_fields__ if f != "name"}
    unknown = set(item) - known
    if unknown:
        raise ChannelsFileError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    values = {k: _expand(v, f"{where}.{k}", env) for k, v in item.items()}
    required = {f for f, spec in cls.__dataclass_fields__.items()
                if f != "name" and spec.default is MISSING and spec.default_factory is MISSING}
    missing = required - set(values)
    if missing:
        raise ChannelsFileError(f"{where}: missing {', '.join(sorted(missing))}")
    for key in ("agent_id", "war_room_chat"):
        if values.get(key) is not None:
            try:
                values[key] = int(values[key])
            except (TypeError, ValueError):
                raise ChannelsFileError(f"{where}.{key}: must be a number, not {values[key]!r}") from None
    for key in ("aes_key", "bot_aes_key"):  # WeChat's and WeCom's EncodingAESKey: 43 letters and digits
        if values.get(key) is not None and not _AES_KEY.fullmatch(str(values[key])):
            raise ChannelsFileError(f"{where}.{key}: must be the 43-character EncodingAESKey the platform shows "
                                    f"(letters and digits; this one has {len(str(values[key]))} characters)")
    if values.get("secret_token") is not None and not _SECRET_TOKEN.fullmatch(str(values["secret_token"])):
        raise ChannelsFileError(f"{where}.secret_token: Telegram takes 1–256 characters of A–Z, a–z, 0–9, _ and -")
    if "api_base" in values:
        values["api_base"] = str(values["api_base"]).rstrip("/")
    if "reply_deadline" in values:
        values["reply_deadline"] = float(values["reply_deadline"])
    typed = ("agent_id", "war_room_chat", "reply_deadline")
    return cls(name=name, **{k: v if k in typed or v is None else str(v) for k, v in values.items()})


def load_channels(path: Path | None, env: Mapping[str, str] | None = None) -> Channels:
    """The accounts in the file (none without a file)."""
    if path is None:
        return Channels()
    env = os.environ if env is None else env
    try:
        doc = yaml.safe_load(read_text(path)) or {}
    except TextFileError as exc:  # (a directory, another encoding: said as the file's problem)
        raise ChannelsFileError(str(exc)) from exc
    except yaml.YAMLError as exc:
        raise ChannelsFileError(f"{path}: {exc}") from exc
    if not isinstance(doc, Mapping):
        raise ChannelsFileError(f"{path}: must be a mapping of platforms")
    unknown = set(doc) - {"wechat", "wecom", "telegram"}
    if unknown:
        raise ChannelsFileError(f"{path}: unknown platform(s) {', '.join(sorted(unknown))}")
    kinds = {"wechat": WeChatAccount, "wecom": WeComAccount, "telegram": TelegramAccount}
    found: dict[str, dict[str, Any]] = {}
    for platform, cls in kinds.items():
        accounts = doc.get(platform) or {}
        if not isinstance(accounts, Mapping):
            raise ChannelsFileError(f"{path}: {platform} must map account names to settings")
        found[platform] = {str(n): _account(cls, str(n), a, f"{platform}.{n}", env) for n, a in accounts.items()}
    return Channels(**found)
