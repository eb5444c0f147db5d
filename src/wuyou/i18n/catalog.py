"""Load the YAML catalogues and render messages with parameters."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any, Protocol, runtime_checkable

import yaml

DEFAULT_LOCALE = "zh-CN"
LOCALES = ("zh-CN", "en")


@runtime_checkable
class Phrase(Protocol):
    """Words still to be put into a language: a message's key and its parameters, which may be phrases too (a
    refusal naming its place). No key: str() is all there is to say."""

    @property
    def key(self) -> str: ...

    @property
    def params(self) -> Mapping[str, Any]: ...


class _Missing(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@cache
def _load(locale: str) -> dict[str, str]:
    text = resources.files("wuyou.i18n").joinpath(f"{locale}.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return {str(k): str(v).rstrip("\n") for k, v in data.items()}


class Catalog:
    """`t("claim_ok", "zh-CN", ticket=1024)` → the zh-CN text with the parameters filled in."""

    def __init__(self, default_locale: str = DEFAULT_LOCALE) -> None:
        self.default_locale = default_locale if default_locale in LOCALES else DEFAULT_LOCALE

    def keys(self, locale: str) -> set[str]:
        return set(_load(locale))

    def t(self, key: str, locale: str | None = None, /, **params: Any) -> str:
        """The message `key` in `locale` (falling back to zh-CN), with `params` filled in."""
        loc = locale if locale in LOCALES else self.default_locale
        template = _load(loc).get(key) or _load(DEFAULT_LOCALE).get(key)
        if template is None:
            raise KeyError(f"no message '{key}'")
        text = template.format_map(_Missing(params))
        return _plural(text) if loc == "en" and "(s)" in text else text

    def say(self, phrase: Phrase, locale: str | None = None, /) -> str:
        """`phrase` in `locale`, each parameter that is a phrase itself said first (a place inside a refusal)."""
        if not phrase.key:
            return str(phrase)
        params = {k: self.say(v, locale) if isinstance(v, Phrase) else v for k, v in phrase.params.items()}
        return self.t(phrase.key, locale, **params)


# English nouns written "ticket(s)" after their count: "1 open ticket", "2 open tickets" once the count is known.
_COUNTED = re.compile(r"\b(\d+)((?: [a-z]+){0,2}?) ([a-z]+)\(s\)")


def _plural(text: str) -> str:
    return _COUNTED.sub(lambda m: f"{m[1]}{m[2]} {m[3]}{'' if m[1] == '1' else 's'}", text)
