"""The war-room page, its live timeline (server-sent events) and the post-incident report as web pages (the
links in war-room messages).

`/incidents/{ref}` renders the board and a few lines of script: an `EventSource` on `/incidents/{ref}/events`
appends timeline entries as they happen, and a form posts commands to `/api/v1/incidents/{ref}/actions` with
the person's console session (or a pasted API token). All of it needs a signed-in member of staff: the board
shows internal notes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

import anyio
from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, StreamingResponse
from markdown_it import MarkdownIt
from sqlalchemy import select

from wuyou.adapters.bootstrap import Desk
from wuyou.adapters.tickets_schemas import MAX_ID
from wuyou.adapters.web.console import page_locale, render, signed_in
from wuyou.desk.errors import NotFound
from wuyou.desk.incidents import report, service
from wuyou.desk.incidents.models import Incident, IncidentEvent
from wuyou.desk.models import Person, Team, Ticket

router = APIRouter(include_in_schema=False)
_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")  # what people wrote is shown, never run
POLL_SECONDS = 1.0  # how often the stream looks for new timeline entries
HEARTBEAT_SECONDS = 15.0  # a comment after this much silence keeps proxies from closing the connection
RETRY_MS = 3000  # the browser reconnects (with Last-Event-ID) this long after a dropped connection
BATCH = 200  # entries per database read; a longer backlog is read on at once


def _describer(desk: Desk, locale: str | None = None) -> Callable[[IncidentEvent], str]:
    def describe(e: IncidentEvent) -> str:
        try:
            return desk.catalog.t(report.event_key(e), locale, **report.event_params(e))
        except KeyError:  # a kind newer than the catalogue
            return f"{e.kind} {e.body or ''}".strip()

    return describe


def _sayer(desk: Desk, locale: str) -> report.Say:
    """The catalogue's words in `locale`, for the post-incident report."""
    return lambda key, **params: desk.catalog.t(key, locale, **params)


def _facts(desk: Desk, ref: str) -> report.Facts:
    number = service.parse_ref(ref)
    if number is None:
        raise HTTPException(status_code=404, detail="no such incident")
    with desk.sessions() as session:
        try:
            found = report.facts(session=session, incident_id=number)
        except NotFound as exc:
            raise HTTPException(status_code=404, detail="no such incident") from exc
        session.expunge_all()
    return found


_SCRIPT = """
const ref = %(ref)s, list = document.getElementById('timeline'), fillIn = %(fill_in)s;
const source = new EventSource('/incidents/' + ref + '/events?after=%(last)d');
source.onmessage = (m) => {
  const e = JSON.parse(m.data);
  if (list.querySelector('li[data-id="' + e.id + '"]')) return;
  const li = document.createElement('li'); li.dataset.id = e.id; li.textContent = e.time + ' ' + e.text;
  list.appendChild(li);
};
source.addEventListener('end', () => source.close());
const form = document.getElementById('cmd'), f = form.elements, said = document.getElementById('said');
form.onsubmit = async (ev) => {
  ev.preventDefault();
  const act = f.act.value, text = f.text.value.trim(), person = f.person.value.trim(), body = {action: act};
  if (['update', 'note', 'task', 'mitigate', 'resolve'].includes(act)) body.text = text;
  if (act === 'page') body.target = text;
  if (act === 'link' || act === 'unlink') body.tickets = (text.match(/[0-9]+/g) || []).map(Number);
  if (act === 'task_done') body.task = parseInt(text, 10);
  if (act === 'task' && person) body.owner = person;
  if (act === 'role') { body.role = f.role.value; body.person = person; }
  if (act === 'sev') body.severity = f.severity.value;
  const r = await fetch('/api/v1/incidents/' + ref + '/actions', {method: 'POST', body: JSON.stringify(body),
    headers: {'content-type': 'application/json', 'X-Wuyou-Console': '1'}});
  const out = await r.json().catch(() => ({detail: r.statusText}));
  // (a form's field left empty or malformed: said in words, not the validator's JSON)
  said.textContent = r.ok ? '✓ ' + out.message : '✗ ' + (typeof out.detail === 'string' ? out.detail
    : fillIn.replace('{fields}', (out.detail || []).map((d) => (d.loc || []).slice(-1)[0]).join(', ')));
  if (r.ok) f.text.value = '';
};
"""


