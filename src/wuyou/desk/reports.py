"""The leads' reports: volume and trend, backlog, response and resolution times, SLA compliance, reopen rate,
KB deflection and CSAT — over a date range, within a scope, overall or broken down by a dimension.

Everything is counted by the database (GROUP BY, indexed ranges); only the percentiles of the summary are
taken from the durations themselves on SQLite, which has no `percentile_cont`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from statistics import quantiles
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Float, and_, case, cast, func, select, true
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from wuyou.desk import suggestions
from wuyou.desk.models import Branch, Category, Person, Region, SlaClock, SuggestionSession, Team, Ticket
from wuyou.desk.tickets import OPEN_STATUSES

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
    sla_response_met: float | None  # share of response clocks that stopped in the range in time
    sla_resolution_met: float | None
    reopen_rate: float | None  # share of the range's resolved tickets that were ever reopened
    deflection_rate: float | None  # share of suggestion sessions that ended without a ticket
    suggestion_sessions: int
    csat_average: float | None
    csat_good: float | None  # share of ratings 4–5
    csat_count: int


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


def _seconds(dialect: str, later: Any, earlier: Any) -> Any:
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _percentiles(session: Session, expr: Any,
                 where: Sequence[ColumnElement[bool]]) -> tuple[float | None, float | None]:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        row = session.execute(select(func.percentile_cont(0.5).within_group(expr),
                                     func.percentile_cont(0.9).within_group(expr)).where(*where)).one()
        return (_whole(row[0]), _whole(row[1]))
    # julianday arithmetic is off by microseconds: whole seconds are what a report means
    values = sorted(round(float(v)) for v in session.scalars(select(expr).where(*where)) if v is not None)
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


def summary(*, session: Session, span: Range, scope: ColumnElement[bool] | None = None,
            visible_branches: Any = None, now: datetime) -> Metrics:
    """The figures for the whole range. `scope`: a WHERE clause on Ticket (the caller's); `visible_branches`:
    a subquery of branch codes for the suggestion sessions (None: all)."""
    dialect = session.get_bind().dialect.name
    seen = scope if scope is not None else true()
    created_in = and_(seen, Ticket.created_at >= span.start, Ticket.created_at < span.end)
    resolved_in = and_(seen, Ticket.resolved_at >= span.start, Ticket.resolved_at < span.end)
    response = _seconds(dialect, Ticket.claimed_at, Ticket.created_at)
    resolution = _seconds(dialect, Ticket.resolved_at, Ticket.created_at)
    reopened_n = func.sum(case((Ticket.reopen_count > 0, 1), else_=0))
    csat = (func.avg(cast(Ticket.rating, Float)), func.sum(case((Ticket.rating >= 4, 1), else_=0)),
            func.count(Ticket.rating))
    if dialect == "postgresql":
        # One pass over the tickets created in the range, one over those resolved in it: several aggregates,
        # percentiles included, per scan.
        claimed = Ticket.claimed_at.is_not(None)
        # Both percentiles from one sort: percentile_cont over an array of fractions.
        both = postgresql.array([0.5, 0.9])
        created, fr = session.execute(select(
            func.count(), func.percentile_cont(both).within_group(response).filter(claimed)).where(created_in)).one()
        fr_median, fr_p90 = (_whole(fr[0]), _whole(fr[1])) if fr else (None, None)
        resolved, reopened, res, csat_avg, csat_good, csat_n = session.execute(select(
            func.count(), reopened_n, func.percentile_cont(both).within_group(resolution), *csat)
            .where(resolved_in)).one()
        res_median, res_p90 = (_whole(res[0]), _whole(res[1])) if res else (None, None)
    else:
        created = session.scalar(select(func.count()).select_from(Ticket).where(created_in)) or 0
        resolved, reopened, csat_avg, csat_good, csat_n = session.execute(
            select(func.count(), reopened_n, *csat).where(resolved_in)).one()
        fr_median, fr_p90 = _percentiles(session, response, [created_in, Ticket.claimed_at.is_not(None)])
        res_median, res_p90 = _percentiles(session, resolution, [resolved_in])
    backlog = session.scalar(select(func.count()).select_from(Ticket).where(
        seen, Ticket.status.in_(OPEN_STATUSES))) or 0
    clocks = select(SlaClock.kind, func.sum(case((SlaClock.met.is_(True), 1), else_=0)), func.count()).where(
        SlaClock.met.is_not(None), SlaClock.stopped_at >= span.start, SlaClock.stopped_at < span.end)
    if scope is not None:  # the whole desk needs no join
        clocks = clocks.join(Ticket, Ticket.id == SlaClock.ticket_id).where(scope)
    sla = {kind: (met, total) for kind, met, total in session.execute(clocks.group_by(SlaClock.kind))}
    deflected_now = suggestions.ended_without_ticket(now)
    sessions, deflected = session.execute(select(func.count(), func.sum(case((deflected_now, 1), else_=0)))
                                          .where(SuggestionSession.started_at >= span.start,
                                                 SuggestionSession.started_at < span.end,
                                                 *_sessions_where(visible_branches))).one()
    return Metrics(
        created=created, resolved=resolved or 0, backlog=backlog,
        first_response_median=fr_median, first_response_p90=fr_p90,
        resolution_median=res_median, resolution_p90=res_p90,
        sla_response_met=_share(*sla.get("response", (0, 0))),
        sla_resolution_met=_share(*sla.get("resolution", (0, 0))),
        reopen_rate=_share(reopened or 0, resolved), deflection_rate=_share(deflected or 0, sessions),
        suggestion_sessions=sessions or 0,
        csat_average=float(csat_avg) if csat_avg is not None else None, csat_good=_share(csat_good or 0, csat_n),
        csat_count=csat_n or 0,
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


def breakdown(*, session: Session, span: Range, dimension: Dimension, scope: ColumnElement[bool] | None = None,
              now: datetime) -> list[Row]:
    """The range's figures per engineer, team, region, branch, category or channel, most tickets first.
    Times are averages here (medians are in the summary); deflection belongs to the summary only."""
    dialect = session.get_bind().dialect.name
    seen = scope if scope is not None else true()
    key = _key(dimension)
    in_range = and_(seen, Ticket.created_at >= span.start, Ticket.created_at < span.end)
    response = _seconds(dialect, Ticket.claimed_at, Ticket.created_at)
    resolution = _seconds(dialect, Ticket.resolved_at, Ticket.created_at)
    stmt = (select(key.label("k"), func.count(),
                   func.sum(case((Ticket.resolved_at.is_not(None), 1), else_=0)),
                   func.sum(case((Ticket.status.in_(OPEN_STATUSES), 1), else_=0)),
                   func.avg(case((Ticket.claimed_at.is_not(None), response), else_=None)),
                   func.avg(case((Ticket.resolved_at.is_not(None), resolution), else_=None)),
                   func.sum(case((and_(Ticket.resolved_at.is_not(None), Ticket.reopen_count > 0), 1), else_=0)),
                   func.avg(cast(Ticket.rating, Float)), func.count(Ticket.rating),
                   func.sum(case((Ticket.rating >= 4, 1), else_=0)))
            .select_from(Ticket))
    if dimension == "region":
        stmt = stmt.outerjoin(Branch, Branch.code == Ticket.branch_code)
    rows = session.execute(stmt.where(in_range).group_by(key).order_by(func.count().desc())).all()
    sla_stmt = (select(key.label("k"), func.sum(case((SlaClock.met.is_(True), 1), else_=0)), func.count())
                .select_from(SlaClock).join(Ticket, Ticket.id == SlaClock.ticket_id))
    if dimension == "region":
        sla_stmt = sla_stmt.outerjoin(Branch, Branch.code == Ticket.branch_code)
    sla = {k: (met, total) for k, met, total in session.execute(
        sla_stmt.where(in_range, SlaClock.kind == "resolution", SlaClock.met.is_not(None)).group_by(key))}
    labels = _labels(session, dimension, [r[0] for r in rows])
    out = []
    for k, created, resolved, open_, avg_response, avg_resolution, reopened, csat, csat_n, good in rows:
        out.append(Row(key=None if k is None else str(k), label=labels.get(k, "—") if k is not None else "—",
                       metrics=Metrics(
                           created=created, resolved=resolved or 0, backlog=open_ or 0,
                           first_response_median=_whole(avg_response),
                           first_response_p90=None,
                           resolution_median=_whole(avg_resolution),
                           resolution_p90=None, sla_response_met=None,
                           sla_resolution_met=_share(*sla.get(k, (0, 0))),
                           reopen_rate=_share(reopened or 0, resolved), deflection_rate=None, suggestion_sessions=0,
                           csat_average=float(csat) if csat is not None else None, csat_good=_share(good or 0, csat_n),
                           csat_count=csat_n or 0)))
    return out


def _local_day(session: Session, column: Any, tz: ZoneInfo, at: datetime) -> Any:
    """The local calendar day of a UTC timestamp column, computed by the database."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone(tz.key, func.timezone("UTC", column)))
    offset = at.astimezone(tz).utcoffset() or timedelta()  # SQLite: the zone's offset at the range's start
    return func.date(column, f"{int(offset.total_seconds() // 60):+d} minutes")


def _per_day(session: Session, column: Any, where: Sequence[ColumnElement[bool]], span: Range) -> dict[date, int]:
    day = _local_day(session, column, span.tz, span.start)
    rows = session.execute(select(day, func.count()).where(*where, column >= span.start, column < span.end)
                           .group_by(day)).all()
    return {(d if isinstance(d, date) else date.fromisoformat(str(d))): n for d, n in rows}


def trend(*, session: Session, span: Range, scope: ColumnElement[bool] | None = None,
          interval: Literal["day", "week"] | None = None) -> list[Bucket]:
    """Created, resolved and the backlog at the end of each day (or week, by default beyond two months):
    three GROUP BY queries over the range and one count before it, whatever its length."""
    seen = scope if scope is not None else true()
    step = interval or ("day" if (span.last - span.first).days <= 62 else "week")
    done = func.coalesce(Ticket.resolved_at, Ticket.closed_at)
    open_at_start = session.scalar(select(func.count()).select_from(Ticket).where(
        seen, Ticket.created_at < span.start, (done.is_(None)) | (done >= span.start))) or 0
    created = _per_day(session, Ticket.created_at, [seen], span)
    resolved = _per_day(session, Ticket.resolved_at, [seen], span)
    finished = _per_day(session, done, [seen], span)
    width = 1 if step == "day" else 7
    out: list[Bucket] = []
    backlog = open_at_start
    first = span.first
    while first <= span.last:
        days = [first + timedelta(days=i) for i in range(width) if first + timedelta(days=i) <= span.last]
        made, fixed = sum(created.get(d, 0) for d in days), sum(resolved.get(d, 0) for d in days)
        backlog += made - sum(finished.get(d, 0) for d in days)
        out.append(Bucket(start=first, created=made, resolved=fixed, backlog=max(backlog, 0)))
        first += timedelta(days=width)
    return out
