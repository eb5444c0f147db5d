"""Announcements through the API (and the console): preview the reach, send now or at a time, list, one notice
with its acknowledgements per branch, edit a scheduled one or move a sent one's maintenance window, cancel a
scheduled one or end a maintenance window early."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from wuyou.adapters.auth import Caller
from wuyou.adapters.bootstrap import Desk
from wuyou.adapters.bounds import Moment
from wuyou.desk.errors import DeskError, Forbidden, NotFound
from wuyou.desk.models import Person
from wuyou.desk.notices import audience as audiences
from wuyou.desk.notices import scope, service
from wuyou.desk.notices.audience import Audience, UnknownTarget
from wuyou.desk.notices.models import Notice

router = APIRouter(prefix="/api/v1/notices", tags=["notices"])
_CHUNK = 200  # notices read at a time for a page of those a person sees
NoticeId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Codes = list[Annotated[str, Field(min_length=1, max_length=200)]]


class AudienceIn(BaseModel):
    regions: Codes = Field(default_factory=list, max_length=500, description="with every region below them")
    branches: Codes = Field(default_factory=list, max_length=5000)
    categories: Codes = Field(default_factory=list, max_length=100, description="catalog leaves: branches with that "
                              "equipment (the org file's `equipment`, or their tickets of the last half year)")

    def audience(self) -> Audience:
        return Audience(tuple(self.regions), tuple(self.branches), tuple(self.categories))


class WindowIn(BaseModel):
    system: str = Field(min_length=1, max_length=100, description="as people name it: 核心系统")
    aliases: Codes = Field(default_factory=list, max_length=20, description="other names people use for it")
    starts_at: Moment
    ends_at: Moment

    @model_validator(mode="after")
    def _ordered(self) -> WindowIn:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class NoticeIn(BaseModel):
    kind: Literal["maintenance", "release", "precaution", "general"] = "general"
    title: str = Field(default="", max_length=200, description="default: the body's first line")
    body: str = Field(min_length=1, max_length=4000)
    important: bool = Field(default=False, description="chase the branches that have not acknowledged it")
    remind_after_minutes: int | None = Field(default=None, ge=5, le=7 * 24 * 60)
    audience: AudienceIn = Field(default_factory=AudienceIn, description="empty: every branch (admins only)")
    send_at: Moment | None = Field(default=None, description="default now; a time without offset is local")
    window: WindowIn | None = Field(default=None, description="a maintenance window the notice announces")


class WindowPatch(BaseModel):
    system: str | None = Field(default=None, min_length=1, max_length=100)
    aliases: Codes | None = Field(default=None, max_length=20)
    starts_at: Moment | None = None
    ends_at: Moment | None = None

    @model_validator(mode="after")
    def _ordered(self) -> WindowPatch:
        if self.starts_at is not None and self.ends_at is not None and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class NoticePatch(BaseModel):
    """Any of a new notice's fields; those left out stay as they are. A sent maintenance notice takes only new
    window times: `ends_at`, and `starts_at` until the window starts."""

    kind: Literal["maintenance", "release", "precaution", "general"] | None = None
    title: str | None = Field(default=None, max_length=200)
    body: str | None = Field(default=None, min_length=1, max_length=4000)
    important: bool | None = None
    remind_after_minutes: int | None = Field(default=None, ge=5, le=7 * 24 * 60)
    audience: AudienceIn | None = None
    send_at: Moment | None = Field(default=None, description="null: now")
    window: WindowPatch | None = Field(default=None, description="null: no window (a scheduled notice)")

    @model_validator(mode="after")
    def _no_nulls(self) -> NoticePatch:
        nulls = [name for name in ("kind", "title", "body", "important", "audience")
                 if name in self.model_fields_set and getattr(self, name) is None]
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null: leave out what stays as it is")
        return self


class ReachOut(BaseModel):
    branches: int
    people: int
    platforms: dict[str, int]


class WindowOut(BaseModel):
    system: str
    aliases: list[str]
    starts_at: datetime
    ends_at: datetime


class NoticeOut(BaseModel):
    id: int
    kind: str
    title: str
    body: str
    important: bool
    audience: dict[str, list[str]]
    author: str
    author_name: str
    status: str
    send_at: datetime
    sent_at: datetime | None
    window: WindowOut | None
    people: int
    acknowledged: int
    branches: int
    branches_acknowledged: int


class BranchAcksOut(BaseModel):
    code: str
    name: str
    people: int
    acknowledged: int
    first_acknowledged_at: datetime | None


class NoticeDetailOut(NoticeOut):
    by_branch: list[BranchAcksOut]
    may_change: bool = Field(description="whether the caller may edit or cancel it: its author, an HQ lead, an admin")


def _desk(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


def _moment(desk: Desk, moment: datetime) -> datetime:
    """A moment given without an offset, in the desk's time zone."""
    return moment if moment.tzinfo else moment.replace(tzinfo=desk.bot.tz)