@router.get("/incidents/{ref}", response_class=HTMLResponse)
def board(ref: str, request: Request) -> HTMLResponse:
    """The war-room page, in the console: roles, on-call, tickets, and the timeline, which grows live (server-sent
    events); commands go to /api/v1/incidents/{ref}/actions with the console session."""
    person = signed_in(request)  # the board carries internal notes: staff only, signed in to the console
    desk: Desk = request.app.state.desk
    f = _facts(desk, ref)
    i, tz, t = f.incident, desk.bot.tz, desk.catalog.t
    describe = _describer(desk, page_locale(request, person))

    def name(p: Person | None) -> str:
        return p.name if p is not None else "—"

    locale = page_locale(request, person)
    facts = t("web_incident_facts", locale, severity=i.severity, status=t("incident_status_" + i.status, locale),
              commander=name(i.commander), comms=name(i.comms), tech_lead=name(i.tech_lead),
              branches=len(f.branches), tickets=len(f.tickets))
    return render(request, "incident.html", person=person, page="incident", title=i.ref, ref=i.ref,
                  incident_title=i.title, facts=facts,
                  events=[{"id": e.id, "time": f"{e.at.astimezone(tz):%H:%M:%S}", "text": describe(e)}
                          for e in f.events],
                  pages=[f"{p.person.name} · {_team_name(desk, p.team_code)} · {t('web_page_' + p.status, locale)}"
                         for p in f.pages], severity=i.severity,
                  tickets=[{"id": x.id, "text": f"{x.title} · {x.reporter.name} · {t('status_' + x.status, locale)}"}
                           for x in _readable(desk, i.id, person, f.tickets)],
                  alike=[{"id": x.id, "text": f"{x.title} · {x.branch.name if x.branch else '—'}"}
                         for x in _readable(desk, i.id, person, _alike(desk, i.id))]
                  if i.status in ("active", "mitigated") else [],
                  script=_SCRIPT % {"ref": json.dumps(i.ref), "last": max((e.id for e in f.events), default=0),
                                    "fill_in": json.dumps(t("web_incident_fill_in", locale), ensure_ascii=False)})


def _readable(desk: Desk, number: int, person: Person, found: list[Ticket]) -> list[Ticket]:
    """The tickets of `found` the signed-in person may read (all, for someone in the incident; else their regions')."""
    with desk.sessions() as session:
        incident, reader = session.get(Incident, number), session.get(Person, person.id)
        if incident is None or reader is None:
            return []
        ids = {t.id for t in service.readable(session=session, incident=incident, person=reader, found=found)}
    return [t for t in found if t.id in ids]


def _team_name(desk: Desk, code: str) -> str:
    with desk.sessions() as session:
        team = session.get(Team, code)
        return team.name if team is not None else code


def _alike(desk: Desk, number: int) -> list[Ticket]:
    """Tickets of the incident's category from its time not linked to it, their branch and reporter loaded."""
    with desk.sessions() as session:
        incident = session.get(Incident, number)
        found = service.unlinked_alike(session=session, incident=incident) if incident is not None else []
        for ticket in found:
            _ = (ticket.branch, ticket.reporter)
        session.expunge_all()
    return found


def _read(desk: Desk, number: int, since: int,
          describe: Callable[[IncidentEvent], str]) -> tuple[list[tuple[int, str]], bool]:
    """Timeline entries after `since` (at most BATCH) as event-stream data, and whether the incident is over
    (closed, or gone). Runs in a worker thread with its own session."""
    with desk.sessions() as session:
        # The status first: an entry committed with the closing is then among the entries read after it.
        status = session.scalar(select(Incident.status).where(Incident.id == number))
        rows = session.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == number,
                                                           IncidentEvent.id > since)
                               .order_by(IncidentEvent.id).limit(BATCH))
        found = [(e.id, json.dumps({"id": e.id, "at": e.at.isoformat(),
                                    "time": f"{e.at.astimezone(desk.bot.tz):%H:%M:%S}", "kind": e.kind,
                                    "actor": e.actor.name if e.actor else None, "text": describe(e)},
                                   ensure_ascii=False)) for e in rows]
    return found, status in (None, "closed")


