"""Articles as Markdown files with YAML front matter, and their storage."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import ScalarSelect, func, select
from sqlalchemy.orm import Session

from wuyou.kb.errors import ArticleExists, ArticleFormatError
from wuyou.kb.models import Article
from wuyou.kb.text import tidy

# libyaml's loader when PyYAML was built with it (the wheels are): ten times faster over a large KB.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n?(.*)\Z", re.S)
_SECTION = re.compile(r"^##\s+(.+?)\s*$", re.M)
# The front matter wuyou itself writes is a handful of `key: plain words` and `key: [a, b]` lines. Those are read
# without YAML (parsing 10,000 files' YAML costs more than indexing them); anything else goes to YAML.
_SIMPLE_LINE = re.compile(r"([a-z_]+): (.*)")
_PLAIN = re.compile(r"[^\s\-?:,\[\]{}#&*!|>'\"%@`0-9.+~][^,\[\]{}#'\"]*")
_YAML_WORDS = frozenset(["y", "n", "yes", "no", "on", "off", "true", "false", "null"])
STATUSES = ("published", "draft")
MAX_PHRASINGS = 20


@dataclass(frozen=True)
class ArticleDoc:
    """An article as the files and the matcher see it."""

    id: str
    title: str
    category: str
    tags: tuple[str, ...] = ()
    body: str = ""
    sections: dict[str, str] = field(default_factory=dict, compare=False)
    status: str = "published"
    phrasings: tuple[str, ...] = ()  # reporters' wordings of problems it solved
    source: str = ""

    @property
    def symptoms(self) -> str:
        return self.sections.get("现象", "")

    @property
    def steps(self) -> str:
        return self.sections.get("处理步骤", "")


def split_sections(body: str) -> dict[str, str]:
    """`## 标题` sections of a Markdown body, by heading."""
    parts = _SECTION.split(body)
    return {parts[i].strip(): parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}


def _plain(value: str) -> str | None:
    """`value` when YAML would read it as exactly this string, else None."""
    if _PLAIN.fullmatch(value) and ": " not in value and " #" not in value and value == value.strip():
        return None if value.lower() in _YAML_WORDS else value
    return None


def _simple_front_matter(text: str) -> dict[str, object] | None:
    """The front matter as YAML would read it, for the simple shape wuyou writes; None for anything else."""
    meta: dict[str, object] = {}
    for line in text.split("\n"):
        match = _SIMPLE_LINE.fullmatch(line)
        if match is None or match.group(1) in meta:
            return None
        key, value = match.groups()
        if value.startswith("[") and value.endswith("]"):
            items = [_plain(item.strip()) for item in value[1:-1].split(",")] if value[1:-1].strip() else []
            if None in items:
                return None
            meta[key] = items
        else:
            meta[key] = _plain(value)
            if meta[key] is None:
                return None
    return meta


def parse_article(text: str, *, source: str = "<text>") -> ArticleDoc:
    """Parse one Markdown article with front matter (`id`, `title`, `category`, `tags`)."""
    match = _FRONT.match(text.lstrip("\ufeff"))
    if match is None:
        raise ArticleFormatError(f"{source}: no YAML front matter between '---' lines")
    meta: Any = _simple_front_matter(match.group(1))
    if meta is None:
        try:
            meta = yaml.load(match.group(1), Loader=_Loader)
        except yaml.YAMLError as exc:
            raise ArticleFormatError(f"{source}: front matter is not valid YAML: {exc}") from exc
    if not isinstance(meta, dict):
        raise ArticleFormatError(f"{source}: front matter must be a mapping")
    for key in ("id", "title"):
        if not meta.get(key):
            raise ArticleFormatError(f"{source}: front matter needs '{key}'")
    lists = {}
    for key in ("tags", "phrasings"):
        lists[key] = meta.get(key) or []
        if not isinstance(lists[key], list):
            raise ArticleFormatError(f"{source}: '{key}' must be a list")
    status = str(meta.get("status") or "published")
    if status not in STATUSES:
        raise ArticleFormatError(f"{source}: 'status' must be one of {', '.join(STATUSES)}, not {status!r}")
    body = match.group(2).strip()
    return ArticleDoc(
        id=str(meta["id"]),
        title=str(meta["title"]),
        category=str(meta.get("category") or ""),
        tags=tuple(str(t) for t in lists["tags"]),
        body=body,
        sections=split_sections(body),
        status=status,
        phrasings=tuple(str(p) for p in lists["phrasings"]),
        source=str(meta.get("source") or ""),
    )


def render_article(doc: ArticleDoc) -> str:
    """The Markdown file for an article; `parse_article(render_article(a)) == a`."""
    meta: dict[str, object] = {"id": doc.id, "title": doc.title, "category": doc.category, "tags": list(doc.tags)}
    if doc.status != "published":
        meta["status"] = doc.status
    if doc.source:
        meta["source"] = doc.source
    if doc.phrasings:
        meta["phrasings"] = list(doc.phrasings)
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, default_flow_style=None)
    return f"---\n{front}---\n{doc.body}\n"


def read_dir(directory: Path) -> list[ArticleDoc]:
    """Every `*.md` article under a directory, in file-name order."""
    if not directory.is_dir():
        raise ArticleFormatError(f"{directory}: not a directory")
    return [
        parse_article(path.read_text(encoding="utf-8"), source=str(path))
        for path in sorted(directory.rglob("*.md"), key=lambda path: path.parts)  # (as Path orders them, faster)
        if path.name.lower() != "readme.md"
    ]


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
    """Make a draft suggestible; None when there is no such article."""
    article = session.get(Article, article_id)
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


def get_doc(*, session: Session, article_id: str) -> ArticleDoc | None:
    article = session.get(Article, article_id)
    return to_doc(article) if article else None


def export_dir(*, session: Session, directory: Path) -> int:
    """Write every article to `<id>.md` under `directory`."""
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
