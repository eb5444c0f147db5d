"""The weekly digest for a lead: the week's volume against the week before, SLA compliance, the slowest tickets,
CSAT and the week's low ratings with what their reporters said, the recurring problems (clusters of similar
tickets) and the knowledge-base gaps (clusters of tickets for which the matcher offers nothing, or whose offered
articles did not help), each gap with what a draft article from its tickets needs. Composed from the desk's tables
and the live KB index, in the lead's scope."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from wuyou.desk import outbox, reports, scope
from wuyou.desk.errors import NotFound
from wuyou.desk.models import Branch, OutboxMessage, Person, SuggestionSession, Ticket
from wuyou.desk.surge import similarity
from wuyou.desk.tickets import LOW_RATING
from wuyou.kb import articles
from wuyou.kb.documents import ArticleDoc
from wuyou.kb.index import LiveIndex
from wuyou.kb.signature import signature

CLUSTER_SIMILARITY = 0.2  # mean weighted Dice to a cluster's tickets (surge detection's "same fault" bar)
RECURRING_AT_LEAST = 3
GAP_AT_LEAST = 2
MAX_TICKETS = 3000  # a week's tickets clustered per digest (the newest when there are more)
SLOWEST = 5
MAX_LOW_RATINGS = 20


@dataclass(frozen=True)
class TicketLine:
    id: int
    title: str
    branch: str | None
    status: str
    hours: float  # to resolution, or open so far


@dataclass(frozen=True)
class LowRating:
    id: int
    title: str
    branch: str | None
    rating: int
    comment: str | None  # what the reporter said of it
    engineer: str | None


@dataclass(frozen=True)
class Cluster:
    label: str  # the wording most like the others
    tickets: list[int]
    branches: int
    categories: list[str]
    rejected: list[str] = field(default_factory=list)  # articles offered and turned down (gaps)


@dataclass(frozen=True)
class Digest:
    lead: str
    week: date  # the Monday
    created: int
    created_before: int  # the week before
    resolved: int
    backlog: int
    sla_response_met: float | None
    sla_resolution_met: float | None
    csat_average: float | None
    csat_count: int
    deflection_rate: float | None
    first_contact_rate: float | None
    daily: list[reports.Bucket]  # the week day by day: created, resolved, open at the day's end
    slowest: list[TicketLine]
    recurring: list[Cluster]
    gaps: list[Cluster]
    low_ratings: list[LowRating] = field(default_factory=list)  # the week's 1–2 star ratings, lowest first

    @property
    def change(self) -> float | None:
        return None if not self.created_before else (self.created - self.created_before) / self.created_before


def week_of(day: date) -> date:
    """The Monday of the week `day` is in."""
    return day - timedelta(days=day.weekday())


def last_full_week(now: datetime, tz: ZoneInfo) -> date:
    return week_of(now.astimezone(tz).date()) - timedelta(days=7)


def compose(*, sessions: sessionmaker[Session], index: LiveIndex, lead: Person, week: date, tz: ZoneInfo,
            now: datetime) -> Digest:
    """The digest of the week starting on Monday `week`, as `lead` may see it (their regions; admins all)."""
    span = reports.Range(week, week + timedelta(days=6), tz)
    before = reports.Range(week - timedelta(days=7), week - timedelta(days=1), tz)
    with sessions() as session:
        where = scope.staff_filter(session=session, person=lead)
        regions = scope.staff_regions(session=session, person=lead)
    branches = None if regions is None else select(Branch.code).where(Branch.region_code.in_(regions))
    this = reports.summary(sessions=sessions, span=span, scope=where, visible_branches=branches, now=now)
    last = reports.summary(sessions=sessions, span=before, scope=where, visible_branches=branches, now=now)
    with sessions() as session:
        start, end = span.start, span.end
        week_tickets = list(session.scalars(select(Ticket).where(where, Ticket.created_at >= start,
                                                                Ticket.created_at < end)
                                            .order_by(Ticket.created_at.desc()).limit(MAX_TICKETS)))
        slowest = _slowest(session, where, start, end, now)
        low = [LowRating(t.id, t.title, t.branch_code, t.rating or 0, t.rating_comment,
                         t.assignee.name if t.assignee else None)
               for t in session.scalars(select(Ticket).where(where, Ticket.rating <= LOW_RATING,
                                                             Ticket.closed_at >= start, Ticket.closed_at < end)
                                        .order_by(Ticket.rating, Ticket.closed_at).limit(MAX_LOW_RATINGS))]
        daily = reports.trend(session=session, span=span, scope=where, interval="day", now=now)
        recurring = [c for c in clusters(week_tickets) if len(c.tickets) >= RECURRING_AT_LEAST]
        gaps = _gaps(session, index, week_tickets)
    return Digest(lead=lead.id, week=week, created=this.created, created_before=last.created, resolved=this.resolved,
                  # (a week gone by: open at its end, not now)
                  backlog=daily[-1].backlog if daily and span.end <= now else this.backlog,
                  sla_response_met=this.sla_response_met,
                  sla_resolution_met=this.sla_resolution_met, csat_average=this.csat_average,
                  csat_count=this.csat_count, deflection_rate=this.deflection_rate,
                  first_contact_rate=this.first_contact_rate, daily=daily, slowest=slowest,
                  recurring=recurring, gaps=gaps, low_ratings=low)


def _slowest(session: Session, where: Any, start: datetime, end: datetime, now: datetime) -> list[TicketLine]:
    """The week's longest resolutions, and the tickets still open the longest, slowest first."""
    # (in seconds: on SQLite the instants are text, and subtracting them put every ticket level)
    took = reports.seconds_between(session.get_bind().dialect.name, Ticket.resolved_at, Ticket.created_at)
    resolved = session.scalars(select(Ticket).where(where, Ticket.resolved_at >= start, Ticket.resolved_at < end)
                               .order_by(took.desc(), Ticket.id).limit(SLOWEST))
    still_open = session.scalars(select(Ticket).where(where, Ticket.resolved_at.is_(None), Ticket.closed_at.is_(None),
                                                      Ticket.created_at < end)
                                 .order_by(Ticket.created_at).limit(SLOWEST))
    lines = [TicketLine(t.id, t.title, t.branch_code, t.status,
                        round(((t.resolved_at or now) - t.created_at).total_seconds() / 3600, 1))
             for t in [*resolved, *still_open]]
    return sorted(lines, key=lambda line: -line.hours)[:SLOWEST]


