"""The incident board and the post-incident report as web pages (the links in war-room messages)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from html import escape
from typing import Annotated

import anyio
from fastapi import APIRouter, Header, HTTPException, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, StreamingResponse
from sqlalchemy import select

from wuyou.adapters.bootstrap import Desk
from wuyou.adapters.pages import page
from wuyou.desk.errors import NotFound
from wuyou.desk.incidents import report, service
from wuyou.desk.incidents.models import Incident, IncidentEvent

router = APIRouter(include_in_schema=False)
POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0


def _describer(desk: Desk) -> Callable[[IncidentEvent], str]:
    return lambda e: desk.catalog.t(report.event_key(e), **report.event_params(e))


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


@router.get("/incidents/{ref}", response_class=HTMLResponse)
def board(ref: str, request: Request) -> HTMLResponse:
    """The war-room page: roles, on-call, tickets, and the timeline, which grows live (server-sent events).
    Commands are posted with a personal API token to /api/v1/incidents/{ref}/actions."""
    desk: Desk = request.app.state.desk
    f = _facts(desk, ref)
    i, tz, t = f.incident, desk.bot.tz, desk.catalog.t
    describe = _describer(desk)
    rows = "".join(f"<li data-id='{e.id}'>{e.at.astimezone(tz):%H:%M:%S} {escape(describe(e))}</li>" for e in f.events)
    linked = "".join(f"<li><a href='/tickets/{x.id}'>#{x.id}</a> {escape(x.title)} · {escape(x.reporter.name)}"
                     f" · {escape(t('status_' + x.status))}</li>" for x in f.tickets)
    pages = "".join(f"<li>{escape(p.person.name)} · {escape(p.speciality)} · {escape(p.status)}</li>" for p in f.pages)
    last = f.events[-1].id if f.events else 0
    head = (f"<h1>{i.ref} {escape(i.title)}</h1><p class=meta>{i.severity} · "
            f"{escape(t('incident_status_' + i.status))} · 指挥 {escape(i.commander.name if i.commander else '—')}"
            f" · 通报 {escape(i.comms.name if i.comms else '—')}"
            f" · 技术 {escape(i.tech_lead.name if i.tech_lead else '—')} · {len(f.branches)} 个网点</p>")
    form = ("<h2>作战室命令 · war-room command</h2><form id=cmd>"
            "<select name=action><option value=note>记录 note</option><option value=update>通报 update</option>"
            "<option value=join>加入 join</option><option value=mitigate>缓解 mitigate</option>"
            "<option value=resolve>解决 resolve</option></select> "
            "<input name=text size=40 placeholder='内容 text'> <input name=token type=password size=12 "
            "placeholder='API token'> <button>发送 send</button> <span id=said class=meta></span></form>")
    script = f"""<script>
const list = document.getElementById('timeline');
const source = new EventSource('/incidents/{i.ref}/events?after={last}');
source.onmessage = (m) => {{ const e = JSON.parse(m.data); const li = document.createElement('li');
  li.textContent = e.at + ' ' + e.text; list.appendChild(li); }};
const form = document.getElementById('cmd'); form.token.value = localStorage.getItem('wuyou-token') || '';
form.onsubmit = async (ev) => {{ ev.preventDefault(); localStorage.setItem('wuyou-token', form.token.value);
  const r = await fetch('/api/v1/incidents/{i.ref}/actions', {{method: 'POST', headers: {{'content-type':
    'application/json', 'authorization': 'Bearer ' + form.token.value}}, body: JSON.stringify({{action:
    form.action.value, text: form.text.value}})}});
  document.getElementById('said').textContent = r.ok ? '✓' : (await r.json()).detail;
  if (r.ok) form.text.value = ''; }};
</script>"""
    return page(i.ref, f"{head}<h2>值班 · on-call</h2><ul>{pages}</ul><h2>工单 · tickets</h2><ul>{linked}</ul>"
                       f"<h2>时间线 · timeline</h2><ol id=timeline>{rows}</ol>{form}"
                       f"<p><a href='/incidents/{i.ref}/report'>事后报告 · post-incident report</a></p>{script}")


@router.get("/incidents/{ref}/events")
async def events(ref: str, request: Request, after: int = 0, once: bool = False,
                 last_event_id: Annotated[str | None, Header()] = None) -> StreamingResponse:
    """The timeline as server-sent events from `after` (or `Last-Event-ID`) on, polled once a second, with
    a heartbeat; it ends when the client leaves or the incident is closed (`once=1`: what exists, then end)."""
    desk: Desk = request.app.state.desk
    number = service.parse_ref(ref)
    if number is None:
        raise HTTPException(status_code=404, detail="no such incident")
    start = int(last_event_id) if last_event_id and last_event_id.isdigit() else after
    describe = _describer(desk)

    def poll(since: int) -> tuple[list[tuple[int, str]], bool]:
        with desk.sessions() as session:
            incident = session.get(Incident, number)
            if incident is None:
                return [], True
            rows = session.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == number,
                                                               IncidentEvent.id > since).order_by(IncidentEvent.id))
            found = [(e.id, json.dumps({"id": e.id, "at": f"{e.at.astimezone(desk.bot.tz):%H:%M:%S}",
                                        "kind": e.kind, "text": describe(e)}, ensure_ascii=False)) for e in rows]
            return found, incident.status == "closed"

    async def stream() -> AsyncIterator[str]:
        since, quiet = start, 0.0
        while True:
            found, closed = await anyio.to_thread.run_sync(poll, since)
            for event_id, data in found:
                since = event_id
                yield f"id: {event_id}\ndata: {data}\n\n"
            if once or closed or await request.is_disconnected():
                return
            await anyio.sleep(POLL_SECONDS)
            quiet += POLL_SECONDS
            if quiet >= HEARTBEAT_SECONDS:
                quiet = 0.0
                yield ": still here\n\n"

    if await anyio.to_thread.run_sync(lambda: _exists(desk, number)) is False:
        raise HTTPException(status_code=404, detail="no such incident")
    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _exists(desk: Desk, number: int) -> bool:
    with desk.sessions() as session:
        return session.get(Incident, number) is not None


@router.get("/incidents/{ref}/report", response_class=HTMLResponse)
def report_page(ref: str, request: Request) -> HTMLResponse:
    desk: Desk = request.app.state.desk
    f = _facts(desk, ref)
    text = report.markdown(f, tz=desk.bot.tz, describe=_describer(desk))
    return page(f"{f.incident.ref} 事后报告", f"<pre>{escape(text)}</pre>"
                                              f"<p><a href='/incidents/{f.incident.ref}/report.md'>Markdown</a></p>")


@router.get("/incidents/{ref}/report.md", response_class=PlainTextResponse)
def report_markdown(ref: str, request: Request) -> PlainTextResponse:
    desk: Desk = request.app.state.desk
    return PlainTextResponse(report.markdown(_facts(desk, ref), tz=desk.bot.tz, describe=_describer(desk)),
                             media_type="text/markdown; charset=utf-8")
