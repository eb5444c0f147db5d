"""Article files: parse, render, round-trip, clear errors."""

from __future__ import annotations

import pytest

from tests.conftest import shared
from wuyou.kb.articles import parse_article, read_dir, render_article
from wuyou.kb.errors import ArticleFormatError


def test_sample_articles_parse_and_round_trip() -> None:
    docs = read_dir(shared("kb-sample/kb"))
    assert len(docs) == 50
    first = next(d for d in docs if d.id == "KB-P001")
    assert first.title == "打印机卡纸的处理方法" and first.category == "终端设备/打印机"
    assert "卡纸" in first.tags and first.steps.startswith("1.") and "Paper Jam" in first.symptoms
    for doc in docs:
        assert parse_article(render_article(doc)) == doc


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("no front matter", "no YAML front matter"),
        ("---\ntitle: x\n---\nbody", "needs 'id'"),
        ("---\nid: A\ntitle: t\ntags: 5\n---\n", "'tags' must be a list"),
        ("---\nid: [unclosed\n---\n", "not valid YAML"),
    ],
)
def test_bad_files_name_the_problem(text: str, problem: str) -> None:
    with pytest.raises(ArticleFormatError, match=problem):
        parse_article(text, source="x.md")
