"""The leads' reports: volume and trend, backlog, response and resolution times, SLA compliance, reopen rate,
first-contact resolution, KB deflection and CSAT — over a date range, within a scope, overall or broken down by a
dimension.

Everything is counted by the database (GROUP BY, indexed ranges); only the percentiles of the summary are
taken from the durations themselves on SQLite, which has no `percentile_cont`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from statistics import quantiles
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Float, Integer, and_, case, cast, func, or_, select, true
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from wuyou.desk import suggestions
from wuyou.desk.models import Branch, Category, Person, Region, SuggestionSession, Team, Ticket
from wuyou.desk.tickets import LOW_RATING, OPEN_STATUSES

Dimension = Literal["engineer", "team", "region", "branch", "category", "channel"]
DIMENSIONS: tuple[Dimension, ...] = ("engineer", "team", "region", "branch", "category", "channel")


@dataclass(frozen=True)
class Range:
    """Whole local days, `first` to `last` inclusive, in the desk's time zone."""

    first: date
    last: date
    tz: ZoneInfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), self.tz)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), self.tz)


@dataclass(frozen=True)
class Metrics:
    created: int
    resolved: int
    backlog: int  # open now (summary) or at the end of the range's last day (breakdown rows: open now)
    first_response_median: float | None  # seconds, created → claimed
    first_response_p90: float | None
    resolution_median: float | None  # seconds, created → resolved
    resolution_p90: float | None
    sla_response_met: float | None  # share of the range's new tickets first answered in time (of those judged)
    sla_resolution_met: float | None  # share of the range's resolved tickets resolved in time
    reopen_rate: float | None  # share of the range's resolved tickets that were ever reopened
    first_contact_rate: float | None  # share of them resolved at first contact (tickets.first_contact; of those judged)
    deflection_rate: float | None  # share of suggestion sessions that ended without a ticket
    suggestion_sessions: int
    csat_average: float | None
    csat_good: float | None  # share of ratings 4–5
    csat_count: int
    csat_low: int = 0  # ratings of 1–2 (tickets.LOW_RATING): the unhappy reporters, to read one by one


@dataclass(frozen=True)
class Row:
    key: str | None
    label: str
    metrics: Metrics


@dataclass(frozen=True)
class Bucket:
    start: date
    created: int
    resolved: int
    backlog: int  # open at the bucket's end


def seconds_between(dialect: str, later: Any, earlier: Any) -> Any:
    """`later - earlier` in seconds as SQL: SQLite keeps instants as text, which subtracts to nothing."""
    if dialect == "postgresql":  # date_part is double precision; EXTRACT's numeric sorts and sums far slower
        return func.date_part("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _percentiles(session: Session, expr: Any,
                 where: Sequence[ColumnElement[bool]]) -> tuple[float | None, float | None]:
    """Median and p90 on SQLite, which has no percentile_cont: from the durations themselves."""
    return _median_p90(session.scalars(select(expr).where(*where)))


def _median_p90(found: Any) -> tuple[float | None, float | None]:
    # julianday arithmetic is off by microseconds: whole seconds are what a report means
    values = sorted(round(float(v)) for v in found if v is not None)
    if not values:
        return None, None
    if len(values) == 1:
        return values[0], values[0]
    cuts = quantiles(values, n=10, method="inclusive")
    return quantiles(values, n=2, method="inclusive")[0], cuts[8]


def _whole(seconds: Any) -> float | None:
    return None if seconds is None else float(round(float(seconds)))


def _share(numerator: Any, denominator: Any) -> float | None:
    return float(numerator) / float(denominator) if denominator else None


def _sessions_where(visible_branches: Any) -> list[ColumnElement[bool]]:
    return [] if visible_branches is None else [SuggestionSession.branch_code.in_(visible_branches)]


def _percentiles_pg(duration: Any) -> Any:
    """Median and p90 of whole seconds (as on SQLite), both from one sort: percentile_cont over an array of
    fractions; integers sort faster than floats."""
    return func.percentile_cont(postgresql.array([0.5, 0.9])).within_group(cast(func.round(duration), Integer))


def _pair(found: Any) -> tuple[float | None, float | None]:
    return (_whole(found[0]), _whole(found[1])) if found else (None, None)


