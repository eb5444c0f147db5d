"""Suggestion feedback: what was offered, viewed, solved the problem, or was rejected."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from wuyou.kb.models import Feedback

KINDS = ("offered", "viewed", "solved", "rejected")


def record(
    *,
    session: Session,
    article_ids: Iterable[str],
    kind: str,
    now: datetime,
    person_id: str | None = None,
    query: str | None = None,
) -> None:
    """One feedback row per article."""
    if kind not in KINDS:
        raise ValueError(f"unknown feedback kind {kind}")
    for article_id in article_ids:
        session.add(Feedback(article_id=article_id, person_id=person_id, kind=kind, query=query, at=now))
    session.flush()
