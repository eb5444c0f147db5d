"""The knowledge base through the API: the console's editor and its "what would the bot suggest?" tester.

Saving an article changes the KB's version, so every process's live index (kb/index.py) picks it up on its
next suggestion: no restart, no message between processes."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Header, HTTPException, Path, Query, Request, Response
from markdown_it import MarkdownIt
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import String, cast, func, or_, select

from wuyou.adapters.auth import CSRF_HEADER, Caller, console_locale
from wuyou.adapters.bootstrap import Desk
from wuyou.adapters.tickets_schemas import MAX_ID
from wuyou.desk import org, scope
from wuyou.desk.models import Person
from wuyou.kb import articles, documents, feedback
from wuyou.kb.models import Article

router = APIRouter(prefix="/api/v1/kb", tags=["knowledge base"])
ArticleId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", description="e.g. KB-P001")]
Status = Literal["published", "draft", "archived"]
_markdown = MarkdownIt("commonmark", {"html": False})  # raw HTML in an article is shown as text, never run


class Usage(BaseModel):
    """What happened to the article's suggestions in the last `USAGE_DAYS` days."""

    offered: int
    viewed: int
    solved: int = Field(description="reporters said it solved their problem")
    rejected: int = Field(description="reporters said it was not this one")


class ArticleBrief(BaseModel):
    id: str
    title: str
    category: str
    tags: list[str]
    status: Status
    updated_at: datetime
    usage: Usage | None = None


class ArticleList(BaseModel):
    items: list[ArticleBrief]
    total: int


class ArticleOut(ArticleBrief):
    body: str = Field(description="Markdown with `## 现象` and `## 处理步骤` sections")
    phrasings: list[str] = Field(description="how reporters worded problems it solved (learned)")
    source: str | None
    markdown: str = Field(description="the article file, front matter included (as `wuyou kb export` writes)")


class ArticleSaved(ArticleOut):
    warnings: list[str] = Field(default=[], description="saved, but probably not what was meant (a category that "
                                "names no leaf of the catalog: the reports it answers get no category from it)")