def _local(desk: Desk, moment: datetime | None) -> datetime | None:
    return None if moment is None else _moment(desk, moment)


def _name(session: Session, person_id: str) -> str:
    person = session.get(Person, person_id)
    return person.name if person is not None else person_id


def _out(session: Session, notice: Notice, rows: list[service.BranchAcks] | None = None,
         seen: frozenset[str] | None = None) -> NoticeOut:
    """The notice with its counts; `rows`: its per-branch acknowledgements when the caller has them already;
    `seen`: the branches they are counted at, None for all (`scope.seen_branches`)."""
    rows = _rows(session, notice, seen) if rows is None else rows
    people, acked = sum(r.people for r in rows), sum(r.acked for r in rows)
    w = notice.window
    return NoticeOut(id=notice.id, kind=notice.kind, title=notice.title, body=notice.body, important=notice.important,
                     audience=notice.audience, author=notice.author_id,
                     author_name=_name(session, notice.author_id), status=notice.status, send_at=notice.send_at,
                     sent_at=notice.sent_at, people=int(people), acknowledged=int(acked), branches=len(rows),
                     branches_acknowledged=sum(1 for r in rows if r.acked),
                     window=WindowOut(system=w.system, aliases=list(w.aliases), starts_at=w.starts_at,
                                      ends_at=w.ends_at) if w else None)


def _rows(session: Session, notice: Notice, seen: frozenset[str] | None) -> list[service.BranchAcks]:
    """The notice's acknowledgements per branch, at the branches seen only (a regional lead's of an HQ notice)."""
    rows = service.branch_acks(session=session, notice_id=notice.id)
    return rows if seen is None else [r for r in rows if r.code in seen]


def _refusal(exc: DeskError) -> HTTPException:
    if isinstance(exc, Forbidden):
        return HTTPException(status_code=403, detail=str(exc))
    if isinstance(exc, NotFound):
        return HTTPException(status_code=404, detail="no such notice")
    if isinstance(exc, UnknownTarget):
        return HTTPException(status_code=422, detail=f"unknown regions, branches or categories: {exc}")
    return HTTPException(status_code=422, detail=str(exc))


def _visible_notice(session: Session, viewer: scope.Viewer, notice_id: int,
                    now: datetime) -> tuple[Notice, frozenset[str] | None]:
    """The notice and the branches this person sees of it (None: all) if it reaches any of theirs; 404 otherwise
    (its existence not revealed)."""
    notice = session.get(Notice, notice_id)
    seen = frozenset() if notice is None else scope.seen_branches(session=session, viewer=viewer, notice=notice,
                                                                  now=now)
    if notice is None or seen == frozenset():
        raise HTTPException(status_code=404, detail="no such notice")
    return notice, seen


def _viewer(session: Session, person: Person) -> scope.Viewer:
    return scope.viewer(session=session, person=session.get(Person, person.id) or person)


@router.post("/preview")
def preview(body: NoticeIn, request: Request, person: Caller) -> ReachOut:
    """Whom the notice would reach (branches, people, people per platform), without sending anything."""
    desk = _desk(request)
    if person.role not in service.SENDERS:
        raise HTTPException(status_code=403, detail="leads and admins send notices")
    with desk.sessions() as session:
        try:
            audiences.check(session=session, audience=body.audience.audience())
        except DeskError as exc:
            raise _refusal(exc) from exc
        reach = audiences.reach(session=session, audience=body.audience.audience(), now=desk.clock())
    return ReachOut(branches=reach.branches, people=reach.people, platforms=reach.platforms)


@router.post("", status_code=201)
def create(body: NoticeIn, request: Request, person: Caller) -> NoticeOut:
    """Send a notice now (or at `send_at`): once to every person of its branches, on their own platform, through
    the outbox. Leads within their regions, admins anywhere."""
    desk = _desk(request)
    w = body.window
    with desk.sessions() as session:
        try:
            notice = service.create(
                session=session, author=session.get(Person, person.id) or person, body=body.body, title=body.title,
                kind=body.kind, important=body.important, audience=body.audience.audience(), now=desk.clock(),
                send_at=_local(desk, body.send_at), remind_after_minutes=body.remind_after_minutes,
                window=service.Window(system=w.system, aliases=tuple(w.aliases), starts_at=_moment(desk, w.starts_at),
                                      ends_at=_moment(desk, w.ends_at)) if w else None)
        except DeskError as exc:
            raise _refusal(exc) from exc
        session.commit()
        out = _out(session, notice)
    desk.loop.wake()
    return out


