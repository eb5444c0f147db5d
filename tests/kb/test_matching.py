"""The first matcher: confident suggestions, and none for what the KB does not cover."""

from __future__ import annotations

import pytest

from tests.conftest import shared
from wuyou.kb.articles import read_dir
from wuyou.kb.matching import Matcher
from wuyou.kb.text import normalise, tidy


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(read_dir(shared("kb-sample/kb")))


def test_normalise() -> None:
    assert normalise("＠运维 打印機卡紙了！！！ 急急急") == "打印机卡纸了"
    assert normalise("ＶＰＮ登陆不上") == "vpn登录不上"


def test_tidy_keeps_words_drops_noise() -> None:
    assert tidy("@运维 打印机又卡纸了 急急急!!!  大厅那台") == "打印机又卡纸了 大厅那台"


@pytest.mark.parametrize(("text", "expected"), [("打印机卡纸了", "KB-P001"), ("打印機卡紙", "KB-P001")])
def test_obvious_matches(matcher: Matcher, text: str, expected: str) -> None:
    suggestions = matcher.suggest(text)
    assert suggestions and suggestions[0].article_id == expected
    assert len(suggestions) <= 3


@pytest.mark.parametrize("text", ["谢谢", "你好", "asdfgh", "😭😭😭", "", "好的"])
def test_nothing_confident(matcher: Matcher, text: str) -> None:
    assert matcher.suggest(text) == []


def test_labelled_cases_beat_a_floor(matcher: Matcher) -> None:
    """A regression floor on the evaluation set (the real matcher is issue 3)."""
    import json

    cases = [json.loads(line) for line in shared("kb-sample/cases.jsonl").read_text(encoding="utf-8").splitlines()]
    with_article = [c for c in cases if c["expected"]]
    top3 = sum(c["expected"] in [s.article_id for s in matcher.suggest(c["text"])] for c in with_article)
    without = [c for c in cases if not c["expected"]]
    quiet = sum(not matcher.suggest(c["text"]) for c in without)
    assert top3 / len(with_article) >= 0.7
    assert quiet / len(without) >= 0.7