def _created_side(session: Session, span: Range, seen: ColumnElement[bool]) -> tuple[Any, ...]:
    """Of the tickets created in the range: how many, the response SLA (met, judged), the first-response
    median and p90 — one index-only scan on PostgreSQL (the creation index carries what is read)."""
    dialect = session.get_bind().dialect.name
    created_in = [seen, Ticket.created_at >= span.start, Ticket.created_at < span.end]
    response = seconds_between(dialect, Ticket.first_claimed_at, Ticket.created_at)
    counts = [func.count(), func.count().filter(Ticket.response_met.is_(True)), func.count(Ticket.response_met)]
    if dialect == "postgresql":
        *row, times = session.execute(select(*counts, _percentiles_pg(response).filter(
            Ticket.first_claimed_at.is_not(None))).where(*created_in)).one()
        return (*row, *_pair(times))
    return (*session.execute(select(*counts).where(*created_in)).one(),
            *_percentiles(session, response, [*created_in, Ticket.first_claimed_at.is_not(None)]))


def _resolved_side(session: Session, span: Range, seen: ColumnElement[bool]) -> tuple[Any, ...]:
    """Of the tickets resolved in the range: how many, how many were ever reopened, the resolution SLA, CSAT,
    the resolution median and p90 (one index-only scan on PostgreSQL); and the backlog now."""
    dialect = session.get_bind().dialect.name
    resolved_in = [seen, Ticket.resolved_at >= span.start, Ticket.resolved_at < span.end]
    resolution = seconds_between(dialect, Ticket.resolved_at, Ticket.created_at)
    counts = [func.count(), func.count().filter(Ticket.reopen_count > 0),
              func.count().filter(Ticket.resolution_met.is_(True)), func.count(Ticket.resolution_met),
              func.avg(cast(Ticket.rating, Float)), func.count().filter(Ticket.rating >= 4), func.count(Ticket.rating),
              func.count().filter(Ticket.first_contact.is_(True)), func.count(Ticket.first_contact),
              func.count().filter(Ticket.rating <= LOW_RATING)]
    if dialect == "postgresql":
        *row, times = session.execute(select(*counts, _percentiles_pg(resolution)).where(*resolved_in)).one()
        found = (*row, *_pair(times))
    else:
        found = (*session.execute(select(*counts).where(*resolved_in)).one(),
                 *_percentiles(session, resolution, resolved_in))
    backlog = session.scalar(select(func.count()).select_from(Ticket).where(seen, Ticket.status.in_(OPEN_STATUSES)))
    return (*found, backlog or 0)


def _sessions_side(session: Session, span: Range, visible_branches: Any, now: datetime) -> tuple[Any, ...]:
    """Suggestion sessions started in the range, and how many ended without a ticket (deflected)."""
    deflected = suggestions.ended_without_ticket(now)
    return tuple(session.execute(select(func.count(), func.count().filter(deflected)).where(
        SuggestionSession.started_at >= span.start, SuggestionSession.started_at < span.end,
        *_sessions_where(visible_branches))).one())


def summary(*, sessions: Callable[[], Session], span: Range, scope: ColumnElement[bool] | None = None,
            visible_branches: Any = None, now: datetime) -> Metrics:
    """The figures for the whole range. `scope`: a WHERE clause on Ticket (the caller's); `visible_branches`:
    a subquery of branch codes for the suggestion sessions (None: all).

    Tickets created in the range give the volume, first-response times and response SLA; tickets resolved in
    it give the resolution times, resolution SLA, reopen rate and CSAT (the tickets carry their SLA verdicts,
    so no clock is read). The three independent parts run at once on PostgreSQL, each on a connection of its
    own (two at a time), and one after the other on SQLite."""
    seen = scope if scope is not None else true()
    parts: list[Callable[[Session], tuple[Any, ...]]] = [
        lambda s: _created_side(s, span, seen), lambda s: _resolved_side(s, span, seen),
        lambda s: _sessions_side(s, span, visible_branches, now)]

    def run(part: Callable[[Session], tuple[Any, ...]]) -> tuple[Any, ...]:
        with sessions() as session:
            return part(session)

    with sessions() as probe:
        concurrent = probe.get_bind().dialect.name == "postgresql"
    if concurrent:
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="report") as pool:
            found = list(pool.map(run, parts))
    else:
        found = [run(part) for part in parts]
    created, response_met, response_n, fr_median, fr_p90 = found[0]
    (resolved, reopened, resolution_met, resolution_n, csat_avg, csat_good, csat_n, first_contact, first_contact_n,
     csat_low, res_median, res_p90, backlog) = found[1]
    session_n, deflected = found[2]
    return Metrics(
        created=created or 0, resolved=resolved or 0, backlog=backlog,
        first_response_median=fr_median, first_response_p90=fr_p90,
        resolution_median=res_median, resolution_p90=res_p90,
        sla_response_met=_share(response_met or 0, response_n),
        sla_resolution_met=_share(resolution_met or 0, resolution_n),
        reopen_rate=_share(reopened or 0, resolved), first_contact_rate=_share(first_contact or 0, first_contact_n),
        deflection_rate=_share(deflected or 0, session_n),
        suggestion_sessions=session_n or 0,
        csat_average=float(csat_avg) if csat_avg is not None else None, csat_good=_share(csat_good or 0, csat_n),
        csat_count=csat_n or 0, csat_low=csat_low or 0,
    )


