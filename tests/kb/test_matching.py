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


def test_whole_kb_codes_equal_one_text_codes() -> None:
    """The index computes bigram codes for the whole KB at once (numpy); a message gets them one by one
    (Python). Both must give the same codes, or messages would never meet the articles."""
    from wuyou.kb.features import corpus_codes, text_codes

    raw = ["打印机卡纸 Paper Jam", "登陆不了 帐号 密吗", "网", "a 码 vpn连不上 b", "", "繁體字測試"]
    texts = [normalise(t) for t in raw]
    codes, owners = corpus_codes(texts, list(range(len(texts))), [i != 2 for i in range(len(texts))])
    for i, text in enumerate(texts):
        assert sorted(codes[owners == i].tolist()) == sorted(text_codes(text, pinyin=i != 2)), text


def test_normalising_many_texts_at_once_equals_one_by_one() -> None:
    from wuyou.kb.text import normalise_many

    texts = ["@运维 打印机\n卡纸了!!!", "在吗 VPN連不上", "", "ＰＯＳ机\r\n签到失败 谢谢", "hi there wifi"]
    assert normalise_many(texts) == [normalise(t) for t in texts]
