"""The incident board and the post-incident report as web pages (the links in war-room messages)."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, PlainTextResponse

from wuyou.adapters.bootstrap import Desk
from wuyou.adapters.pages import page
from wuyou.desk.errors import NotFound
from wuyou.desk.incidents import report, service
from wuyou.desk.incidents.models import IncidentEvent

router = APIRouter(include_in_schema=False)


def _describer(desk: Desk) -> Callable[[IncidentEvent], str]:
    return lambda e: desk.catalog.t(f"incident_event_{e.kind}", **report.event_params(e))


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
    desk: Desk = request.app.state.desk
    f = _facts(desk, ref)
    i, tz, t = f.incident, desk.bot.tz, desk.catalog.t
    rows = "".join(
        f"<tr><td>{e.at.astimezone(tz):%H:%M:%S}</td><td>{escape(e.kind)}</td>"
        f"<td>{escape(e.actor.name if e.actor else '')}</td><td>{escape(e.body or '')}</td></tr>" for e in f.events)
    linked = "".join(f"<li><a href='/tickets/{x.id}'>#{x.id}</a> {escape(x.title)} · {escape(x.reporter.name)}"
                     f" · {escape(t('status_' + x.status))}</li>" for x in f.tickets)
    pages = "".join(f"<li>{escape(p.person.name)} · {escape(p.speciality)} · {escape(p.status)}</li>" for p in f.pages)
    head = (f"<h1>{i.ref} {escape(i.title)}</h1><p class=meta>{i.severity} · "
            f"{escape(t('incident_status_' + i.status))} · 指挥 {escape(i.commander.name if i.commander else '—')}"
            f" · 通报 {escape(i.comms.name if i.comms else '—')}"
            f" · 技术 {escape(i.tech_lead.name if i.tech_lead else '—')} · {len(f.branches)} 个网点</p>")
    return page(i.ref, f"{head}<h2>值班 · on-call</h2><ul>{pages}</ul><h2>工单 · tickets</h2><ul>{linked}</ul>"
                        f"<h2>时间线 · timeline</h2><table>{rows}</table>"
                        f"<p><a href='/incidents/{i.ref}/report'>事后报告 · post-incident report</a></p>")


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