async def timeline_stream(desk: Desk, number: int, since: int, *, once: bool = False,
                          gone: Callable[[], Awaitable[bool]] | None = None, poll: float = POLL_SECONDS,
                          heartbeat: float = HEARTBEAT_SECONDS) -> AsyncIterator[str]:
    """The incident's timeline after entry `since` in the event-stream format, then every new entry as it
    comes: the database is read every `poll` seconds in a worker thread (never on the event loop), a comment
    goes out after `heartbeat` seconds of silence, and it ends when `gone()` says the client left, or with an
    `end` event once the incident is closed. `once`: what exists now, then end (scripts and tests)."""
    describe = _describer(desk)
    yield f"retry: {RETRY_MS}\n\n"
    quiet = 0.0
    while True:
        found, over = await anyio.to_thread.run_sync(_read, desk, number, since, describe)
        for event_id, data in found:
            since = event_id
            yield f"id: {event_id}\ndata: {data}\n\n"
        if found:
            quiet = 0.0
        if len(found) == BATCH:
            continue
        if over:
            yield "event: end\ndata: {}\n\n"  # the page closes its EventSource instead of reconnecting
            return
        if once or (gone is not None and await gone()):
            return
        await anyio.sleep(poll)
        quiet += poll
        if quiet >= heartbeat:
            quiet = 0.0
            yield ": heartbeat\n\n"


def _exists(desk: Desk, number: int) -> bool:
    with desk.sessions() as session:
        return session.get(Incident, number) is not None


@router.get("/incidents/{ref}/events")
async def events(ref: str, request: Request, after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0, once: bool = False,
                 last_event_id: Annotated[str | None, Header()] = None) -> StreamingResponse:
    """The timeline as `text/event-stream`, each entry with `id:` = its id, from `Last-Event-ID` (a reconnect)
    or `?after=` on; `?once=1` sends what exists and ends (see `timeline_stream`)."""
    await anyio.to_thread.run_sync(lambda: signed_in(request))
    desk: Desk = request.app.state.desk
    number = service.parse_ref(ref)
    if number is None or not await anyio.to_thread.run_sync(_exists, desk, number):
        raise HTTPException(status_code=404, detail="no such incident")
    resume = (last_event_id or "").strip()
    since = int(resume) if resume.isdigit() else after
    return StreamingResponse(timeline_stream(desk, number, since, once=once, gone=request.is_disconnected),
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.get("/incidents/{ref}/report", response_class=HTMLResponse)
def report_page(ref: str, request: Request) -> HTMLResponse:
    person = signed_in(request)
    desk: Desk = request.app.state.desk
    f = _facts(desk, ref)
    locale = page_locale(request, person)
    text = report.markdown(f, tz=desk.bot.tz, say=_sayer(desk, locale), describe=_describer(desk, locale),
                           shown=_readable(desk, f.incident.id, person, f.tickets))
    return render(request, "incident_report.html", person=person, page="incident", title=f"{f.incident.ref}",
                  ref=f.incident.ref, html=_markdown.render(text))


@router.get("/incidents/{ref}/report.md", response_class=PlainTextResponse)
def report_markdown(ref: str, request: Request) -> PlainTextResponse:
    person = signed_in(request)
    desk: Desk = request.app.state.desk
    f = _facts(desk, ref)
    locale = page_locale(request, person)
    return PlainTextResponse(report.markdown(f, tz=desk.bot.tz, say=_sayer(desk, locale),
                                             describe=_describer(desk, locale),
                                             shown=_readable(desk, f.incident.id, person, f.tickets)),
                             media_type="text/markdown; charset=utf-8")
