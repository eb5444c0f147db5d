"""The post-incident report: what happened when, how long each phase took, who and what was affected.

Built from the incident's own records (timeline, pages, links, tasks), so it is always as current as the
incident; the commander fills in cause and improvements afterwards."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from wuyou.desk.incidents import service
from wuyou.desk.incidents.models import Incident, IncidentEvent, IncidentMember, IncidentTask, Page
from wuyou.desk.models import Branch, Ticket


@dataclass(frozen=True)
class Facts:
    """Everything the report shows, for the Markdown and the web page alike."""

    incident: Incident
    durations: dict[str, object]
    events: list[IncidentEvent]
    tickets: list[Ticket]
    branches: list[Branch]
    participants: list[IncidentMember]
    pages: list[Page]
    tasks: list[IncidentTask]


def facts(*, session: Session, incident_id: int) -> Facts:
    incident = service.get(session=session, incident_id=incident_id)
    codes = service.affected_branches(session=session, incident_id=incident.id)
    return Facts(
        incident=incident,
        durations=service.durations(incident),
        events=service.timeline(session=session, incident_id=incident.id),
        tickets=service.linked_tickets(session=session, incident_id=incident.id),
        branches=[b for b in (session.get(Branch, c) for c in codes) if b is not None],
        participants=list(session.scalars(select(IncidentMember).where(IncidentMember.incident_id == incident.id)
                                          .order_by(IncidentMember.added_at))),
        pages=list(session.scalars(select(Page).where(Page.incident_id == incident.id).order_by(Page.id))),
        tasks=list(session.scalars(select(IncidentTask).where(IncidentTask.incident_id == incident.id)
                                   .order_by(IncidentTask.id))),
    )


def event_key(e: IncidentEvent) -> str:
    """The catalogue key of a timeline entry's text (a declaration's says how it was declared)."""
    if e.kind == "declared" and (e.data or {}).get("source"):
        return f"incident_event_declared_{e.data['source']}"
    if e.kind == "announced" and (e.data or {}).get("paged") in (None, "", "—"):
        return "incident_event_announced_nobody"  # (whom it paged, each has a line of their own)
    if e.kind == "role" and (e.data or {}).get("role") in ("commander", "comms", "tech_lead"):
        return f"incident_event_role_{e.data['role']}"  # the role in words (it showed tech_lead)
    if e.kind == "paged" and (e.data or {}).get("missed"):
        return "incident_event_paged_next"  # the next in the chain, the one before having let the page pass
    return f"incident_event_{e.kind}"


def event_params(e: IncidentEvent) -> dict[str, object]:
    """A timeline entry's facts as parameters for its catalogue text (`incident_event_<kind>`)."""
    data = {k: ("" if v is None else v) for k, v in (e.data or {}).items()}
    times: dict[str, int] = {}  # seconds as minutes and seconds (an acknowledgement: from the first page and its own)
    for name, prefix in (("seconds", "took"), ("seconds_this_page", "page")):
        value = data.get(name)
        if isinstance(value, int):
            times |= {f"{prefix}_min": value // 60, f"{prefix}_sec": value % 60}
    return {"name": data.get("name", ""), **data, **times, "actor": e.actor.name if e.actor else "",
            "body": e.body or ""}


def _t(moment: datetime | None, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if moment else "—"


# `say(key, **params)`: the catalogue's words in the reader's language (the adapters own the catalogue).
Say = Callable[..., str]


def _m(say: Say, value: object) -> str:
    return "—" if value is None else say("ir_minutes", n=value)


def _role(say: Say, incident: Incident, member: IncidentMember) -> str:
    """What someone was in the incident: its commander, communications or technical lead, else a responder."""
    roles = [say(f"ir_role_{name}") for name, pid in (("commander", incident.commander_id),
                                                      ("comms", incident.comms_id),
                                                      ("tech_lead", incident.tech_lead_id)) if pid == member.person_id]
    return say("ir_and").join(roles) or say(f"ir_member_{member.kind}")


def markdown(f: Facts, *, tz: tzinfo, say: Say, describe: Callable[[IncidentEvent], str] | None = None,
             shown: Sequence[Ticket] | None = None) -> str:
    """The report as Markdown, in the reader's words (`say`); the commander edits it into the record. `shown`: the
    tickets the reader may read, listed (all of them are counted)."""
    i, d = f.incident, f.durations
    listed = f.tickets if shown is None else list(shown)
    hidden = len(f.tickets) - len(listed)
    rows = (("ir_first_report", i.started_at, ""),
            ("ir_detected", i.detected_at or i.declared_at, _m(say, d["to_detect"])),
            ("ir_declared", i.declared_at, _m(say, d["to_declare"])),
            ("ir_assembled", i.assembled_at, say("ir_after_declaring", took=_m(say, d["to_assemble"]))),
            ("ir_mitigated", i.mitigated_at, _m(say, d["to_mitigate"])),
            ("ir_resolved", i.resolved_at, _m(say, d["to_resolve"])))
    lines = [
        say("ir_title", ref=i.ref, title=i.title),
        "",
        say("ir_facts", severity=i.severity, status=say(f"incident_status_{i.status}"),
            source=say(f"ir_source_{i.source}")),
        say("ir_roles", commander=i.commander.name if i.commander else "—", comms=i.comms.name if i.comms else "—",
            tech_lead=i.tech_lead.name if i.tech_lead else "—"),
        "",
        say("ir_durations"),
        "",
        say("ir_durations_head"),
        "|---|---|---|",
        *(f"| {say(key)} | {_t(at, tz)} | {took} |" for key, at, took in rows),
        "",
        say("ir_impact", branches=len(f.branches), tickets=len(f.tickets)),
        "",
        *(f"- {b.code} {b.name}" for b in f.branches),
        "",
        *(say("ir_ticket", id=t.id, title=t.title, reporter=t.reporter.name, status=say(f"status_{t.status}"))
          for t in listed),
        *([say("ir_hidden", n=hidden)] if hidden else []),
        "",
        say("ir_pages"),
        "",
        say("ir_pages_head"),
        "|---|---|---|---|---|",
        *(f"| {p.person.name} | {p.speciality} | {_t(p.paged_at, tz)} | {say(f'web_page_{p.status}')} "
          f"| {_t(p.acked_at, tz)} |"
          for p in f.pages),
        "",
        say("ir_participants"),
        "",
        *(say("ir_participant", name=m.person.name, role=_role(say, i, m),
              speciality=say("ir_speciality", speciality=m.speciality) if m.speciality else "",
              joined=say("ir_joined", at=_t(m.joined_at, tz)) if m.joined_at else "") for m in f.participants),
        "",
        say("ir_tasks"),
        "",
        *([say("ir_task", done="x" if t.done_at else " ", title=t.title, owner=t.owner.name if t.owner else "—",
               due=_t(t.due_at, tz)) for t in f.tasks] or [say("ir_none")]),
        "",
        say("ir_timeline"),
        "",
        *(f"- {_t(e.at, tz)} {describe(e)}" if describe is not None else
          f"- {_t(e.at, tz)} {e.kind}{' · ' + e.actor.name if e.actor else ''}{'：' + e.body if e.body else ''}"
          for e in f.events),
        "",
        say("ir_cause"),
        "",
        i.summary or say("ir_fill_in"),
        "",
        say("ir_actions"),
        "",
        say("ir_fill_in"),
        "",
    ]
    return "\n".join(lines)
