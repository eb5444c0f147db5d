"""Feedback moves rankings; imports and feedback reach the live index without a restart."""

from __future__ import annotations

from wuyou.adapters.bootstrap import Desk
from wuyou.db import utcnow
from wuyou.kb import articles, feedback
from wuyou.kb.documents import ArticleDoc, split_sections
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
    ranked = matcher.rank("打印机很慢 要等很久")
    loser = ranked[1].article_id
    matcher.set_boosts({loser: 1.15})
    boosted = matcher.rank("打印机很慢 要等很久")
    assert boosted[0].article_id == loser
    assert boosted[0].score == ranked[0].score  # the order moves; the confidence stays what the evidence says


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


def test_each_persons_verdict_on_an_article_counts_once(desk: Desk) -> None:
    """Someone turning the same article down every morning is one voice: thirty rejections by one person lower it
    as much as one; by thirty people, further."""
    with desk.sessions() as s:
        articles.upsert(session=s, docs=TWINS, now=utcnow())
        for _ in range(30):
            feedback.record(session=s, article_ids=["A"], kind="rejected", now=utcnow(), person_id="p")
        feedback.record(session=s, article_ids=["B"], kind="rejected", now=utcnow(), person_id="p")
        one_voice = feedback.article_boosts(session=s)
        assert one_voice["A"] == one_voice["B"] < 1.0
        feedback.record(session=s, article_ids=["A"], kind="solved", now=utcnow(), person_id="q")
        feedback.record(session=s, article_ids=["A"], kind="solved", now=utcnow(), person_id="q")
        for person in range(30):
            feedback.record(session=s, article_ids=["B"], kind="rejected", now=utcnow(), person_id=f"r{person}")
        boosts = feedback.article_boosts(session=s)
        assert boosts["A"] == feedback.boosts_of([("A", "rejected", 1), ("A", "solved", 1)])["A"]
        assert boosts["B"] < one_voice["B"]


def test_only_verdicts_make_the_boosts_stale(desk: Desk) -> None:
    """Offering or viewing a suggestion (every message of a storm) changes no boost, so it must not make every
    process recount all the feedback; a verdict must."""
    with desk.sessions() as s:
        articles.upsert(session=s, docs=TWINS, now=utcnow())
        before = feedback.version(session=s)
        feedback.record(session=s, article_ids=["A", "B"], kind="offered", now=utcnow(), person_id="p")
        feedback.record(session=s, article_ids=["A"], kind="viewed", now=utcnow(), person_id="p")
        assert feedback.version(session=s) == before
        feedback.record(session=s, article_ids=["A"], kind="rejected", now=utcnow(), person_id="p")
        rejected = feedback.version(session=s)
        assert rejected > before
        feedback.record(session=s, article_ids=["B"], kind="solved", now=utcnow(), person_id="p")
        assert feedback.version(session=s) > rejected


def test_large_kb_rebuilds_in_the_background_while_the_old_index_answers(desk: Desk) -> None:
    index = LiveIndex(threshold=0, inline_up_to=0)  # every rebuild after the first goes to the background
    scanner = _doc("S", "扫码枪扫不出条码", "扫码枪对着条码没有反应，扫不出来。")
    with desk.sessions() as s:
        articles.upsert(session=s, docs=TWINS[:1], now=utcnow())
        s.commit()
        assert len(index.matcher(s)) == 1  # the first index is built before answering
        articles.upsert(session=s, docs=[scanner], now=utcnow())
        s.commit()
        old = index.matcher(s)  # starts the rebuild, answers with what it has
        assert index.wait(timeout=30)
        new = index.matcher(s)
    assert old is not new
    assert [x.article_id for x in new.suggest("扫码枪扫不出来")][:1] == ["S"]
    assert len(new) == 2


def test_learned_phrasings_are_matched() -> None:
    plain = _doc("D", "门禁刷卡无反应", "员工卡刷卡后门禁没有反应。")
    taught = ArticleDoc(plain.id, plain.title, plain.category, plain.tags, plain.body, plain.sections,
                        phrasings=("后门那个闸机滴一声不开",))
    query = "后门闸机滴一声不开"
    before = Matcher([plain, *TWINS], threshold=0).rank(query)
    after = Matcher([taught, *TWINS], threshold=0).rank(query)
    assert after[0].article_id == "D"
    assert after[0].score > (before[0].score if before else 0.0)
