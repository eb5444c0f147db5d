"""Whose business hours a ticket counts in: its branch's, else its team's, else the desk's default; and the desk's
own calendar days (closures, make-up workdays) that every calendar but 7×24 follows."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from weakref import WeakKeyDictionary
from zoneinfo import ZoneInfo

from sqlalchemy import event as orm_events
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, SessionTransaction

from wuyou.desk.calendars import BusinessCalendar, ExtraDays, WeeklyHours
from wuyou.desk.models import CalendarDay, Region, Team, Ticket

DEFAULT_TZ = "Asia/Shanghai"
DEFAULT_HOURS = "mon-fri 08:30-17:30"
ALWAYS = "7x24"
# How long a process trusts the desk's days it read (another worker's change reaches it within this); a change made
# in this process is seen at once.
DAYS_REFRESH_SECONDS = 30.0
_SESSION_DAYS = "wuyou.desk_days"  # a session's own, uncommitted view after it changed them

NO_DAYS = ExtraDays()


@dataclass(frozen=True)
class DeskDays:
    """The desk's own days: the whole desk's, and for each region under a region with days of its own, the days its
    branches follow (the desk's, then each region's from the top down: the nearest region's word wins)."""

    everywhere: ExtraDays = NO_DAYS
    regional: Mapping[str, ExtraDays] = field(default_factory=dict)

    def of(self, region_code: str | None) -> ExtraDays:
        return self.regional.get(region_code, self.everywhere) if region_code else self.everywhere


_days_read: WeakKeyDictionary[Engine, tuple[float, DeskDays]] = WeakKeyDictionary()


@lru_cache(maxsize=256)
def calendar(hours: str, tz: str, days: ExtraDays = NO_DAYS) -> BusinessCalendar:
    """The business calendar for weekly hours in a time zone, with the desk's own days (cached: calendars are
    immutable)."""
    if hours.replace(" ", "").lower() in ("7x24", "24x7"):
        return BusinessCalendar(WeeklyHours.always(), ZoneInfo(tz), chinese_holidays=False, name=ALWAYS)
    return BusinessCalendar(WeeklyHours.parse(hours), ZoneInfo(tz), name=hours, extra_holidays=days.holidays,
                            extra_workdays=days.workdays)


def calendar_in(session: Session, hours: str, tz: str, *, region: str | None = None,
                ticket_id: int | None = None) -> BusinessCalendar:
    """`calendar` with the desk's days as this session sees them: the whole desk's, and those of the region (a
    ticket's: its branch's, else its team's — the ticket read only when some region has days of its own)."""
    days = desk_days(session)
    if ticket_id is not None and days.regional:
        ticket = session.get(Ticket, ticket_id)
        region = ticket_region(session=session, ticket=ticket) if ticket is not None else region
    return calendar(hours, tz, days.of(region))


def ticket_region(*, session: Session, ticket: Ticket) -> str | None:
    """The region whose days a ticket's clocks follow: its branch's, else its team's."""
    if ticket.branch is not None:
        return ticket.branch.region_code
    team = session.get(Team, ticket.team_code) if ticket.team_code else None
    return team.region_code if team is not None else None


def desk_days(session: Session) -> DeskDays:
    """The desk's closures and make-up workdays: read at most every `DAYS_REFRESH_SECONDS` per database, at once
    after a change in this process (the changing session sees its own change before it commits)."""
    own = session.info.get(_SESSION_DAYS)
    if isinstance(own, DeskDays):
        return own
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    read = _days_read.get(engine)
    if read is not None and time.monotonic() - read[0] < DAYS_REFRESH_SECONDS:
        return read[1]
    days = read_days(session)
    _days_read[engine] = (time.monotonic(), days)
    return days


def read_days(session: Session) -> DeskDays:
    by_region: dict[str, ExtraDays] = {}
    for region, kind, day in session.execute(select(CalendarDay.region_code, CalendarDay.kind, CalendarDay.day)):
        own = by_region.get(region, NO_DAYS)
        by_region[region] = ExtraDays(own.holidays | {day} if kind == "holiday" else own.holidays,
                                      own.workdays | {day} if kind == "workday" else own.workdays)
    everywhere = by_region.pop("", NO_DAYS)
    if not by_region:
        return DeskDays(everywhere)
    parents = {code: parent for code, parent in session.execute(select(Region.code, Region.parent_code))}
    regional = {}
    for code in parents:
        chain: list[str] = []
        at: str | None = code
        while at is not None and at not in chain:  # (a cycle the org file refuses cannot loop here either)
            chain.append(at)
            at = parents.get(at)
        if any(c in by_region for c in chain):
            days = everywhere
            for c in reversed(chain):
                days = days.overlaid(by_region.get(c, NO_DAYS))
            regional[code] = days
    return DeskDays(everywhere, regional)


def days_changed(session: Session) -> None:
    """This session changed the desk's days: it sees them now, and every session of the process once it ends."""
    session.flush()
    session.info[_SESSION_DAYS] = read_days(session)


@orm_events.listens_for(Session, "after_transaction_end")
def _forget_days(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None and session.info.pop(_SESSION_DAYS, None) is not None:
        bind = session.get_bind()
        _days_read.pop(bind if isinstance(bind, Engine) else bind.engine, None)


def branch_hours(ticket: Ticket) -> str:
    """When the ticket's branch is open — a routing rule's `hours: in / out`: its own hours, else the desk's default
    (not its team's: a 7×24 team does not keep a branch open at night)."""
    return ticket.branch.hours if ticket.branch is not None and ticket.branch.hours else DEFAULT_HOURS


def ticket_hours(*, session: Session, ticket: Ticket) -> str:
    """The hours a ticket's clocks count in: its branch's, else its team's, else the desk's default."""
    if ticket.branch is not None and ticket.branch.hours:
        return ticket.branch.hours
    team = session.get(Team, ticket.team_code) if ticket.team_code else None
    return team.hours if team is not None and team.hours else DEFAULT_HOURS
