"""Small server-rendered pages: a KB article and a ticket with its timeline (links in chat point here). A ticket
and its attachments are shown only to someone signed in (the console's session, or a token) who may see the
ticket — its engineers all of it, its reporter and their branch the public part; anyone else is sent to sign in
or gets 404."""

from __future__ import annotations

from datetime import datetime
from html import escape
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from markdown_it import MarkdownIt
from sqlalchemy.orm import Session

from wuyou.adapters.bootstrap import Desk
from wuyou.adapters.tickets_schemas import TicketId
from wuyou.adapters.web.console import PageForbidden, SignInRequired, signed_in, viewer
from wuyou.bot.staff import event_text
from wuyou.desk import attachments, scope, tickets
from wuyou.desk.errors import NotFound
from wuyou.desk.media import MediaMissing
from wuyou.desk.models import Attachment, Person, Ticket
from wuyou.kb.articles import get_doc

router = APIRouter(include_in_schema=False)
_IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
_markdown = MarkdownIt("commonmark", {"html": False})  # an article's steps as written, never its HTML run

_STYLE = """<style>body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;max-width:760px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.6}h1{font-size:1.4em}.meta{color:#666}
pre{white-space:pre-wrap;background:#f6f7f9;padding:1em;border-radius:6px}
.badge{font-size:.6em;background:#fff3cd;color:#8a6100;padding:.1em .5em;border-radius:4px;vertical-align:middle}
h2{font-size:1.05em}.files img{max-height:160px;margin:.2em;border-radius:4px}
table{border-collapse:collapse;width:100%}td{border-top:1px solid #eee;padding:.3em .5em;vertical-align:top}</style>"""


def page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>{escape(title)} · 无忧服务台</title>'
        f"{_STYLE}<body>{body}<p class=meta><a href='/'>无忧服务台</a></p></body></html>"
    )


@router.get("/kb/{article_id}", response_class=HTMLResponse)
def article_page(article_id: str, request: Request) -> HTMLResponse:
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        doc = get_doc(session=session, article_id=article_id)
    if doc is None:
        raise HTTPException(status_code=404, detail="no such article")
    # A draft (from a ticket, not yet reviewed) is for staff signed in to the console; so are the wordings of
    # reporters the article learned, and where it came from (a ticket, a person).
    person = viewer(request)
    staff = person is not None and scope.is_staff(person)
    if doc.status != "published" and not staff:
        if person is None:
            raise SignInRequired  # to the sign-in page, and back here
        raise HTTPException(status_code=404, detail="no such article")
    tags = "".join(f" · {escape(t)}" for t in doc.tags)
    # (an archived one showed as current: an engineer following an old link read it as the desk's answer)
    draft = {"draft": " <span class=badge>草稿 draft</span>",
             "archived": " <span class=badge>已归档 archived</span>"}.get(doc.status, "")
    source = f" · 来自 {escape(doc.source)}" if doc.source and staff else ""
    phrasings = "".join(f"<li>{escape(p)}</li>" for p in doc.phrasings) if staff else ""
    learned = f"<h2>报修人的说法 · how reporters put it</h2><ul>{phrasings}</ul>" if phrasings else ""
    return page(
        doc.title,
        f"<h1>{escape(doc.title)}{draft}</h1>"
        f"<p class=meta>{escape(doc.id)} · {escape(doc.category)}{tags}{source}</p>"
        f"<section class=article>{_markdown.render(doc.body)}</section>{learned}",  # (it showed the raw ## 现象)
    )


@router.get("/tickets/{ticket_id}", response_class=HTMLResponse)
def ticket_page(ticket_id: TicketId, request: Request) -> HTMLResponse:
    desk: Desk = request.app.state.desk
    person = signed_in(request, staff=False)  # not signed in: to the sign-in page, and back here
    with desk.sessions() as session:
        try:
            ticket = _visible(session, person, ticket_id)
        except HTTPException:  # (the chat's link opened by someone it is not for: a page in words, not JSON)
            raise PageForbidden("ticket_not_found", status=404) from None
        events = tickets.timeline(session=session, ticket_id=ticket_id,
                                  public_only=not scope.serves(session=session, person=person, ticket=ticket))
        def t(key: str, **params: object) -> str:
            return desk.catalog.t(key, person.locale, **params)

        def local(moment: datetime | None) -> str:
            return desk.bot.local_time(moment, now=desk.bot.clock())

        rows = "".join(  # who by name, an SLA clock's name and minutes, a chase's count: as chat shows them
            f"<tr><td>{e.at.astimezone(desk.bot.tz):%m-%d %H:%M}</td><td>{escape(t('event_' + e.kind))}"
            f"</td><td>{escape(event_text(session, e, t=t, local=local).strip().lstrip('：'))}</td></tr>"
            for e in events
        )
        status = desk.catalog.t(f"status_{ticket.status}")
        head = (
            f"<h1>#{ticket.id} {escape(ticket.title)}</h1><p class=meta>{escape(ticket.priority)} · {escape(status)}"
            f" · {escape(ticket.category.path if ticket.category else desk.catalog.t('category_none'))} · "
            f"{escape(ticket.branch.name if ticket.branch else '—')} · {escape(ticket.reporter.name)}"
            f" · {escape(ticket.assignee.name if ticket.assignee else '未接单')}</p>"
        )
        files = "".join(
            f"<a href='/tickets/{ticket_id}/attachments/{a.id}'>"
            + (f"<img src='/tickets/{ticket_id}/attachments/{a.id}' alt='{escape(a.name)}'>" if a.kind == "image"
               else escape(a.name)) + "</a>"
            for a in attachments.of_ticket(session=session, ticket_id=ticket_id)
        )
    gallery = f"<p class=files>{files}</p>" if files else ""
    return page(f"#{ticket_id}", f"{head}<pre>{escape(ticket.description)}</pre>{gallery}<table>{rows}</table>")


@router.get("/tickets/{ticket_id}/attachments/{attachment_id}")
def attachment_file(ticket_id: TicketId, attachment_id: TicketId, request: Request) -> Response:
    """An attachment's content: images inline, anything else as a download (never rendered as a page)."""
    desk: Desk = request.app.state.desk
    person = signed_in(request, staff=False)
    with desk.sessions() as session:
        _visible(session, person, ticket_id)
        found = session.get(Attachment, attachment_id)
        if found is None or found.ticket_id != ticket_id:
            raise HTTPException(status_code=404, detail="no such attachment")
        inline = found.kind == "image" and found.content_type in _IMAGE_TYPES
        disposition = "inline" if inline else f"attachment; filename*=UTF-8''{quote(found.name)}"
        try:
            content = attachments.content(media=desk.bot.media, attachment=found)
        except MediaMissing as exc:
            raise HTTPException(status_code=410, detail="the attachment's file is no longer stored") from exc
        return Response(
            content=content,
            media_type=found.content_type if inline else "application/octet-stream",
            headers={"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff"},
        )


def _visible(session: Session, person: Person, ticket_id: int) -> Ticket:
    """The ticket, if this person may see it; 404 otherwise (as for one that does not exist)."""
    try:
        ticket = tickets.get_ticket(session=session, ticket_id=ticket_id)
    except NotFound as exc:
        raise HTTPException(status_code=404, detail="no such ticket") from exc
    if not scope.may_see(session=session, person=person, ticket=ticket):
        raise HTTPException(status_code=404, detail="no such ticket")
    return ticket
