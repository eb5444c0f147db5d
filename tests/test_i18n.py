"""The message catalogues: same keys and placeholders in every language, nothing cut short."""

from __future__ import annotations

import string
from importlib import resources

import pytest

from wuyou.i18n import LOCALES, Catalog
from wuyou.i18n.catalog import _load


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_locale_has_every_key_with_the_same_placeholders() -> None:
    base = _load("zh-CN")
    for locale in LOCALES:
        other = _load(locale)
        assert set(other) == set(base), locale
        for key, text in base.items():
            assert _fields(other[key]) == _fields(text), (locale, key)


@pytest.mark.parametrize("locale", LOCALES)
def test_ticket_numbers_survive_yaml(locale: str) -> None:
    # A bare ` #` starts a YAML comment: a message mentioning #{ticket} must keep it.
    catalog = Catalog()
    for key, text in _load(locale).items():
        if "#" in text:
            assert "{ticket}" in text or "#" in catalog.t(key, locale), key
    assert "1024" in catalog.t("rated", locale, ticket=1024)
    assert "1024" in catalog.t("ticket_not_found", locale, ticket=1024)


@pytest.mark.parametrize("locale", LOCALES)
def test_no_plain_value_is_cut_short_by_a_comment(locale: str) -> None:
    # "btn_reopen: 1. 重新打开 #{ticket}" loads as "1. 重新打开": every one-line plain value loads as written.
    raw = resources.files("wuyou.i18n").joinpath(f"{locale}.yaml").read_text(encoding="utf-8")
    loaded = _load(locale)
    for line in raw.splitlines():
        key, sep, value = line.partition(": ")
        if sep and key.isidentifier() and value and value[0] not in "\"'|>":
            assert loaded[key] == value.strip(), (locale, key)


def test_missing_parameter_stays_visible_instead_of_crashing() -> None:
    assert "{ticket}" in Catalog().t("rated")


@pytest.mark.parametrize("locale", LOCALES)
def test_no_key_is_written_twice(locale: str) -> None:
    # YAML keeps the last of two equal keys silently: an edit must not shadow a message.
    from importlib import resources

    import yaml

    text = resources.files("wuyou.i18n").joinpath(f"{locale}.yaml").read_text(encoding="utf-8")
    keys = [node.value for node, _ in yaml.compose(text).value]  # type: ignore[union-attr]
    assert sorted(k for k in set(keys) if keys.count(k) > 1) == []


def test_english_counts_agree_with_their_nouns() -> None:
    catalog = Catalog()
    assert catalog.t("status_list", "en", count=1, lines="…").startswith("You have 1 open ticket:")
    assert catalog.t("status_list", "en", count=3, lines="…").startswith("You have 3 open tickets:")
    assert "Got 2 attachments" in catalog.t("attachments_need_words", "en", count=2)
    assert "~" not in catalog.t("thanks", "en")
