"""`wuyou replay STREAM.jsonl --org FILE [--kb DIR] --json`: the whole desk on a temporary database and an
in-process store, driven by a simulated clock that jumps to each line's time, printing everything the desk did.

Leads tune the surge thresholds on their own history with it; tests check the detector against labelled
streams. Output kinds: `reply` and `push` (`to`, `text`), `ticket_opened` (`ticket`, `user`),
`incident_proposed` and `incident_declared` (`incident`, `reports`: input line numbers, `branches`), and
`linked` (`incident`, `line` or `ticket`). A proposal not (yet) declared is named `offer-N`; a report that
joins a proposed group is `linked` to that name, so the grouping is visible before anyone declares."""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wuyou.adapters import migrate
from wuyou.adapters.bootstrap import Desk, build
from wuyou.adapters.delivery import ChannelSender, Deliverer
from wuyou.adapters.settings import Settings
from wuyou.adapters.text_files import read_text
from wuyou.bot.messages import Chat, Inbound, Sender
from wuyou.desk.incidents.models import OPEN_STATUSES, FaultReport, Incident, IncidentLink, Page, SurgeOffer
from wuyou.desk.models import Identity, SlaClock, Ticket, TicketPage
from wuyou.desk.org import import_org, load_org_file
from wuyou.kb import articles, documents
from wuyou.store import MemoryStore

log = logging.getLogger(__name__)


class ReplayError(Exception):
    """A stream line that cannot be replayed."""


class SimulatedClock:
    def __init__(self) -> None:
        self.now = datetime(2000, 1, 1).astimezone()

    def __call__(self) -> datetime:
        return self.now


Pushed = tuple[str, str, list[dict[str, str]]]  # (address, text, buttons) of what the desk pushed


@dataclass
class _Capture:
    """A channel sender for every platform: records what the desk pushes instead of sending it."""

    platform: str
    sink: list[Pushed] = field(default_factory=list)

    def send(self, *, session: Session, address: str, text: str, buttons: list[dict[str, str]], key: str,
             now: datetime) -> None:
        self.sink.append((address, text, buttons))


@dataclass
class _Seen:
    tickets: int = 0
    offers: dict[int, set[int]] = field(default_factory=dict)  # offer → its report ids already shown
    incidents: set[int] = field(default_factory=set)
    reports: dict[int, int] = field(default_factory=dict)  # fault report id → input line
    linked_reports: set[int] = field(default_factory=set)
    linked_tickets: set[int] = field(default_factory=set)


