"""Reports through the API, as JSON for the console's charts and as CSV for a spreadsheet; the same scoping
as everything else (a regional lead sees their regions; reporters get none)."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, select

from wuyou.adapters.auth import Caller, refusal_words
from wuyou.adapters.bootstrap import Desk
from wuyou.adapters.bounds import Day
from wuyou.desk import reports, scope
from wuyou.desk.errors import Refusal
from wuyou.desk.incidents import paging_report
from wuyou.desk.models import Branch, Person

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
MAX_DAYS = 731


class MetricsOut(BaseModel):
    created: int
    resolved: int
    backlog: int
    first_response_median: float | None
    first_response_p90: float | None
    resolution_median: float | None
    resolution_p90: float | None
    sla_response_met: float | None
    sla_resolution_met: float | None
    reopen_rate: float | None
    first_contact_rate: float | None  # resolved by whoever first took it, never handed on, asked back or reopened
    deflection_rate: float | None
    suggestion_sessions: int
    csat_average: float | None
    csat_good: float | None
    csat_count: int
    csat_low: int = Field(default=0, description="ratings of 1–2")


class SummaryOut(BaseModel):
    start: date
    end: date
    metrics: MetricsOut


class RowOut(BaseModel):
    key: str | None
    label: str
    metrics: MetricsOut


class BreakdownOut(BaseModel):
    start: date
    end: date
    by: reports.Dimension
    items: list[RowOut]


class BucketOut(BaseModel):
    start: date
    created: int
    resolved: int
    backlog: int


class TrendOut(BaseModel):
    start: date
    end: date
    interval: Literal["day", "week"]
    items: list[BucketOut]


class PagerOut(BaseModel):
    person: str
    name: str
    team: str
    team_name: str
    pages: int
    acked: int
    missed: int
    incidents: int
    ack_median: float | None
    ack_p90: float | None
    relieved: int = 0  # neither acknowledged nor missed: someone else answered first, or the page was called off


class PagersOut(BaseModel):
    start: date
    end: date
    items: list[PagerOut]


From = Annotated[Day | None, Query(alias="from", description="first day (local), default 29 days before `to`")]
To = Annotated[Day | None, Query(alias="to", description="last day (local, inclusive), default today")]


def _span(request: Request, person: Person, first: date | None, last: date | None) -> reports.Range:
    """The range asked for (the last 30 days by default); refused in the console's words when it cannot be."""
    desk: Desk = request.app.state.desk
    tz = desk.bot.tz
    last = last or desk.clock().astimezone(tz).date()
    first = first or last - timedelta(days=29)
    if first > last:
        refused = Refusal("`from` is after `to`", "report_range_backwards", first=str(first), last=str(last))
        raise HTTPException(status_code=422, detail=refusal_words(request, person, refused))
    if (last - first).days > MAX_DAYS:
        refused = Refusal(f"at most {MAX_DAYS} days at once", "report_range_too_long", most=MAX_DAYS)
        raise HTTPException(status_code=422, detail=refusal_words(request, person, refused))
    return reports.Range(first, last, tz)


def _scope(desk: Desk, person: Person) -> tuple[ColumnElement[bool], Any]:
    if not scope.is_staff(person):
        raise HTTPException(status_code=403, detail="reports are for engineers, leads and admins")
    with desk.sessions() as session:
        regions = scope.staff_regions(session=session, person=person)
        where = scope.staff_filter(session=session, person=person)
    branches = None if regions is None else select(Branch.code).where(Branch.region_code.in_(regions))
    return where, branches


@router.get("/summary")
def summary(request: Request, person: Caller, first: From = None, last: To = None) -> SummaryOut:
    """The range's figures: volume, backlog, first-response and resolution times (median, p90, seconds), SLA
    compliance, reopen rate, KB deflection (suggestion sessions that ended without a ticket) and CSAT."""
    desk: Desk = request.app.state.desk
    span = _span(request, person, first, last)
    where, branches = _scope(desk, person)
    found = reports.summary(sessions=desk.sessions, span=span, scope=where, visible_branches=branches, now=desk.clock())
    return SummaryOut(start=span.first, end=span.last, metrics=MetricsOut(**asdict(found)))


def _breakdown(request: Request, person: Person, by: reports.Dimension, first: date | None,
               last: date | None) -> BreakdownOut:
    desk: Desk = request.app.state.desk
    span = _span(request, person, first, last)
    where, branches = _scope(desk, person)
    with desk.sessions() as session:
        rows = reports.breakdown(session=session, span=span, dimension=by, scope=where, now=desk.clock(),
                                 visible_branches=branches)
    return BreakdownOut(start=span.first, end=span.last, by=by, items=[
        RowOut(key=r.key, label=r.label, metrics=MetricsOut(**asdict(r.metrics))) for r in rows])


@router.get("/breakdown")
def breakdown(request: Request, person: Caller, by: reports.Dimension = "team", first: From = None,
              last: To = None) -> BreakdownOut:
    """The range's tickets per engineer, team, region, branch, category or channel (times are medians and p90s, as
    in the summary; KB deflection per region, branch and channel)."""
    return _breakdown(request, person, by, first, last)


