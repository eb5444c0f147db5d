"""The on-call report: how the people on call answered their pages over a range of days — paged, acknowledged in
time, let pass (the page went on to the next in the chain), how long acknowledging took — per person and team, so
that a lead sees who carries the pager and who misses it (conversations/08: "周浩: 1 missed page").

Pages are few (one per person per team per incident, and the escalations): they are read and counted here, not
aggregated by the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from statistics import median, quantiles

from sqlalchemy import null, select
from sqlalchemy.orm import Session

from wuyou.desk import scope
from wuyou.desk.incidents.models import Page
from wuyou.desk.models import Person, Team, TicketPage


@dataclass(frozen=True)
class PagerRow:
    """One person's pages for one team in the range."""

    person: str
    name: str
    team: str
    team_name: str
    pages: int
    acked: int  # acknowledged before the page passed on
    missed: int  # not acknowledged in time: the next in the chain was paged
    incidents: int
    ack_median: float | None  # seconds from the page to its acknowledgement
    ack_p90: float | None
    relieved: int = 0  # ended before it was theirs to answer: someone else answered first, or it was called off


def pagers(*, session: Session, start: datetime, end: datetime, viewer: Person | None = None) -> list[PagerRow]:
    """Every person paged from `start` (inclusive) to `end`, per team — of the teams serving `viewer`'s regions
    when given (all for HQ and admins) — the most missed pages first, then the most pages."""
    query = select(Page.person_id, Page.team_code, Page.status, Page.paged_at, Page.acked_at, Page.incident_id) \
        .where(Page.paged_at >= start, Page.paged_at < end)
    regions = scope.staff_regions(session=session, person=viewer) if viewer is not None else None
    teams = None if regions is None else set(session.scalars(select(Team.code).where(Team.region_code.in_(regions))))
    if teams is not None:
        query = query.where(Page.team_code.in_(list(teams)))
    # A P1 ticket's pages (out of its team's hours) count alike: answered by taking the ticket.
    tickets = select(TicketPage.person_id, TicketPage.team_code, TicketPage.status, TicketPage.paged_at,
                     TicketPage.acked_at, null().label("incident_id")).where(TicketPage.paged_at >= start,
                                                                            TicketPage.paged_at < end)
    if teams is not None:
        tickets = tickets.where(TicketPage.team_code.in_(list(teams)))
    grouped: dict[tuple[str, str], list[tuple[str, float | None, int | None]]] = {}
    for row in [*session.execute(query), *session.execute(tickets)]:
        waited = (row.acked_at - row.paged_at).total_seconds() if row.status == "acked" and row.acked_at else None
        grouped.setdefault((row.person_id, row.team_code), []).append((row.status, waited, row.incident_id))
    names = {p.id: p.name for p in session.scalars(select(Person).where(
        Person.id.in_({person for person, _ in grouped})))}
    team_names = {t.code: t.name for t in session.scalars(select(Team).where(
        Team.code.in_({team for _, team in grouped})))}
    out = []
    for (person, team), pages in grouped.items():
        waits = sorted(w for _, w, _ in pages if w is not None)
        out.append(PagerRow(
            person=person, name=names.get(person, person), team=team, team_name=team_names.get(team, team),
            pages=len(pages), acked=sum(s == "acked" for s, _, _ in pages),
            missed=sum(s == "missed" for s, _, _ in pages), relieved=sum(s == "cancelled" for s, _, _ in pages),
            incidents=len({i for _, _, i in pages if i is not None}),
            ack_median=median(waits) if waits else None,
            ack_p90=(quantiles(waits, n=10, method="inclusive")[-1] if len(waits) > 1 else waits[0]) if waits
            else None))
    return sorted(out, key=lambda r: (-r.missed, -r.pages, r.team, r.person))
