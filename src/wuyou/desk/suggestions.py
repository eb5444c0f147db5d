"""Suggestion sessions: each time the bot offers articles, and how it ended — solved by an article, or a
ticket after all (an open session left a day ends without a ticket: the reporter found their way)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from wuyou.desk.models import Person, SuggestionSession

ABANDONED_AFTER = timedelta(hours=24)  # an open session this old ended without a ticket


def ended_without_ticket(now: datetime) -> ColumnElement[bool]:
    """The sessions that count as deflected at `now`: solved by an article, or left open for a day."""
    return (SuggestionSession.outcome.in_(("solved", "abandoned"))) | (
        (SuggestionSession.outcome == "open") & (SuggestionSession.started_at < now - ABANDONED_AFTER))


def start(*, session: Session, person: Person, channel: str, query: str, offered: Sequence[str],
          now: datetime) -> SuggestionSession:
    """Record that articles were offered to this person for this message (its id comes with the next flush, so
    that the offers of many messages are written in one statement)."""
    found = SuggestionSession(person_id=person.id, branch_code=person.branch_code, channel=channel,
                              query=query[:2000], offered=list(offered), started_at=now, outcome="open")
    session.add(found)
    return found


def end(*, session: Session, session_id: int | None, outcome: str, now: datetime,
        ticket_id: int | None = None) -> None:
    """Close an open session as `solved` or `ticket` (an unknown or already closed one is left alone)."""
    if session_id is None:
        return
    found = session.get(SuggestionSession, session_id)
    if found is None or found.outcome != "open":
        return
    found.outcome = outcome
    found.ended_at = now
    found.ticket_id = ticket_id
