"""Whose business hours a ticket counts in: its branch's, else its team's, else the desk's default."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from wuyou.desk.calendars import BusinessCalendar, WeeklyHours
from wuyou.desk.models import Team, Ticket

DEFAULT_TZ = "Asia/Shanghai"
DEFAULT_HOURS = "mon-fri 08:30-17:30"
ALWAYS = "7x24"


@lru_cache(maxsize=256)
def calendar(hours: str, tz: str) -> BusinessCalendar:
    """The business calendar for weekly hours in a time zone (cached: calendars are immutable)."""
    if hours.replace(" ", "").lower() in ("7x24", "24x7"):
        return BusinessCalendar(WeeklyHours.always(), ZoneInfo(tz), chinese_holidays=False, name=ALWAYS)
    return BusinessCalendar(WeeklyHours.parse(hours), ZoneInfo(tz), name=hours)


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