def _trend(request: Request, person: Person, first: date | None, last: date | None,
           interval: Literal["day", "week"] | None) -> TrendOut:
    desk: Desk = request.app.state.desk
    span = _span(request, person, first, last)
    where, _ = _scope(desk, person)
    with desk.sessions() as session:
        buckets = reports.trend(session=session, span=span, scope=where, interval=interval, now=desk.clock())
    step: Literal["day", "week"] = interval or ("day" if (span.last - span.first).days <= 62 else "week")
    return TrendOut(start=span.first, end=span.last, interval=step,
                    items=[BucketOut(**asdict(b)) for b in buckets])


@router.get("/trend")
def trend(request: Request, person: Caller, first: From = None, last: To = None,
          interval: Literal["day", "week"] | None = None) -> TrendOut:
    """Tickets created and resolved, and the backlog, per day (per week beyond two months)."""
    return _trend(request, person, first, last, interval)


def _pagers(request: Request, person: Person, first: date | None, last: date | None) -> PagersOut:
    desk: Desk = request.app.state.desk
    span = _span(request, person, first, last)
    if not scope.is_staff(person):
        raise HTTPException(status_code=403, detail="reports are for engineers, leads and admins")
    with desk.sessions() as session:
        rows = paging_report.pagers(session=session, start=span.start, end=span.end, viewer=person)
    return PagersOut(start=span.first, end=span.last, items=[PagerOut(**asdict(r)) for r in rows])


@router.get("/oncall")
def oncall(request: Request, person: Caller, first: From = None, last: To = None) -> PagersOut:
    """How the people on call answered their pages in the range, per person and team: pages, acknowledged in time,
    missed (passed on to the next in the chain), incidents, and the median and p90 seconds to acknowledge. The
    most missed first. A regional lead sees the teams of their regions."""
    return _pagers(request, person, first, last)


def _csv(name: str, header: list[str], rows: list[list[Any]]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    # A byte-order mark, so that Excel opens the Chinese text as UTF-8.
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _cell(value: float | int | None, digits: int = 1) -> str:
    return "" if value is None else (str(value) if isinstance(value, int) else f"{value:.{digits}f}")


@router.get("/breakdown.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "one row per group"}})
def breakdown_csv(request: Request, person: Caller, by: reports.Dimension = "team", first: From = None,
                  last: To = None) -> Response:
    """The breakdown as CSV (UTF-8 with BOM; times in minutes, shares in percent)."""
    found = _breakdown(request, person, by, first, last)
    # The times are medians, as in the JSON (they were averages, headed 中位数 here and 平均 on the console); the
    # response SLA came last, so that a sheet reading the columns by place still finds the others where they were.
    header = [f"{by}", "名称 name", "新建 created", "已解决 resolved", "未办结 open",
              "首次响应中位数(分钟) response median min", "解决用时中位数(分钟) resolution median min",
              "解决SLA达标% resolution SLA met", "重开率% reopen",
              "一次解决率% first-contact resolution", "满意度 CSAT", "评分数 ratings", "低分(1–2) low ratings",
              "响应SLA达标% response SLA met"]
    rows = [[r.key or "", r.label, r.metrics.created, r.metrics.resolved, r.metrics.backlog,
             _cell(r.metrics.first_response_median / 60 if r.metrics.first_response_median is not None else None),
             _cell(r.metrics.resolution_median / 60 if r.metrics.resolution_median is not None else None),
             _cell(r.metrics.sla_resolution_met * 100 if r.metrics.sla_resolution_met is not None else None),
             _cell(r.metrics.reopen_rate * 100 if r.metrics.reopen_rate is not None else None),
             _cell(r.metrics.first_contact_rate * 100 if r.metrics.first_contact_rate is not None else None),
             _cell(r.metrics.csat_average, 2), r.metrics.csat_count, r.metrics.csat_low,
             _cell(r.metrics.sla_response_met * 100 if r.metrics.sla_response_met is not None else None)]
            for r in found.items]
    return _csv(f"wuyou-{by}-{found.start}-{found.end}.csv", header, rows)


@router.get("/trend.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "one row per day or week"}})
def trend_csv(request: Request, person: Caller, first: From = None, last: To = None,
              interval: Literal["day", "week"] | None = None) -> Response:
    """The trend as CSV (UTF-8 with BOM)."""
    found = _trend(request, person, first, last, interval)
    rows = [[b.start.isoformat(), b.created, b.resolved, b.backlog] for b in found.items]
    return _csv(f"wuyou-trend-{found.start}-{found.end}.csv",
                ["日期 date", "新建 created", "已解决 resolved", "积压 backlog"], rows)


@router.get("/oncall.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "one row per person and team"}})
def oncall_csv(request: Request, person: Caller, first: From = None, last: To = None) -> Response:
    """The on-call report as CSV (UTF-8 with BOM; times in minutes)."""
    found = _pagers(request, person, first, last)
    rows = [[r.person, r.name, r.team_name, r.pages, r.acked, r.missed, r.incidents,
             _cell(r.ack_median / 60 if r.ack_median is not None else None),
             _cell(r.ack_p90 / 60 if r.ack_p90 is not None else None), r.relieved] for r in found.items]
    return _csv(f"wuyou-oncall-{found.start}-{found.end}.csv",
                ["人员 person", "姓名 name", "团队 team", "呼叫 pages", "确认 acknowledged", "未确认 missed",
                 "事件 incidents", "确认用时中位(分钟) ack median min", "确认用时P90(分钟) ack p90 min",
                 "他人先接或撤回 relieved"], rows)
