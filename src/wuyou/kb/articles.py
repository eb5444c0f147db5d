"""Articles in the database: stored from and turned into `documents.ArticleDoc`s, drafted, published, exported."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from sqlalchemy import ScalarSelect, func, select
from sqlalchemy.orm import Session

from wuyou.kb.documents import MAX_PHRASINGS, ArticleDoc, dump_extra, load_extra, render_article, split_sections
from wuyou.kb.errors import ArticleExists, ArticleFormatError
from wuyou.kb.models import Article
from wuyou.kb.text import tidy


def to_doc(article: Article) -> ArticleDoc:
    return ArticleDoc(
        id=article.id,
        title=article.title,
        category=article.category,
        tags=tuple(article.tags),
        body=article.body,
        sections=split_sections(article.body),
        status=article.status,
        phrasings=tuple(article.phrasings or ()),
        source=article.source or "",
        extra=load_extra(article.extra),
    )


def upsert(*, session: Session, docs: Iterable[ArticleDoc], now: datetime) -> int:
    """Create or update articles by id; returns how many were written."""
    count = 0
    for doc in docs:
        article = session.get(Article, doc.id) or Article(id=doc.id)
        article.title = doc.title
        article.category = doc.category
        article.tags = list(doc.tags)
        article.body = doc.body
        article.status = doc.status
        article.phrasings = list(doc.phrasings)
        article.source = doc.source or None
        article.extra = dump_extra(doc.extra)
        article.updated_at = now
        session.add(article)
        count += 1
    session.flush()
    return count


def all_docs(*, session: Session, published_only: bool = False) -> list[ArticleDoc]:
    """Every stored article (or only those that may be suggested)."""
    query = select(Article).order_by(Article.id)
    if published_only:
        query = query.where(Article.status == "published")
    return [to_doc(a) for a in session.scalars(query)]


def save_draft(
    *, session: Session, article_id: str, title: str, category: str, symptoms: str, steps: str, source: str,
    now: datetime, phrasings: Iterable[str] = (),
) -> ArticleDoc:
    """A draft article (not suggested until published); an existing draft of that id is rewritten. `phrasings`:
    reporters' own wordings of the problem, matched as the article's once it is published."""
    existing = session.get(Article, article_id)
    if existing is not None and existing.status != "draft":
        raise ArticleExists(f"{article_id} is already a published article")
    body = f"## 现象\n{symptoms.strip()}\n\n## 处理步骤\n{steps.strip()}"
    kept = tuple(dict.fromkeys(p for p in (tidy(p)[:200] for p in phrasings) if p))[-MAX_PHRASINGS:]
    doc = ArticleDoc(article_id, title, category, (), body, split_sections(body), status="draft", source=source,
                     phrasings=kept)
    upsert(session=session, docs=[doc], now=now)
    return doc


def publish(*, session: Session, article_id: str, now: datetime) -> ArticleDoc | None:
    """Make a draft suggestible; None when there is no such article (its id typed in any case: 发布知识 kb-t1024)."""
    article = session.get(Article, article_id) or session.scalars(
        select(Article).where(func.upper(Article.id) == article_id.upper()).order_by(Article.id).limit(1)).first()
    if article is None:
        return None
    if article.status != "published":
        article.status = "published"
        article.updated_at = now
        session.flush()
    return to_doc(article)


def learn_phrasing(*, session: Session, article_id: str, text: str, now: datetime) -> bool:
    """Remember how a reporter worded a problem this article solved (the most recent few are kept);
    the index then matches that wording too. False when it was already known."""
    article = session.get(Article, article_id)
    text = tidy(text)[:200]
    if article is None or not text or text in (article.phrasings or []):
        return False
    article.phrasings = [*(article.phrasings or []), text][-MAX_PHRASINGS:]
    article.updated_at = now
    session.flush()
    return True


def forget_phrasing(*, session: Session, article_id: str, text: str, now: datetime) -> bool:
    """Drop a wording learned for an article that turned out not to solve it. False when it was not known."""
    article = session.get(Article, article_id)
    text = tidy(text)[:200]
    if article is None or text not in (article.phrasings or []):
        return False
    article.phrasings = [p for p in article.phrasings if p != text]
    article.updated_at = now
    session.flush()
    return True


def get_doc(*, session: Session, article_id: str) -> ArticleDoc | None:
    article = session.get(Article, article_id)
    return to_doc(article) if article else None


def export_dir(*, session: Session, directory: Path) -> int:
    """Write every article to `<id>.md` under `directory`."""
    if directory.exists() and not directory.is_dir():
        raise ArticleFormatError(f"{directory}: not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    docs = all_docs(session=session)
    for doc in docs:
        (directory / f"{doc.id}.md").write_text(render_article(doc), encoding="utf-8")
    return len(docs)


def version_columns() -> tuple[ScalarSelect[int], ScalarSelect[datetime]]:
    """What the articles' version is read from (it changes whenever an article is written, so every process can tell
    its index is stale), as columns of a statement that reads more (`kb.index`)."""
    return (select(func.count()).select_from(Article).scalar_subquery(),
            select(func.max(Article.updated_at)).scalar_subquery())


def version_of(count: int, latest: datetime | None) -> str:
    """The version, from what `version_columns` read."""
    return f"{count}:{latest}"
