"""The web console: server-rendered page shells (Jinja2) whose few lines of script call the REST API.

Every action a page offers is a call to `/api/v1` with the signed-in person's session, so whatever the console
can do, an API client can do too, under the same role and region scoping. Pages need no build step and no
front-end toolchain: plain HTML, one stylesheet, one script."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from wuyou.adapters.auth import LANG_COOKIE, SESSION_COOKIE, console_locale, person_of
from wuyou.adapters.bootstrap import Desk
from wuyou.adapters.tickets_schemas import TicketId
from wuyou.desk import attachments, org, scope
from wuyou.desk.models import Person, Team, Ticket
from wuyou.desk.tickets import STATUSES
from wuyou.i18n.catalog import DEFAULT_LOCALE, LOCALES

router = APIRouter(include_in_schema=False)
STAFF_ROLES = ("engineer", "lead", "admin")

_env = Environment(loader=PackageLoader("wuyou.adapters.web", "templates"),
                   autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)


def page_locale(request: Request, person: Person | None) -> str:
    """The language a console page is in: the visitor's choice, else the person's, else the desk's default."""
    return console_locale(request, person)


def _strings(desk: Desk, locale: str) -> dict[str, str]:
    """Every console string (`web_*`, prefix dropped) in the page's language, with the ticket statuses and
    timeline entries (`status_*`, `event_*`), for the templates and the script."""
    keys = desk.catalog.keys(DEFAULT_LOCALE)
    found = {k[4:]: desk.catalog.t(k, locale) for k in keys if k.startswith("web_")}
    found.update({f"status_{s}": desk.catalog.t(f"status_{s}", locale) for s in STATUSES})
    found.update({k: desk.catalog.t(k, locale) for k in keys if k.startswith("event_")})
    return found


def render(request: Request, template: str, *, person: Person | None, page: str, title: str = "",
           status_code: int = 200, **context: Any) -> HTMLResponse:
    desk: Desk = request.app.state.desk
    locale = page_locale(request, person)
    strings = _strings(desk, locale)
    html = _env.get_template(template).render(
        request=request, me=person, page=page, locale=locale, s=strings, title=title or strings.get(f"nav_{page}", ""),
        tz=desk.settings.timezone,
        strings_json=json.dumps(strings, ensure_ascii=False), path=request.url.path,
        staff=person is not None and person.role in STAFF_ROLES, **context,
    )
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})


class SignInRequired(Exception):
    """No valid console session: the handler answers with a redirect to the sign-in page."""


class PageForbidden(Exception):
    """A signed-in person on a page their role may not open: the handler answers with a page saying so, in their
    language (`why`: the catalogue key of the reason), status 403."""

    def __init__(self, why: str, status: int = 403) -> None:
        super().__init__(why)
        self.why = why
        self.status = status  # 404 for a ticket one may not see (its existence not revealed)


def forbidden(request: Request, exc: Exception) -> Response:
    person = viewer(request)
    why = exc.why if isinstance(exc, PageForbidden) else "forbidden_staff"
    desk: Desk = request.app.state.desk
    back = "/console" if person is not None and person.role in STAFF_ROLES else "/"
    locale = page_locale(request, person)
    status = exc.status if isinstance(exc, PageForbidden) else 403
    return render(request, "forbidden.html", person=person, page="forbidden", status_code=status, back=back,
                  title=desk.catalog.t("web_forbidden_title", locale), why=desk.catalog.t(f"web_{why}", locale))


def viewer(request: Request) -> Person | None:
    """Who is signed in (the console session, or a Bearer token for scripts), if anyone."""
    bearer = request.headers.get("authorization", "")
    token = bearer[7:].strip() if bearer.lower().startswith("bearer ") else request.cookies.get(SESSION_COOKIE)
    return person_of(request.app.state.desk, token) if token else None


def signed_in(request: Request, *, staff: bool = True) -> Person:
    """The person behind the console session (or a Bearer token, for scripts); redirected to sign in without
    one, 403 for a reporter on a staff page."""
    person = viewer(request)
    if person is None:
        raise SignInRequired
    if staff and person.role not in STAFF_ROLES:
        raise PageForbidden("forbidden_staff")
    return person