def _words(ticket: Ticket) -> str:
    return f"{ticket.title} {ticket.description}".strip()


def clusters(tickets: list[Ticket]) -> list[Cluster]:
    """Similar tickets grouped: each joins the group it resembles most on average, if enough; biggest first."""
    groups: list[list[tuple[Ticket, dict[int, float]]]] = []
    for ticket in sorted(tickets, key=lambda t: t.id):
        features = signature(_words(ticket))
        if not features:
            continue
        best, best_score = None, CLUSTER_SIMILARITY
        for group in groups:
            score = sum(similarity(features, f) for _, f in group) / len(group)
            if score >= best_score:
                best, best_score = group, score
        if best is None:
            groups.append([(ticket, features)])
        else:
            best.append((ticket, features))
    return sorted((_cluster(g) for g in groups), key=lambda c: (-len(c.tickets), c.tickets[0]))


def _cluster(group: list[tuple[Ticket, dict[int, float]]]) -> Cluster:
    central = max(group, key=lambda m: sum(similarity(m[1], f) for _, f in group))[0]
    categories = Counter(t.category.path for t, _ in group if t.category is not None)
    return Cluster(label=central.title, tickets=[t.id for t, _ in group],
                   branches=len({t.branch_code for t, _ in group if t.branch_code}),
                   categories=[c for c, _ in categories.most_common(3)])


def _gaps(session: Session, index: LiveIndex, tickets: list[Ticket]) -> list[Cluster]:
    """Clusters of the week's tickets the knowledge base did not help with: the matcher offers nothing for
    their wording now, or it offered articles the reporter turned down before filing the ticket."""
    if not tickets:
        return []
    matcher = index.matcher(session)
    offered: dict[int, list[str]] = {}
    for ticket_id, ids in session.execute(select(SuggestionSession.ticket_id, SuggestionSession.offered)
                                          .where(SuggestionSession.ticket_id.in_([t.id for t in tickets]))):
        if ticket_id is not None:
            offered.setdefault(ticket_id, []).extend(ids or [])
    unhelped = [t for t in tickets if t.id in offered or not matcher.suggest(t.description or t.title)]
    found = []
    for cluster in clusters(unhelped):
        if len(cluster.tickets) < GAP_AT_LEAST:
            continue
        rejected = Counter(a for t in cluster.tickets for a in offered.get(t, []))
        found.append(Cluster(cluster.label, cluster.tickets, cluster.branches, cluster.categories,
                             rejected=[a for a, _ in rejected.most_common(3)]))
    return found


def starts_at(week: date, tz: ZoneInfo, hour: int = 8) -> datetime:
    """When the digest of the week before `week` goes out: that Monday at `hour`, local time."""
    return datetime.combine(week, time(hour), tz)


