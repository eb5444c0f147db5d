"""Article files: parse, render, round-trip, clear errors."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import shared
from wuyou.adapters.bootstrap import Desk
from wuyou.db import utcnow
from wuyou.kb import articles, documents
from wuyou.kb.documents import parse_article, read_dir, render_article
from wuyou.kb.errors import ArticleExists, ArticleFormatError


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


def test_drafts_and_learned_phrasings_round_trip_through_files_and_storage(desk: Desk) -> None:
    now = utcnow()
    with desk.sessions() as s:
        draft = articles.save_draft(session=s, article_id="KB-T1001", title="门禁刷卡没反应",
                                    category="安防/门禁", symptoms="员工卡刷了没反应", steps="1. 控制器重新上电。",
                                    source="ticket 1001", now=now)
        assert articles.learn_phrasing(session=s, article_id="KB-T1001", text="@运维 后门  刷卡没反应", now=now)
        assert not articles.learn_phrasing(session=s, article_id="KB-T1001", text="@运维 后门 刷卡没反应", now=now)
        s.commit()
    with desk.sessions() as s:
        stored = articles.get_doc(session=s, article_id="KB-T1001")
        assert stored is not None and stored.status == "draft" and stored.phrasings == ("后门 刷卡没反应",)
        assert articles.all_docs(session=s, published_only=True) == []
        assert parse_article(render_article(stored)) == stored
        assert stored.source == "ticket 1001" and draft.steps == "1. 控制器重新上电。"
        published = articles.publish(session=s, article_id="KB-T1001", now=now)
        s.commit()
        assert published is not None and published.status == "published"
        with pytest.raises(ArticleExists):
            articles.save_draft(session=s, article_id="KB-T1001", title="x", category="", symptoms="", steps="",
                                source="", now=now)
        for i in range(documents.MAX_PHRASINGS + 5):
            articles.learn_phrasing(session=s, article_id="KB-T1001", text=f"第{i}种说法", now=now)
        kept = articles.get_doc(session=s, article_id="KB-T1001")
        assert kept is not None and len(kept.phrasings) == documents.MAX_PHRASINGS
        assert kept.phrasings[-1] == f"第{documents.MAX_PHRASINGS + 4}种说法"  # the most recent are kept


def test_unknown_status_is_refused() -> None:
    with pytest.raises(ArticleFormatError, match="'status' must be one of"):
        parse_article("---\nid: A\ntitle: t\nstatus: secret\n---\n", source="x.md")


FRONT_MATTERS = [
    "id: KB-1\ntitle: 打印机卡纸\ncategory: 终端设备/打印机\ntags: [卡纸, 打印机, Paper Jam]",
    "id: 001\ntitle: yes",  # YAML reads a number and a boolean here
    "id: A\ntitle: 'quoted: text'\ntags: []",
    "id: A\ntitle: a # comment\ntags: [a, 'b, c']",
    "id: A\ntitle: on\ntags: [null, ~, 1.5]",
    "id: A\ntitle: t\ntags:\n  - one\n  - two",
    "id: A\nid: B",
    "id: A\ntitle: -dash\nsource: T-1001",
    "id: A\ntitle: 两个空格  在中间 \nphrasings: [打不出来, 卡纸了]",
]


@pytest.mark.parametrize("front", FRONT_MATTERS)
def test_front_matter_reads_exactly_as_yaml(front: str) -> None:
    import yaml

    text = f"---\n{front}\n---\nbody\n"
    try:
        expected = yaml.safe_load(front)
    except yaml.YAMLError:
        with pytest.raises(ArticleFormatError):
            parse_article(text)
        return
    if not expected.get("id") or not expected.get("title") or not isinstance(expected.get("tags", []), list):
        return
    doc = parse_article(text)
    assert (doc.id, doc.title, list(doc.tags)) == (str(expected["id"]), str(expected["title"]),
                                                    [str(t) for t in expected.get("tags") or []])
    assert list(doc.phrasings) == [str(p) for p in expected.get("phrasings") or []]


def test_the_front_matter_wuyou_writes_is_read_without_yaml() -> None:
    for doc in read_dir(shared("kb-sample/kb"))[:10]:
        front = documents._FRONT.match(render_article(doc))
        assert front is not None and documents._simple_front_matter(front.group(1)) is not None


@pytest.mark.parametrize(("front", "problem"), [
    ("id: KB/../x\ntitle: t", "'id' 'KB/../x' cannot be a file name"),
    ("id: 'KB\\01'\ntitle: t", "x.md: 'id' 'KB\\\\01' cannot be a file name"),
    ("id: " + "K" * 65 + "\ntitle: t", "'id' is longer than 64 characters"),
    ("id: A\ntitle: " + "长" * 301, "'title' is longer than 300 characters"),
])
def test_an_id_or_title_the_desk_cannot_keep_is_refused(front: str, problem: str) -> None:
    """`kb export` writes `<id>.md`: an id with a slash was imported, then the export stopped half-way (a directory
    that is not there) or wrote outside its directory; a value wider than its column failed on PostgreSQL."""
    with pytest.raises(ArticleFormatError, match=re.escape(problem)):
        parse_article(f"---\n{front}\n---\n## 现象\nx\n", source="x.md")


def test_an_archived_article_comes_back_from_its_export(desk: Desk, tmp_path: Path) -> None:
    """An article archived in the console (or `DELETE /api/v1/kb/articles/ID`) is exported with `status: archived`;
    `kb import` refused that file, so a desk's export could not be imported back."""
    doc = read_dir(shared("kb-sample/kb"))[0]
    with desk.sessions() as s:
        articles.upsert(session=s, docs=[replace(doc, status="archived")], now=utcnow())
        s.commit()
        articles.export_dir(session=s, directory=tmp_path)
    (back,) = read_dir(tmp_path)
    assert back == replace(doc, status="archived")
    with desk.sessions() as s:
        articles.upsert(session=s, docs=[back], now=utcnow())
        assert articles.all_docs(session=s, published_only=True) == []  # (still never suggested)