def _key(dimension: Dimension) -> Any:
    return {
        "engineer": Ticket.assignee_id, "team": Ticket.team_code, "region": Branch.region_code,
        "branch": Ticket.branch_code, "category": Ticket.category_id, "channel": Ticket.channel,
    }[dimension]


def _labels(session: Session, dimension: Dimension, keys: list[Any]) -> dict[Any, str]:
    present = [k for k in keys if k is not None]
    if not present:
        return {}
    if dimension == "engineer":
        return {k: v for k, v in session.execute(select(Person.id, Person.name).where(Person.id.in_(present)))}
    if dimension == "team":
        return {k: v for k, v in session.execute(select(Team.code, Team.name).where(Team.code.in_(present)))}
    if dimension == "branch":
        return {k: v for k, v in session.execute(select(Branch.code, Branch.name).where(Branch.code.in_(present)))}
    if dimension == "region":
        return {k: v for k, v in session.execute(select(Region.code, Region.name).where(Region.code.in_(present)))}
    if dimension == "category":
        return {c.id: c.path for c in session.scalars(select(Category).where(Category.id.in_(present)))}
    return {k: str(k) for k in present}


def _sessions_by(session: Session, span: Range, dimension: Dimension, visible_branches: Any,
                 now: datetime) -> dict[Any, tuple[int, int]]:
    """Suggestion sessions and those deflected, per branch, region or channel (the dimensions a session has)."""
    key = {"branch": SuggestionSession.branch_code, "channel": SuggestionSession.channel,
           "region": Branch.region_code}.get(dimension)
    if key is None:
        return {}
    stmt = select(key, func.count(), func.count().filter(suggestions.ended_without_ticket(now))).where(
        SuggestionSession.started_at >= span.start, SuggestionSession.started_at < span.end,
        *_sessions_where(visible_branches))
    if dimension == "region":
        stmt = stmt.outerjoin(Branch, Branch.code == SuggestionSession.branch_code)
    return {k: (n, deflected) for k, n, deflected in session.execute(stmt.group_by(key))}


def _times_by(session: Session, key: Any, response: Any, resolution: Any, in_range: ColumnElement[bool],
              dimension: Dimension) -> dict[Any, tuple[tuple[float | None, float | None], ...]]:
    """Per group, the median and p90 of the first-response and the resolution times, on SQLite (which has no
    percentile_cont): from the durations themselves."""
    stmt = select(key, case((Ticket.first_claimed_at.is_not(None), response), else_=None),
                  case((Ticket.resolved_at.is_not(None), resolution), else_=None)).select_from(Ticket)
    if dimension == "region":
        stmt = stmt.outerjoin(Branch, Branch.code == Ticket.branch_code)
    grouped: dict[Any, tuple[list[Any], list[Any]]] = {}
    for k, answered, took in session.execute(stmt.where(in_range)):
        first, last = grouped.setdefault(k, ([], []))
        first.append(answered)
        last.append(took)
    return {k: (_median_p90(first), _median_p90(last)) for k, (first, last) in grouped.items()}