@router.get("")
def list_notices(request: Request, person: Caller, limit: Annotated[int, Query(ge=1, le=200)] = 50,
                 offset: Annotated[int, Query(ge=0)] = 0) -> list[NoticeOut]:
    """Notices, newest first, with their reach and acknowledgement counts: a lead's are every notice that reaches
    a branch of their regions, counted at those branches when someone else sent it."""
    desk = _desk(request)
    if person.role not in service.SENDERS:
        raise HTTPException(status_code=403, detail="for leads and admins")
    with desk.sessions() as session:
        viewer, now = _viewer(session, person), desk.clock()
        # `offset` and `limit` count the notices this person sees (counted after the fetch, a regional lead's pages
        # came back short or empty): read newest first, a chunk at a time, until the page is full.
        page: list[NoticeOut] = []
        skip, before = offset, None
        while len(page) < limit:
            stmt = select(Notice).order_by(Notice.id.desc()).limit(_CHUNK)
            chunk = list(session.scalars(stmt if before is None else stmt.where(Notice.id < before)))
            for notice in chunk:
                seen = scope.seen_branches(session=session, viewer=viewer, notice=notice, now=now)
                if seen == frozenset():
                    continue
                if skip:
                    skip -= 1
                elif len(page) < limit:
                    page.append(_out(session, notice, seen=seen))
            if len(chunk) < _CHUNK:
                break
            before = chunk[-1].id
        return page


@router.get("/{notice_id}")
def get_notice(notice_id: NoticeId, request: Request, person: Caller) -> NoticeDetailOut:
    """One notice with its acknowledgements branch by branch (branches nobody acknowledged first)."""
    desk = _desk(request)
    with desk.sessions() as session:
        viewer = _viewer(session, person)
        notice, seen = _visible_notice(session, viewer, notice_id, desk.clock())
        rows = _rows(session, notice, seen)
        return NoticeDetailOut(**_out(session, notice, rows).model_dump(), by_branch=[
            BranchAcksOut(code=r.code, name=r.name, people=r.people, acknowledged=r.acked,
                          first_acknowledged_at=r.first_ack) for r in rows],
            may_change=scope.may_change(session=session, person=viewer.person, notice=notice))


@router.patch("/{notice_id}")
def edit(notice_id: NoticeId, body: NoticePatch, request: Request, person: Caller) -> NoticeOut:
    """Change a scheduled notice (any field of a new one, checked the same way), or move the window of a sent
    maintenance notice that is not over — `window.ends_at`, and `window.starts_at` until it starts — telling
    everyone it reached. Its author, a lead at headquarters or an admin."""
    desk = _desk(request)
    with desk.sessions() as session:
        now = desk.clock()
        _visible_notice(session, _viewer(session, person), notice_id, now)
        try:
            notice = service.locked(session=session, notice_id=notice_id)
            given, keep = body.model_fields_set, service.KEEP
            service.edit(
                session=session, notice=notice, by=session.get(Person, person.id) or person, now=now,
                kind=keep if body.kind is None else body.kind, title=keep if body.title is None else body.title,
                body=keep if body.body is None else body.body,
                important=keep if body.important is None else body.important,
                audience=keep if body.audience is None else body.audience.audience(),
                remind_after_minutes=body.remind_after_minutes if "remind_after_minutes" in given else keep,
                send_at=_local(desk, body.send_at) if "send_at" in given else keep,
                window=(None if body.window is None else _window(desk, body.window, notice)) if "window" in given
                else keep)
        except DeskError as exc:
            raise _refusal(exc) from exc
        session.commit()
        out = _out(session, notice)
    desk.loop.wake()
    return out


def _window(desk: Desk, patch: WindowPatch, notice: Notice) -> service.Window:
    was = notice.window
    starts = _local(desk, patch.starts_at) or (was.starts_at if was else None)
    ends = _local(desk, patch.ends_at) or (was.ends_at if was else None)
    if starts is None or ends is None:
        raise HTTPException(status_code=422, detail="a new maintenance window needs its system, starts_at and ends_at")
    return service.Window(system=patch.system if patch.system is not None else was.system if was else "",
                          aliases=tuple(patch.aliases if patch.aliases is not None else was.aliases if was else ()),
                          starts_at=starts, ends_at=ends)


@router.post("/{notice_id}/cancel")
def cancel(notice_id: NoticeId, request: Request, person: Caller) -> NoticeOut:
    """Withdraw a scheduled notice, or end a sent notice's maintenance window now. Its author, a lead at
    headquarters or an admin."""
    desk = _desk(request)
    with desk.sessions() as session:
        notice, _ = _visible_notice(session, _viewer(session, person), notice_id, desk.clock())
        try:
            service.cancel(session=session, notice=notice, by=session.get(Person, person.id) or person,
                           now=desk.clock())
        except DeskError as exc:
            raise _refusal(exc) from exc
        session.commit()
        return _out(session, notice)
