"""Load the YAML catalogues and render messages with parameters."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

DEFAULT_LOCALE = "zh-CN"
LOCALES = ("zh-CN", "en")


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
        return template.format_map(_Missing(params))