def draft_from(*, session: Session, ticket_ids: list[int], lead: Person, now: datetime) -> ArticleDoc:
    """A KB draft from a gap's tickets: their wording as the symptoms and as the article's phrasings (what the
    matcher will recognise once it is published), the resolutions found as the steps."""
    where = scope.staff_filter(session=session, person=lead)
    found = list(session.scalars(select(Ticket).where(where, Ticket.id.in_(ticket_ids)).order_by(Ticket.id)))
    if not found:
        raise NotFound("none of those tickets")
    group = clusters(found)[0] if len(found) > 1 else _cluster([(found[0], {})])
    wordings = list(dict.fromkeys(t.description.strip() for t in found if t.description.strip()))
    steps = list(dict.fromkeys(t.resolution.strip() for t in found if t.resolution and t.resolution.strip()))
    categories = Counter(t.category.path for t in found if t.category is not None)
    return articles.save_draft(
        session=session, article_id=f"KB-G{found[0].id}", title=group.label,
        category=categories.most_common(1)[0][0] if categories else "",
        symptoms="\n".join(f"- {w}" for w in wordings), steps="\n".join(f"- {s}" for s in steps) or "- （待补充）",
        source="tickets " + ", ".join(str(t.id) for t in found), now=now, phrasings=wordings)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def markdown(digest: Digest, t: Any, link: str) -> str:
    """The digest as email-ready Markdown; `t(key, **params)` renders the catalogue in the lead's language."""
    change = "—" if digest.change is None else f"{digest.change:+.0%}"
    lines = [f"# {t('digest_title', week=digest.week.isoformat())}", "",
             t("digest_md_volume", created=digest.created, before=digest.created_before, change=change,
               resolved=digest.resolved, backlog=digest.backlog),
             t("digest_md_sla", response=_pct(digest.sla_response_met), resolution=_pct(digest.sla_resolution_met),
               first_contact=_pct(digest.first_contact_rate)),
             t("digest_md_csat", average="—" if digest.csat_average is None else f"{digest.csat_average:.1f}",
               count=digest.csat_count, deflection=_pct(digest.deflection_rate)),
             t("digest_md_daily", days=" · ".join(f"{b.start.strftime('%m-%d')} {b.created}/{b.resolved}"
                                                  for b in digest.daily)), ""]
    lines += [f"## {t('digest_slowest')}", ""]
    lines += [f"- #{s.id} {s.title} ({s.branch or '—'}, {s.hours} h, {t('status_' + s.status)})"
              for s in digest.slowest] or [f"- {t('digest_none')}"]
    lines += ["", f"## {t('digest_low_ratings')}", ""]
    lines += [f"- #{r.id} {r.title} ({r.branch or '—'}, {'⭐' * r.rating}, {r.engineer or '—'})"
              + (f": {r.comment}" if r.comment else "") for r in digest.low_ratings] or [f"- {t('digest_none')}"]
    lines += ["", f"## {t('digest_recurring')}", ""]
    lines += [f"- {c.label} — {t('digest_md_cluster', tickets=len(c.tickets), branches=c.branches)}: "
              + ", ".join(f"#{i}" for i in c.tickets[:10]) for c in digest.recurring] or [f"- {t('digest_none')}"]
    lines += ["", f"## {t('digest_gaps')}", ""]
    lines += [f"- {c.label} — {t('digest_md_cluster', tickets=len(c.tickets), branches=c.branches)}"
              + (f"; {t('digest_md_rejected', articles=', '.join(c.rejected))}" if c.rejected else "")
              for c in digest.gaps] or [f"- {t('digest_none')}"]
    lines += ["", t("digest_md_link", url=link), ""]
    return "\n".join(lines)


def deliver_due(*, sessions: sessionmaker[Session], index: LiveIndex, tz: ZoneInfo, now: datetime,
                link_base: str) -> int:
    """From Monday 08:00 on, each lead and admin gets last week's digest in chat, once (keyed by lead and week:
    any number of workers may run this)."""
    week = last_full_week(now, tz)
    if now < starts_at(week + timedelta(days=7), tz):
        return 0
    with sessions() as session:
        # A desk with no ticket from before the week's end (a fresh demo, a desk just set up) has nothing to sum up:
        # every lead got a digest of zeros ("最多的是“—”") the moment it started.
        if session.scalar(select(Ticket.id).where(Ticket.created_at < starts_at(week + timedelta(days=7), tz,
                                                                                  hour=0)).limit(1)) is None:
            return 0
        leads = list(session.scalars(select(Person).where(Person.active, Person.role.in_(("lead", "admin")))))
        done = set(session.scalars(select(OutboxMessage.idempotency_key).where(
            OutboxMessage.idempotency_key.in_([f"digest:{p.id}:{week}" for p in leads]))))
    sent = 0
    for lead in leads:
        key = f"digest:{lead.id}:{week}"
        if key in done:
            continue
        digest = compose(sessions=sessions, index=index, lead=lead, week=week, tz=tz, now=now)
        with sessions() as session:
            try:
                outbox.enqueue(session=session, person_id=lead.id, template="digest", key=key, now=now, params={
                    "week": week.isoformat(), "created": digest.created, "before": digest.created_before,
                    "sla": "—" if digest.sla_resolution_met is None else f"{digest.sla_resolution_met:.0%}",
                    "csat": "—" if digest.csat_average is None else f"{digest.csat_average:.1f}",
                    "recurring": len(digest.recurring), "gaps": len(digest.gaps),
                    "top": digest.recurring[0].label if digest.recurring else "—",
                    "url": f"{link_base.rstrip('/')}/console/digest?week={week.isoformat()}"})
                session.commit()
                sent += 1
            except IntegrityError:  # another worker sent it a moment ago
                session.rollback()
    return sent
