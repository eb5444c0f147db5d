"""The desk's calendar: the statutory holidays and make-up workdays (调休) every business calendar follows, and the
desk's own days over them — a closure it decides (a company day off, a typhoon), a make-up workday, or a year's
holidays entered by hand before the calendar package publishes them — for the whole desk, or for one region and the
regions below it (a typhoon closes one city's branches). A change moves the running SLA clocks."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import chinese_calendar  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlalchemy.orm import Session

from wuyou.desk import sla
from wuyou.desk.errors import Refusal
from wuyou.desk.hours import days_changed
from wuyou.desk.models import CalendarDay, Person, Region

KINDS = ("holiday", "workday")
MAX_SPAN_DAYS = 62  # one change covers at most this many days (a longer closure is entered in parts)
MAX_NAME = 80


class CalendarDayError(Refusal):
    """A day the desk's calendar cannot take: an unknown kind, a range backwards, too long or too far away."""


def statutory_days(year: int) -> list[dict[str, str]]:
    """The year's Chinese statutory holidays and make-up workdays (调休) (none for a year not published yet)."""
    out: list[dict[str, str]] = []
    try:
        holidays = chinese_calendar.get_holidays(date(year, 1, 1), date(year, 12, 31), include_weekends=False)
        workdays = [d for d in chinese_calendar.get_workdays(date(year, 1, 1), date(year, 12, 31))
                    if d.weekday() >= 5]
    except NotImplementedError:  # a year the calendar package does not know yet
        return out
    for kind, days in (("holiday", holidays), ("workday", workdays)):
        for day in days:
            name = chinese_calendar.get_holiday_detail(day)[1]  # an enum member, str() its English name
            key = next((h.name for h in chinese_calendar.Holiday if h.value == name), "")
            out.append({"date": day.isoformat(), "kind": kind, "name": str(name or ""), "holiday": key,
                        "source": "statutory"})
    return sorted(out, key=lambda d: d["date"])


def year_days(*, session: Session, year: int) -> list[dict[str, str]]:
    """The days that differ from the weekly hours in a year, by date: the desk's own (`source` "desk") and the
    statutory ones it does not override; a region's own days after the desk's of the same date (`region`)."""
    names = {code: name for code, name in session.execute(select(Region.code, Region.name))}
    own: dict[tuple[str, str], dict[str, str]] = {
        (row.day.isoformat(), row.region_code): {
            "date": row.day.isoformat(), "kind": row.kind, "name": row.name, "holiday": "", "source": "desk",
            "by": row.created_by or "", "region": row.region_code, "region_name": names.get(row.region_code, "")}
        for row in session.scalars(select(CalendarDay).where(CalendarDay.day >= date(year, 1, 1),
                                                             CalendarDay.day <= date(year, 12, 31)))}
    merged = {(d["date"], ""): {**d, "region": "", "region_name": ""} for d in statutory_days(year)} | own
    return [merged[key] for key in sorted(merged)]


def _checked_region(session: Session, region: str) -> str:
    if region and session.get(Region, region) is None:
        raise CalendarDayError(f"no region {region!r}", "day_region_unknown", region=region)
    return region


def _checked_range(first: date, last: date | None, now: datetime) -> list[date]:
    last = last or first
    if last < first:
        raise CalendarDayError(f"the range ends ({last}) before it begins ({first})", "day_range_backwards",
                               first=str(first), last=str(last))
    span = (last - first).days + 1
    if span > MAX_SPAN_DAYS:
        raise CalendarDayError(f"at most {MAX_SPAN_DAYS} days at a time ({first} – {last} is {span})",
                               "day_range_too_long", most=MAX_SPAN_DAYS, span=span)
    if first.year < now.year - 1 or last.year > now.year + 2:
        raise CalendarDayError(f"only days from {now.year - 1} to {now.year + 2}", "day_range_years",
                               first=now.year - 1, last=now.year + 2)
    return [first + timedelta(days=n) for n in range(span)]


def set_days(*, session: Session, first: date, last: date | None, kind: str, name: str, by: Person,
             now: datetime, region: str = "") -> tuple[list[CalendarDay], int]:
    """Close (`holiday`) or open (`workday`) the desk — or one region's branches — on each day from `first` to
    `last`, replacing what it said of them before; returns the days and how many tickets' due times moved."""
    if kind not in KINDS:
        raise CalendarDayError(f"kind is holiday or workday, not {kind!r}", "day_kind")
    name = " ".join(name.split())
    if len(name) > MAX_NAME:
        raise CalendarDayError(f"the name is longer than {MAX_NAME} characters", "day_name_long", most=MAX_NAME)
    region = _checked_region(session, region)
    rows = []
    for day in _checked_range(first, last, now):
        row = session.get(CalendarDay, (day, region))
        if row is None:
            row = CalendarDay(day=day, region_code=region)
            session.add(row)
        row.kind, row.name, row.created_by, row.created_at = kind, name, by.id, now
        rows.append(row)
    days_changed(session)
    return rows, sla.recalculate(session=session, now=now)


def remove_days(*, session: Session, first: date, last: date | None, now: datetime,
                region: str = "") -> tuple[int, int]:
    """Give the days from `first` to `last` back to the statutory calendar (the desk's, or one region's: back to the
    desk's); returns how many the desk had its own word on, and how many tickets' due times moved."""
    days = _checked_range(first, last, now)
    rows = list(session.scalars(select(CalendarDay).where(CalendarDay.day.in_(days),
                                                          CalendarDay.region_code == region)))
    if not rows:
        return 0, 0
    for row in rows:
        session.delete(row)
    days_changed(session)
    return len(rows), sla.recalculate(session=session, now=now)
