"""Suggestion sessions: each time the bot offers articles, and how it ended — solved by an article, or a
ticket after all (an open session left a day ends without a ticket: the reporter found their way)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select
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
        ticket_id: int | None = None, article_id: str | None = None) -> None:
    """Close an open session as `solved` (by `article_id`) or `ticket` (an unknown or already closed one is left
    alone)."""
    if session_id is None:
        return
    found = session.get(SuggestionSession, session_id)
    if found is None or found.outcome != "open":
        return
    found.outcome = outcome
    found.ended_at = now
    found.ticket_id = ticket_id
    found.article_id = article_id


SELF_HELP_REMEMBERED = timedelta(days=30)


def self_helped(*, session: Session, person_ids: Sequence[str], now: datetime) -> dict[str, list[tuple[str, datetime]]]:
    """Per person, the articles they solved a problem with themselves in the last `SELF_HELP_REMEMBERED`, newest
    first, with when (one indexed look-up for them all)."""
    if not person_ids:
        return {}
    rows = session.execute(
        select(SuggestionSession.person_id, SuggestionSession.article_id, SuggestionSession.ended_at)
        .where(SuggestionSession.person_id.in_(person_ids), SuggestionSession.outcome == "solved",
               SuggestionSession.article_id.is_not(None), SuggestionSession.started_at > now - SELF_HELP_REMEMBERED)
        .order_by(SuggestionSession.ended_at.desc(), SuggestionSession.id.desc())
    ).all()
    found: dict[str, list[tuple[str, datetime]]] = {}
    for person_id, article_id, at in rows:
        if article_id is not None and at is not None:
            found.setdefault(person_id, []).append((article_id, at))
    return found