def breakdown(*, session: Session, span: Range, dimension: Dimension, scope: ColumnElement[bool] | None = None,
              now: datetime, visible_branches: Any = None) -> list[Row]:
    """The range's figures per engineer, team, region, branch, category or channel, most tickets first.
    Times are medians and p90s, as in the summary (they were averages under the summary's names, and the CSV and
    the console called them medians or averages by turns). KB deflection per branch, region and channel (a
    suggestion session has those, not an engineer, a team or a category); `visible_branches` as in `summary`."""
    dialect = session.get_bind().dialect.name
    seen = scope if scope is not None else true()
    key = _key(dimension)
    in_range = and_(seen, Ticket.created_at >= span.start, Ticket.created_at < span.end)
    response = seconds_between(dialect, Ticket.first_claimed_at, Ticket.created_at)
    resolution = seconds_between(dialect, Ticket.resolved_at, Ticket.created_at)
    stmt = (select(key.label("k"), func.count(),
                   func.sum(case((Ticket.resolved_at.is_not(None), 1), else_=0)),
                   func.sum(case((Ticket.status.in_(OPEN_STATUSES), 1), else_=0)),
                   func.sum(case((and_(Ticket.resolved_at.is_not(None), Ticket.reopen_count > 0), 1), else_=0)),
                   func.avg(cast(Ticket.rating, Float)), func.count(Ticket.rating),
                   func.sum(case((Ticket.rating >= 4, 1), else_=0)),
                   func.sum(case((Ticket.response_met.is_(True), 1), else_=0)), func.count(Ticket.response_met),
                   func.sum(case((Ticket.resolution_met.is_(True), 1), else_=0)), func.count(Ticket.resolution_met),
                   func.sum(case((Ticket.first_contact.is_(True), 1), else_=0)), func.count(Ticket.first_contact),
                   func.sum(case((Ticket.rating <= LOW_RATING, 1), else_=0)),
                   *((_percentiles_pg(response).filter(Ticket.first_claimed_at.is_not(None)),
                      _percentiles_pg(resolution).filter(Ticket.resolved_at.is_not(None)))
                     if dialect == "postgresql" else ()))
            .select_from(Ticket))
    if dimension == "region":
        stmt = stmt.outerjoin(Branch, Branch.code == Ticket.branch_code)
    rows = session.execute(stmt.where(in_range).group_by(key).order_by(func.count().desc())).all()
    times = ({r[0]: (_pair(r[15]), _pair(r[16])) for r in rows} if dialect == "postgresql"
             else _times_by(session, key, response, resolution, in_range, dimension))
    labels = _labels(session, dimension, [r[0] for r in rows])
    offered = _sessions_by(session, span, dimension, visible_branches, now)
    out = []
    for (k, created, resolved, open_, reopened, csat, csat_n, good,
         answered_in_time, answered_judged, met, judged, first_contact, first_contact_n, low, *_) in rows:
        (fr_median, fr_p90), (res_median, res_p90) = times.get(k, ((None, None), (None, None)))
        out.append(Row(key=None if k is None else str(k), label=labels.get(k, "—") if k is not None else "—",
                       metrics=Metrics(
                           created=created, resolved=resolved or 0, backlog=open_ or 0,
                           first_response_median=fr_median, first_response_p90=fr_p90,
                           resolution_median=res_median, resolution_p90=res_p90,
                           sla_response_met=_share(answered_in_time or 0, answered_judged),
                           sla_resolution_met=_share(met or 0, judged),
                           reopen_rate=_share(reopened or 0, resolved),
                           first_contact_rate=_share(first_contact or 0, first_contact_n),
                           deflection_rate=_share(offered.get(k, (0, 0))[1], offered.get(k, (0, 0))[0]),
                           suggestion_sessions=offered.get(k, (0, 0))[0],
                           csat_average=float(csat) if csat is not None else None, csat_good=_share(good or 0, csat_n),
                           csat_count=csat_n or 0, csat_low=low or 0)))
    # Where the knowledge base answered everything, no ticket makes a row: its sessions do.
    only_offered = [k for k in offered if k not in {r[0] for r in rows}]
    labels |= _labels(session, dimension, only_offered)
    for k in only_offered:
        n, deflected = offered[k]
        out.append(Row(key=None if k is None else str(k), label=labels.get(k, "—") if k is not None else "—",
                       metrics=Metrics(created=0, resolved=0, backlog=0, first_response_median=None,
                                       first_response_p90=None, resolution_median=None, resolution_p90=None,
                                       sla_response_met=None, sla_resolution_met=None, reopen_rate=None,
                                       first_contact_rate=None, deflection_rate=_share(deflected, n),
                                       suggestion_sessions=n, csat_average=None, csat_good=None, csat_count=0,
                                       csat_low=0)))
    return out


