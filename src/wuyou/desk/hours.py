"""Whose business hours a ticket counts in: its branch's, else its team's, else the desk's default; and the desk's
own calendar days (closures, make-up workdays) that every calendar but 7×24 follows."""

from __future__ import annotations

import time
from functools import lru_cache
from weakref import WeakKeyDictionary
from zoneinfo import ZoneInfo

from sqlalchemy import event as orm_events
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, SessionTransaction

from wuyou.desk.calendars import BusinessCalendar, ExtraDays, WeeklyHours
from wuyou.desk.models import CalendarDay, Team, Ticket

DEFAULT_TZ = "Asia/Shanghai"
DEFAULT_HOURS = "mon-fri 08:30-17:30"
ALWAYS = "7x24"
# How long a process trusts the desk's days it read (another worker's change reaches it within this); a change made
# in this process is seen at once.
DAYS_REFRESH_SECONDS = 30.0
_SESSION_DAYS = "wuyou.desk_days"  # a session's own, uncommitted view after it changed them

NO_DAYS = ExtraDays()

_days_read: WeakKeyDictionary[Engine, tuple[float, ExtraDays]] = WeakKeyDictionary()


@lru_cache(maxsize=256)
def calendar(hours: str, tz: str, days: ExtraDays = NO_DAYS) -> BusinessCalendar:
    """The business calendar for weekly hours in a time zone, with the desk's own days (cached: calendars are
    immutable)."""
    if hours.replace(" ", "").lower() in ("7x24", "24x7"):
        return BusinessCalendar(WeeklyHours.always(), ZoneInfo(tz), chinese_holidays=False, name=ALWAYS)
    return BusinessCalendar(WeeklyHours.parse(hours), ZoneInfo(tz), name=hours, extra_holidays=days.holidays,
                            extra_workdays=days.workdays)


def calendar_in(session: Session, hours: str, tz: str) -> BusinessCalendar:
    """`calendar` with the desk's days as this session sees them."""
    return calendar(hours, tz, desk_days(session))


def desk_days(session: Session) -> ExtraDays:
    """The desk's closures and make-up workdays: read at most every `DAYS_REFRESH_SECONDS` per database, at once
    after a change in this process (the changing session sees its own change before it commits)."""
    own = session.info.get(_SESSION_DAYS)
    if isinstance(own, ExtraDays):
        return own
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    read = _days_read.get(engine)
    if read is not None and time.monotonic() - read[0] < DAYS_REFRESH_SECONDS:
        return read[1]
    days = read_days(session)
    _days_read[engine] = (time.monotonic(), days)
    return days


def read_days(session: Session) -> ExtraDays:
    rows = session.execute(select(CalendarDay.day, CalendarDay.kind)).all()
    return ExtraDays(holidays=frozenset(d for d, kind in rows if kind == "holiday"),
                     workdays=frozenset(d for d, kind in rows if kind == "workday"))


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
