"""The weekly digest through the API (JSON, and Markdown ready for email), as a console page, and its one action:
draft a knowledge-base article from a gap's tickets."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from wuyou.adapters import digests
from wuyou.adapters.auth import Caller
from wuyou.adapters.bootstrap import Desk
from wuyou.adapters.bounds import Day
from wuyou.adapters.web.console import render, signed_in
from wuyou.desk.errors import NotFound
from wuyou.desk.models import Person
from wuyou.kb.errors import ArticleExists

router = APIRouter(tags=["digest"])
READERS = ("lead", "admin")
Week = Annotated[Day | None, Query(description="the week's Monday (any day of it will do); default: last week")]


class DraftIn(BaseModel):
    tickets: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(min_length=1, max_length=200)


class DraftOut(BaseModel):
    article: str
    title: str
    url: str


def _compose(request: Request, person: Person, week: date | None) -> tuple[Desk, digests.Digest]:
    desk: Desk = request.app.state.desk
    if person.role not in READERS:
        raise HTTPException(status_code=403, detail="the digest is for leads and admins")
    tz = desk.bot.tz
    monday = digests.week_of(week) if week else digests.last_full_week(desk.clock(), tz)
    return desk, digests.compose(sessions=desk.sessions, index=desk.bot.index, lead=person, week=monday, tz=tz,
                                 now=desk.clock())


@router.get("/api/v1/digest")
def digest_json(request: Request, person: Caller, week: Week = None) -> dict[str, Any]:
    """The week's digest in the caller's scope: volume and trend, SLA, slowest tickets, CSAT, recurring problems
    and knowledge-base gaps (clusters of ticket numbers)."""
    _, found = _compose(request, person, week)
    return {**asdict(found), "change": found.change}


@router.get("/api/v1/digest.md", response_class=Response)
def digest_markdown(request: Request, person: Caller, week: Week = None) -> Response:
    """The same as Markdown, ready to paste into an email."""
    desk, found = _compose(request, person, week)
    link = f"{desk.settings.link_base.rstrip('/')}/console/digest?week={found.week.isoformat()}"
    text = digests.markdown(found, lambda key, **p: desk.catalog.t(key, person.locale, **p), link)
    return Response(text, media_type="text/markdown; charset=utf-8")


@router.post("/api/v1/digest/drafts", status_code=201)
def draft(body: DraftIn, request: Request, person: Caller) -> DraftOut:
    """Draft an article from a gap's tickets (their wording, their resolutions); publish it from the KB page."""
    desk: Desk = request.app.state.desk
    if person.role not in READERS:
        raise HTTPException(status_code=403, detail="for leads and admins")
    with desk.sessions() as session:
        try:
            doc = digests.draft_from(session=session, ticket_ids=body.tickets, lead=person, now=desk.clock())
        except NotFound as exc:
            raise HTTPException(status_code=404, detail="none of those tickets is yours to see") from exc
        except ArticleExists as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from exc
        session.commit()
    return DraftOut(article=doc.id, title=doc.title, url=f"/console/kb/{doc.id}")


@router.get("/console/digest", response_class=HTMLResponse, include_in_schema=False)
def digest_page(request: Request, week: Week = None) -> HTMLResponse:
    person = signed_in(request)
    _, found = _compose(request, person, week)
    return render(request, "digest.html", person=person, page="digest", digest=found,
                  previous=(found.week.toordinal() - 7), next=(found.week.toordinal() + 7),
                  from_ordinal=date.fromordinal)
