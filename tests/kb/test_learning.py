"""Feedback moves rankings; imports and feedback reach the live index without a restart."""

from __future__ import annotations

from wuyou.adapters.bootstrap import Desk
from wuyou.db import utcnow
from wuyou.kb import articles, feedback
from wuyou.kb.articles import ArticleDoc, split_sections
from wuyou.kb.index import LiveIndex
from wuyou.kb.matching import Matcher


def _doc(doc_id: str, title: str, symptoms: str) -> ArticleDoc:
    body = f"## 现象\n{symptoms}\n\n## 处理步骤\n1. 按说明处理。"
    return ArticleDoc(doc_id, title, "终端设备/打印机", ("打印机",), body, split_sections(body))


# Two versions of one article (an old one and its rewrite): only feedback can tell them apart.
TWINS = [
    _doc("A", "打印机打印很慢", "打印机打印很慢，要等很久才出纸。"),
    _doc("B", "打印机打印很慢", "打印机打印很慢，要等很久才出纸。"),
]


def test_boosts_reorder_near_twins() -> None:
    matcher = Matcher(TWINS, threshold=0)
    before = [s.article_id for s in matcher.rank("打印机很慢 要等很久")]
    loser = before[1]
    matcher.set_boosts({loser: 1.15})
    assert matcher.rank("打印机很慢 要等很久")[0].article_id == loser


def test_feedback_balance_is_bounded() -> None:
    assert feedback.MAX_BOOST <= 0.2


def test_live_index_follows_imports_and_feedback(desk: Desk) -> None:
    index = LiveIndex(threshold=0)
    with desk.sessions() as s:
        assert len(index.matcher(s)) == 0
        articles.upsert(session=s, docs=TWINS, now=utcnow())
        s.commit()
    with desk.sessions() as s:
        matcher = index.matcher(s)
        assert len(matcher) == 2
        first, second = (x.article_id for x in matcher.rank("打印机很慢 要等很久")[:2])
        feedback.record(session=s, article_ids=[second] * 20, kind="solved", now=utcnow(), person_id="p")
        feedback.record(session=s, article_ids=[first] * 20, kind="rejected", now=utcnow(), person_id="p")
        s.commit()
    with desk.sessions() as s:
        assert index.matcher(s).rank("打印机很慢 要等很久")[0].article_id == second