def to_sign_in(request: Request, _: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/console/login?next={quote(target)}", status_code=303)


def _local(target: str) -> str:
    """`target` when it is a path on this site, else the console: a browser reads `/\\evil.example` (and
    `/<tab>/evil.example`) as another host, so a backslash or a control character anywhere is refused too."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target \
            and not any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return target
    return "/console"


@router.get("/console/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/console") -> HTMLResponse:
    desk: Desk = request.app.state.desk  # (codes never go through an open web chat: anyone could read them)
    return render(request, "login.html", person=None, page="login", next=_local(next),
                  http_open=desk.settings.http_channel_open)


@router.get("/console/lang/{locale}")
def switch_language(locale: str, request: Request, next: str = "/console") -> Response:
    if locale not in LOCALES:
        raise HTTPException(status_code=404, detail="no such language")
    response = RedirectResponse(_local(next), status_code=303)
    response.set_cookie(LANG_COOKIE, locale, max_age=365 * 86400, samesite="lax", path="/")
    return response


@router.get("/console", response_class=HTMLResponse)
def home(request: Request) -> Response:
    signed_in(request)
    return RedirectResponse("/console/queues", status_code=303)


@router.get("/console/queues", response_class=HTMLResponse)
def queues_page(request: Request) -> HTMLResponse:
    return render(request, "queues.html", person=signed_in(request), page="queues")


@router.get("/console/tickets", response_class=HTMLResponse)
def tickets_page(request: Request) -> HTMLResponse:
    person = signed_in(request)
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        categories = _categories(session)
    return render(request, "tickets.html", person=person, page="tickets", categories=categories)


def _categories(session: Session) -> list[tuple[str, str]]:
    """The catalog's leaves as (path for the API, path to show)."""
    return [(f"{c.parent.name}/{c.name}" if c.parent else c.name, c.path) for c in org.leaf_categories(session=session)]


@router.get("/console/tickets/{ticket_id}", response_class=HTMLResponse)
def ticket_page(ticket_id: TicketId, request: Request) -> HTMLResponse:
    person = signed_in(request, staff=False)  # a reporter may open their own ticket from a chat link
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None or not scope.may_see(session=session, person=person, ticket=ticket):
            raise PageForbidden("ticket_not_found", status=404)  # (a page in words, not {"detail": …})
        files = [{"id": a.id, "name": a.name, "kind": a.kind, "speech": a.speech_text}
                 for a in attachments.of_ticket(session=session, ticket_id=ticket_id)]
        categories = _categories(session)
        current = ticket.category.path if ticket.category else ""
        priority = ticket.priority
    return render(request, "ticket.html", person=person, page="tickets", title=f"#{ticket_id}",
                  ticket_id=ticket_id, files=files, categories=categories, current_category=current,
                  current_priority=priority)


@router.get("/console/incidents", response_class=HTMLResponse)
def incidents_page(request: Request) -> HTMLResponse:
    desk: Desk = request.app.state.desk
    with desk.sessions() as session:  # the specialities whose on-call a declaration may page (the teams')
        specialities = sorted(set(session.scalars(select(Team.speciality).where(Team.speciality.is_not(None)))))
    return render(request, "incidents.html", person=signed_in(request), page="incidents", specialities=specialities)


@router.get("/console/notices", response_class=HTMLResponse)
def notices_page(request: Request) -> HTMLResponse:
    return render(request, "notices.html", person=_sender(request), page="notices")


@router.get("/console/notices/{notice_id}", response_class=HTMLResponse)
def notice_page(notice_id: TicketId, request: Request) -> HTMLResponse:
    return render(request, "notice.html", person=_sender(request), page="notices", title=f"#{notice_id}",
                  notice_id=notice_id)


def _sender(request: Request) -> Person:
    person = signed_in(request)
    if person.role not in ("lead", "admin"):
        raise PageForbidden("forbidden_notices")
    return person


@router.get("/console/kb", response_class=HTMLResponse)
def kb_page(request: Request) -> HTMLResponse:
    return render(request, "kb.html", person=signed_in(request), page="kb")


@router.get("/console/kb/{article_id}", response_class=HTMLResponse)
def kb_editor(article_id: str, request: Request) -> HTMLResponse:
    person = signed_in(request)
    return render(request, "kb_edit.html", person=person, page="kb", title=article_id, article_id=article_id,
                  publisher=person.role in ("lead", "admin"))  # engineers write drafts; leads publish and archive


@router.get("/console/reports", response_class=HTMLResponse)
def reports_page(request: Request) -> HTMLResponse:
    return render(request, "reports.html", person=signed_in(request), page="reports")


@router.get("/console/oncall", response_class=HTMLResponse)
def oncall_page(request: Request) -> HTMLResponse:
    return render(request, "oncall.html", person=signed_in(request), page="oncall")


@router.get("/console/tokens", response_class=HTMLResponse)
def tokens_page(request: Request) -> HTMLResponse:
    """The signed-in staff member's own API tokens."""
    return render(request, "tokens.html", person=signed_in(request), page="tokens",
                  base_url=str(request.base_url).rstrip("/"))


@router.get("/console/admin", response_class=HTMLResponse)
def admin_page(request: Request) -> HTMLResponse:
    person = signed_in(request)
    if person.role != "admin":
        raise PageForbidden("forbidden_admin")
    return render(request, "admin.html", person=person, page="admin")


_STATIC = resources.files("wuyou.adapters.web").joinpath("static")
_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


@router.get("/console/static/{name}")
def static_file(name: str) -> Response:
    """The console's stylesheet and script (two files: no static-file server needed)."""
    suffix = name[name.rfind("."):] if "." in name else ""
    if suffix not in _TYPES or "/" in name or name.startswith("."):
        raise HTTPException(status_code=404, detail="not found")
    found = _STATIC.joinpath(name)
    if not found.is_file():
        raise HTTPException(status_code=404, detail="not found")
    return Response(found.read_bytes(), media_type=_TYPES[suffix], headers={"Cache-Control": "no-cache"})