class ArticleIn(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    category: str = Field(default="", max_length=200, description="`a/b`")
    tags: list[str] = Field(default_factory=list, max_length=30)
    body: str = Field(min_length=1, max_length=50_000)
    status: Literal["published", "draft"] = "published"

    @field_validator("title", "body")
    @classmethod
    def _not_blank(cls, value: str) -> str:  # (an article of a blank title was saved, and listed as nothing)
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class SuggestIn(BaseModel):
    text: str = Field(min_length=1, max_length=2000, description="a message as a reporter would write it")


class SuggestionOut(BaseModel):
    id: str
    title: str
    score: float = Field(description="calibrated confidence, 0–100")


class Suggestions(BaseModel):
    suggestions: list[SuggestionOut] = Field(description="what the bot would offer: at most 3, none if unsure")


class PreviewIn(BaseModel):
    body: str = Field(max_length=50_000)


class PreviewOut(BaseModel):
    html: str


USAGE_DAYS = 90


def _brief(a: Article, usage: dict[str, int] | None = None) -> ArticleBrief:
    return ArticleBrief(id=a.id, title=a.title, category=a.category, tags=list(a.tags or []),
                        status=a.status if a.status in ("published", "draft", "archived") else "draft",
                        updated_at=a.updated_at, usage=Usage(**usage) if usage is not None else None)


def _full(a: Article, *, staff: bool = True) -> ArticleOut:
    """The whole article; for a reporter without the reporters' wordings it learned and where it came from."""
    doc = articles.to_doc(a)
    if not staff:
        doc = dataclasses.replace(doc, phrasings=(), source="")
    return ArticleOut(**_brief(a).model_dump(), body=a.body, phrasings=list(doc.phrasings), source=doc.source or None,
                      markdown=documents.render_article(doc))


def _editor(person: Person) -> None:
    if not scope.is_staff(person):
        raise HTTPException(status_code=403, detail="engineers, leads and admins edit the knowledge base")


def _publisher(person: Person, what: str) -> None:
    """Publishing (what the bot offers every branch) and archiving are a lead's, as `发布知识` is in chat."""
    if person.role not in ("lead", "admin"):
        raise HTTPException(status_code=403, detail=f"leads and admins {what}; engineers save drafts for them")


@router.get("/articles")
def list_articles(request: Request, person: Caller, q: Annotated[str | None, Query(max_length=100)] = None,
                  status: Status | None = None, limit: Annotated[int, Query(ge=1, le=500)] = 100,
                  offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
                  sort: Literal["id", "offered", "solved", "rejected"] = "id") -> ArticleList:
    """Articles by id (or by how often they were offered, solved problems, or were turned down in the last 90 days,
    most first: `sort=rejected` finds the articles that mislead); `q` searches id, title, category and tags. Staff
    see each article's `usage`; reporters see published articles only."""
    desk: Desk = request.app.state.desk
    where = []
    if not scope.is_staff(person):
        where.append(Article.status == "published")
    if status:
        where.append(Article.status == status)
    if q:
        words = q.replace('%', '').replace('_', '')
        like = f"%{words}%"
        # Tags are a JSON list stored with non-ASCII characters escaped (["\\u5939\\u7eb8"]): searched in that form,
        # with an escape character of our own so that PostgreSQL reads the backslashes as they are.
        tagged = "%" + json.dumps(words)[1:-1].replace("!", "!!") + "%"
        where.append(or_(Article.id.ilike(like), Article.title.ilike(like), Article.category.ilike(like),
                         cast(Article.tags, String).ilike(tagged, escape="!")))
    since = desk.clock() - timedelta(days=USAGE_DAYS)
    order = [Article.id] if sort == "id" else [feedback.usage_order(sort, since).desc(), Article.id]
    with desk.sessions() as session:
        total = session.scalar(select(func.count()).select_from(Article).where(*where)) or 0
        rows = list(session.scalars(select(Article).where(*where).order_by(*order).limit(limit).offset(offset)))
        used = feedback.usage(session=session, article_ids=[a.id for a in rows], since=since) \
            if scope.is_staff(person) else {}
        return ArticleList(items=[_brief(a, used.get(a.id)) for a in rows], total=total)


@router.get("/articles/{article_id}")
def get_article(article_id: ArticleId, request: Request, person: Caller) -> ArticleOut:
    """One article with its body, learned phrasings and its file form."""
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        found = session.get(Article, article_id)
        if found is None or (found.status != "published" and not scope.is_staff(person)):
            raise HTTPException(status_code=404, detail="no such article")
        return _full(found, staff=scope.is_staff(person))


@router.put("/articles/{article_id}")
def put_article(article_id: ArticleId, body: ArticleIn, request: Request, person: Caller,
                if_none_match: Annotated[str | None, Header(description="`*`: only create — 412 if the id is taken")]
                = None) -> ArticleSaved:
    """Create or update an article (staff; publishing a new article or a draft, or turning a published one back into
    a draft, takes a lead or admin; correcting a published one is any editor's). Learned phrasings and the source are
    kept; the bot suggests a published article from its next message on, in every process."""
    _editor(person)
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        existing = session.get(Article, article_id)
        if existing is not None and if_none_match == "*":  # a new article under a taken id would replace that one
            raise HTTPException(status_code=412, detail=f"{article_id} exists already ({existing.title}): "
                                                         f"choose another id, or open it to edit")
        if body.status == "published" and (existing is None or existing.status != "published"):
            _publisher(person, "publish an article")  # (correcting one already published is every editor's)
        if body.status != "published" and existing is not None and existing.status == "published":
            # (saved as a draft, a published article left the bot's answers: an engineer archived it unasked)
            _publisher(person, "take an article out of the bot's answers")
        doc = documents.ArticleDoc(
            id=article_id, title=body.title.strip(), category=body.category.strip(),
            tags=tuple(t.strip() for t in body.tags if t.strip()), body=body.body,
            sections=documents.split_sections(body.body), status=body.status,
            phrasings=tuple(existing.phrasings or ()) if existing else (),
            extra=documents.load_extra(existing.extra) if existing else {},
            source=(existing.source or "") if existing else f"console: {person.id}")
        articles.upsert(session=session, docs=[doc], now=desk.clock())
        session.commit()
        saved = session.get(Article, article_id)
        assert saved is not None
        english = not request.headers.get(CSRF_HEADER)
        return ArticleSaved(**_full(saved).model_dump(), warnings=[
            f"category '{category}' names no leaf of the catalog: the reports this article answers get no category "
            f"from it" if english else desk.catalog.t("kb_category_unplaced", console_locale(request, person),
                                                      category=category)
            for category in org.unplaced(session=session, categories=[doc.category])])


@router.delete("/articles/{article_id}", status_code=204)
def archive_article(article_id: ArticleId, request: Request, person: Caller) -> Response:
    """Archive an article (leads and admins): no longer suggested, but kept with its feedback history (PUT
    publishes it again)."""
    _editor(person)
    _publisher(person, "archive articles")
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        found = session.get(Article, article_id)
        if found is None:
            raise HTTPException(status_code=404, detail="no such article")
        found.status = "archived"
        found.updated_at = desk.clock()
        session.commit()
    return Response(status_code=204)


@router.post("/suggest")
def suggest(body: SuggestIn, request: Request, _: Caller) -> Suggestions:
    """What the bot would offer for this message, with the same matcher and threshold (nothing is recorded)."""
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        found = desk.bot.index.matcher(session).suggest(body.text)
    return Suggestions(suggestions=[SuggestionOut(id=s.article_id, title=s.title, score=round(s.score, 4))
                                    for s in found])


@router.post("/preview")
def preview(body: PreviewIn, _: Caller) -> PreviewOut:
    """The article body as HTML (CommonMark; raw HTML is escaped, unsafe links dropped)."""
    return PreviewOut(html=_markdown.render(body.body))
