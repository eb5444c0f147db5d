"""Normalising colloquial chat text before matching."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

_MENTION = re.compile(r"@\S+")
_URGENCY = re.compile(r"(急+死?了?|快点|赶紧|在吗|在不在|你好|您好|麻烦|请问|帮忙|帮帮忙|谢谢)")
_PUNCT = re.compile(r"[^\w]+", re.UNICODE)
# Homophone and variant spellings people type for the same thing.
_VARIANTS = {"登陆": "登录", "帐号": "账号", "帐户": "账户", "密吗": "密码", "打引": "打印"}


@lru_cache(maxsize=1)
def _t2s() -> Callable[[str], str]:
    from opencc import OpenCC

    converter = OpenCC("t2s")
    return lambda text: str(converter.convert(text))


def to_simplified(text: str) -> str:
    """Traditional → Simplified Chinese."""
    return _t2s()(text)


def normalise(text: str) -> str:
    """Half-width, lower-case, Simplified text without mentions, urgency noise or punctuation."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = to_simplified(text)
    text = _MENTION.sub(" ", text)
    text = _URGENCY.sub(" ", text)
    for wrong, right in _VARIANTS.items():
        text = text.replace(wrong, right)
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] in "LNZ")
    return " ".join(_PUNCT.sub(" ", text).split())


_NOISE_RUNS = re.compile(r"(急{2,}|[!！?？~～。.]{2,})")


def tidy(text: str) -> str:
    """Text fit for a ticket title: mentions and shouted noise (急急急!!!) removed, spaces collapsed."""
    text = _NOISE_RUNS.sub(" ", _MENTION.sub(" ", text))
    return " ".join(text.split())
