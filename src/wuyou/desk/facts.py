"""The facts about a ticket that routing rules and SLA policies are matched against."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from wuyou.desk.conditions import Facts
from wuyou.desk.hours import DEFAULT_TZ, branch_hours, calendar_in
from wuyou.desk.models import Ticket
from wuyou.desk.org import region_chain


def facts_for(*, session: Session, ticket: Ticket, now: datetime, tz: str = DEFAULT_TZ) -> Facts:
    category = ""
    if ticket.category is not None:
        category = f"{ticket.category.parent.name}/{ticket.category.name}" if ticket.category.parent \
            else ticket.category.name
    branch = ticket.branch
    hours = branch_hours(ticket)
    return Facts(
        category=category,
        priority=ticket.priority,
        branch=ticket.branch_code or "",
        regions=tuple(region_chain(session=session, region_code=branch.region_code)) if branch else (),
        text=f"{ticket.title}\n{ticket.description}",
        channel=ticket.channel,
        urgency=ticket.urgency,
        in_hours=lambda: calendar_in(session, hours, tz, region=branch.region_code if branch else None).is_open(now),
    )