def read_stream(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """The stream's lines as (line number, record), with a clear error for a bad line."""
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
            datetime.fromisoformat(record["t"])
            if not isinstance(record.get("user"), str) or not isinstance(record.get("text", record.get("action")), str):
                raise KeyError("user, text or action")
        except (ValueError, KeyError, TypeError) as exc:
            raise ReplayError(f"line {number}: not a stream record ({exc})") from exc
        yield number, record


def replay(
    lines: Iterable[str], *, org: Path, kb: Path | None = None, emit: Callable[[dict[str, Any]], None],
    settings: Settings | None = None,
) -> None:
    """Replay a stream through a fresh desk, calling `emit` for everything it does, in time order."""
    with tempfile.TemporaryDirectory(prefix="wuyou-replay-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'replay.db'}"
        migrate.upgrade(url)
        clock = SimulatedClock()
        base = settings or Settings()
        desk = build(base.model_copy(update={"database_url": url, "redis_url": None, "inprocess_worker": False,
                                             "channels_file": None, "media_dir": Path(tmp) / "media"}),
                     clock=clock, store=MemoryStore(clock=lambda: clock.now.timestamp()))
        try:
            _run(desk, clock, lines, org=org, kb=kb, emit=emit)
        finally:
            desk.close()


def _run(desk: Desk, clock: SimulatedClock, lines: Iterable[str], *, org: Path, kb: Path | None,
         emit: Callable[[dict[str, Any]], None]) -> None:
    captures = [_Capture(p) for p in ("http", "wecom", "telegram", "wechat")]
    sink: list[Pushed] = []
    for c in captures:
        c.sink = sink
    deliverer = Deliverer(session_factory=desk.sessions, catalog=desk.catalog, senders=list[ChannelSender](captures),
                          clock=clock,
                          tz=desk.bot.tz, link_base=desk.settings.link_base)
    with desk.sessions() as session:
        import_org(session=session, doc=load_org_file(read_text(org)))
        if kb is not None:
            articles.upsert(session=session, docs=documents.read_dir(kb), now=clock())
        session.commit()
        http_ids = dict(session.execute(select(Identity.person_id, Identity.external_id)
                                        .where(Identity.platform == "http")).all())
    seen = _Seen()
    known = set(http_ids.values())
    started = False
    for number, record in read_stream(lines):
        at = datetime.fromisoformat(record["t"])
        if at.tzinfo is None:
            at = at.replace(tzinfo=ZoneInfo(desk.settings.timezone))
        if clock.now > at:
            log.warning("line %d: %s is before the line before it; taken as %s", number, record["t"],
                        clock.now.isoformat())
            at = clock.now  # a line out of order is taken as happening now
        # The worker's timers (on-call escalation, update reminders, SLA) fire as simulated time passes: the
        # clock stops at each moment something falls due before the line's time, and every TICK between for the
        # rounds whose moments are not kept (housekeeping — reminders of unclaimed tickets and unanswered
        # questions, auto-release, auto-close — and scheduled notices), as the worker's periodic rounds would.
        fired: datetime | None = None
        while True:
            due = _next_due(desk)
            due = due if due is not None and (fired is None or due > fired) else None
            tick = _next_tick(clock.now) if started else None  # (none from the clock's year 2000)
            if due is None and tick is None:
                break
            step = min(d for d in (due, tick) if d is not None)
            if step > at:
                break
            fired = clock.now = max(clock.now, step)
            if step == due:
                _jobs(desk)
            elif not desk.housekeeping_round() + desk.notices_round():
                continue  # (a tick that found nothing to do: nothing to show)
            _effects(desk, deliverer, sink, seen, http_ids, emit, clock.now)
        clock.now = at
        started = True
        stamp = at.isoformat()
        text = record.get("text")
        user = record["user"]
        if user not in known:
            known.add(user)  # (once per user: the desk answers every line of theirs that it does not know them)
            log.warning("line %d: user %r is nobody's http identity in the org file", number, user)
        replies = desk.bot.handle(Inbound(
            platform="http", account="replay", sender=Sender(platform_user_id=user),
            text=text if isinstance(text, str) else "", action=record.get("action"),
            chat=Chat(kind="direct", id=user), dedup_key=f"replay:{number}"))
        with desk.sessions() as session:
            for (report_id,) in session.execute(select(FaultReport.id).where(FaultReport.id > max(seen.reports,
                                                                                                   default=0))):
                seen.reports[report_id] = number
        for reply in replies:
            emit({"t": stamp, "kind": "reply", "to": user, "line": number, "text": reply.text,
                  **({"buttons": [{"label": b.label, "action": b.action} for b in reply.buttons]}
                     if reply.buttons else {})})  # (a later line may press one: `"action"`)
        _effects(desk, deliverer, sink, seen, http_ids, emit, at)


def _next_due(desk: Desk) -> datetime | None:
    with desk.sessions() as session:
        moments = [session.scalar(select(func.min(Page.due_at)).where(Page.status == "paging")),
                   session.scalar(select(func.min(TicketPage.due_at)).where(TicketPage.status == "paging")),
                   session.scalar(select(func.min(Incident.next_update_at)).where(Incident.status.in_(OPEN_STATUSES))),
                   session.scalar(select(func.min(SlaClock.next_check_at)).where(SlaClock.next_check_at.is_not(None)))]
    found = [m for m in moments if m is not None]
    return min(found) if found else None


TICK = timedelta(minutes=5)


def _next_tick(now: datetime) -> datetime:
    """The next multiple of TICK after `now` (on the clock's own scale: ticks fall on :00, :05 …)."""
    epoch = datetime(2000, 1, 1, tzinfo=now.tzinfo)
    return epoch + ((now - epoch) // TICK + 1) * TICK


def _jobs(desk: Desk) -> None:
    desk.incidents_round()
    desk.sla_round()
    desk.housekeeping_round()
    desk.notices_round()


def _effects(desk: Desk, deliverer: Deliverer, sink: list[Pushed], seen: _Seen, http_ids: dict[str, str],
             emit: Callable[[dict[str, Any]], None], at: datetime) -> None:
    """Emit what the last step did: tickets, proposals, declarations, links, then the pushes it caused."""
    stamp = at.astimezone(desk.bot.tz).isoformat()  # (a timer's moment comes from the database in UTC)
    lines = seen.reports
    with desk.sessions() as session:
        for ticket in session.scalars(select(Ticket).where(Ticket.id > seen.tickets).order_by(Ticket.id)):
            seen.tickets = ticket.id
            emit({"t": stamp, "kind": "ticket_opened", "ticket": ticket.id,
                  "user": http_ids.get(ticket.reporter_id, ticket.reporter_id)})
        pending = SurgeOffer.incident_id.is_(None) | SurgeOffer.id.not_in(seen.offers or {-1})
        for offer in session.scalars(select(SurgeOffer).where(pending).order_by(SurgeOffer.id)):
            shown = seen.offers.get(offer.id)
            if shown is None:
                seen.offers[offer.id] = set(offer.report_ids)
                emit({"t": stamp, "kind": "incident_proposed", "incident": f"offer-{offer.id}",
                      "reports": sorted(lines[r] for r in offer.report_ids if r in lines),
                      "branches": sorted(offer.branches)})
            elif offer.incident_id is None:
                for report_id in sorted(set(offer.report_ids) - shown):
                    shown.add(report_id)
                    if report_id in lines:
                        emit({"t": stamp, "kind": "linked", "incident": f"offer-{offer.id}",
                              "line": lines[report_id]})
        for incident in session.scalars(select(Incident).where(Incident.id.not_in(seen.incidents or {-1}))
                                        .order_by(Incident.id)):
            seen.incidents.add(incident.id)
            reports = session.scalars(select(FaultReport.id).where(FaultReport.incident_id == incident.id)).all()
            seen.linked_reports.update(reports)
            source = session.scalars(select(SurgeOffer).where(SurgeOffer.incident_id == incident.id)).first()
            links = session.scalars(select(IncidentLink.ticket_id).where(IncidentLink.incident_id == incident.id))
            seen.linked_tickets.update(links)
            branches = [*session.scalars(select(FaultReport.branch_code).where(FaultReport.incident_id == incident.id,
                                                                               FaultReport.branch_code.is_not(None))),
                        *session.scalars(select(Ticket.branch_code).join(IncidentLink,
                                                                         IncidentLink.ticket_id == Ticket.id)
                                         .where(IncidentLink.incident_id == incident.id,
                                                Ticket.branch_code.is_not(None)))]
            emit({"t": stamp, "kind": "incident_declared", "incident": incident.ref,
                  "offer": f"offer-{source.id}" if source else None, "source": incident.source,
                  "severity": incident.severity, "title": incident.title,
                  "reports": sorted(lines[r] for r in reports if r in lines), "branches": sorted(set(branches))})
        for report in session.scalars(select(FaultReport).where(FaultReport.incident_id.is_not(None),
                                                                FaultReport.id.not_in(seen.linked_reports or {-1}))
                                      .order_by(FaultReport.id)):
            seen.linked_reports.add(report.id)
            emit({"t": stamp, "kind": "linked", "incident": f"INC-{report.incident_id}",
                  "line": lines.get(report.id)})
        for link in session.scalars(select(IncidentLink).where(IncidentLink.ticket_id.not_in(seen.linked_tickets
                                                                                              or {-1}))
                                    .order_by(IncidentLink.id)):
            seen.linked_tickets.add(link.ticket_id)
            emit({"t": stamp, "kind": "linked", "incident": f"INC-{link.incident_id}", "ticket": link.ticket_id})
    while deliverer.run_once():
        pass
    for address, text, buttons in sink:
        emit({"t": stamp, "kind": "push", "to": address, "text": text,
              **({"buttons": [{"label": b["label"], "action": b["action"]} for b in buttons]} if buttons else {})})
    sink.clear()