def _buckets(span: Range, width: int) -> list[tuple[date, datetime, datetime]]:
    """Each bucket's first day and its bounds as instants: local midnights, so DST and zones need no SQL."""
    out = []
    first = span.first
    while first <= span.last:
        last = min(first + timedelta(days=width - 1), span.last)
        out.append((first, datetime.combine(first, time(), span.tz),
                    datetime.combine(last + timedelta(days=1), time(), span.tz)))
        first = last + timedelta(days=1)
    return out


def trend(*, session: Session, span: Range, scope: ColumnElement[bool] | None = None,
          interval: Literal["day", "week"] | None = None, now: datetime | None = None) -> list[Bucket]:
    """Created, resolved and the backlog at the end of each day (or week, by default beyond two months) — up to
    `now`, when given: a day to come has no figures yet (it showed today's backlog).

    One statement whatever the range: per bucket, indexed range counts of the tickets created, resolved, and
    closed without a resolution (cancelled, merged) — no per-row date arithmetic — and the backlog before it."""
    seen = scope if scope is not None else true()
    step = interval or ("day" if (span.last - span.first).days <= 62 else "week")
    buckets = [b for b in _buckets(span, 1 if step == "day" else 7) if now is None or b[1] <= now]

    def count(*where: ColumnElement[bool]) -> Any:
        return select(func.count()).select_from(Ticket).where(seen, *where).scalar_subquery()

    done = func.coalesce(Ticket.resolved_at, Ticket.closed_at)
    before = count(Ticket.created_at < span.start, or_(done.is_(None), done >= span.start))
    if scope is not None and session.get_bind().dialect.name == "postgresql":
        backlog, counts = _scoped_counts(session, buckets, seen, before)
    else:
        columns = [before]
        for _, start, end in buckets:
            columns += [count(Ticket.created_at >= start, Ticket.created_at < end),
                        count(Ticket.resolved_at >= start, Ticket.resolved_at < end),
                        count(Ticket.resolved_at.is_(None), Ticket.closed_at >= start, Ticket.closed_at < end)]
        row = session.execute(select(*columns)).one()
        backlog, counts = row[0] or 0, [tuple(row[1 + 3 * i: 4 + 3 * i]) for i in range(len(buckets))]
    out: list[Bucket] = []
    for (first, _, _), (made, fixed, dropped) in zip(buckets, counts, strict=True):
        backlog += made - fixed - dropped
        out.append(Bucket(start=first, created=made, resolved=fixed, backlog=max(backlog, 0)))
    return out


def _scoped_counts(session: Session, buckets: list[tuple[date, datetime, datetime]], seen: ColumnElement[bool],
                   before: Any) -> tuple[int, list[tuple[int, int, int]]]:
    """A scope's backlog before the range and (created, resolved, closed unresolved) per bucket, on PostgreSQL:
    the scope's tickets in the range read once per series (the branch index), each put in its bucket by
    `width_bucket` over the buckets' bounds."""
    bounds = [start for _, start, _ in buckets] + [buckets[-1][2]]
    edges = postgresql.array(bounds, type_=Ticket.created_at.type)  # bound as the column binds its values

    def per_bucket(column: Any, *where: ColumnElement[bool]) -> dict[int, int]:
        slot = func.width_bucket(column, edges)
        return {k: n for k, n in session.execute(select(slot, func.count()).where(
            seen, column >= bounds[0], column < bounds[-1], *where).group_by(slot))}

    made = per_bucket(Ticket.created_at)
    fixed = per_bucket(Ticket.resolved_at)
    dropped = per_bucket(Ticket.closed_at, Ticket.resolved_at.is_(None))
    return (session.scalar(select(before)) or 0,
            [(made.get(i, 0), fixed.get(i, 0), dropped.get(i, 0)) for i in range(1, len(buckets) + 1)])
