"""Suggestion feedback: what was offered, viewed, solved the problem, or was rejected."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import ScalarSelect, String, cast, distinct, func, select
from sqlalchemy.orm import Session

from wuyou.db import bulk
from wuyou.kb.models import Article, Feedback

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
    """One feedback row per article (written with the session's next flush, or at the end of a batch)."""
    if kind not in KINDS:
        raise ValueError(f"unknown feedback kind {kind}")
    rows = [{"article_id": article_id, "person_id": person_id, "kind": kind, "query": query, "at": now}
            for article_id in article_ids]
    if not bulk.add(session, Feedback, rows):
        session.add_all([Feedback(**row) for row in rows])


# How far feedback may move an article's ranking score: ±15 %, reached gradually.
MAX_BOOST = 0.15
BOOST_SCALE = 5.0


VERDICTS = ("solved", "rejected")  # the kinds the boosts are learned from


def version(*, session: Session) -> int:
    """Grows with every verdict — not with every suggestion offered or viewed, which change no boost (an index
    look-up per kind, in one statement)."""
    return version_of(session.execute(select(*version_columns())).one())


def version_columns() -> list[ScalarSelect[int | None]]:
    """What `version` reads, as columns of a statement that may read more."""
    return [select(func.max(Feedback.id)).where(Feedback.kind == kind).scalar_subquery() for kind in VERDICTS]


def version_of(newest: Sequence[int | None]) -> int:
    return max(int(n or 0) for n in newest)


def balance(*, session: Session, article_id: str, query: str) -> int:
    """How many more reports in these words the article solved than it was judged not to (solved − rejected)."""
    rows = session.execute(
        select(Feedback.kind, func.count())
        .where(Feedback.article_id == article_id, Feedback.query == query, Feedback.kind.in_(VERDICTS))
        .group_by(Feedback.kind)
    ).all()
    counts = {kind: int(n) for kind, n in rows}
    return counts.get("solved", 0) - counts.get("rejected", 0)


def article_boosts(*, session: Session) -> dict[str, float]:
    """Ranking multipliers learned from feedback: "this solved it" lifts, "not this one" lowers — each person's
    verdict on an article once (someone turning it down every morning is one voice, not thirty)."""
    voice = func.coalesce(Feedback.person_id, cast(Feedback.id, String))  # (no person: each verdict its own)
    rows = session.execute(
        select(Feedback.article_id, Feedback.kind, func.count(distinct(voice)))
        .where(Feedback.kind.in_(VERDICTS))
        .group_by(Feedback.article_id, Feedback.kind)
    ).all()
    return boosts_of(rows)


def boosts_of(verdicts: Iterable[tuple[str, str, int]]) -> dict[str, float]:
    """Ranking multipliers from (article, "solved" or "rejected", how many): a solve counts 1, a rejection -0.5,
    and the balance moves the multiplier by at most MAX_BOOST either way."""
    balance: dict[str, float] = {}
    for article_id, kind, count in verdicts:
        balance[article_id] = balance.get(article_id, 0.0) + (count if kind == "solved" else -0.5 * count)
    return {a: 1.0 + MAX_BOOST * math.tanh(b / BOOST_SCALE) for a, b in balance.items()}


def usage(*, session: Session, article_ids: Sequence[str], since: datetime) -> dict[str, dict[str, int]]:
    """How often each article was offered, viewed, solved a problem or was turned down ("not this one") since
    `since`: one grouped statement for a page of articles."""
    if not article_ids:
        return {}
    rows = session.execute(select(Feedback.article_id, Feedback.kind, func.count())
                           .where(Feedback.article_id.in_(article_ids), Feedback.at >= since)
                           .group_by(Feedback.article_id, Feedback.kind)).all()
    found: dict[str, dict[str, int]] = {a: dict.fromkeys(KINDS, 0) for a in article_ids}
    for article_id, kind, count in rows:
        if kind in KINDS:
            found[article_id][kind] = int(count)
    return found


def usage_order(kind: str, since: datetime) -> ScalarSelect[int]:
    """A column counting an article's feedback of one kind since `since`, to sort articles by (most rejected …)."""
    return (select(func.count()).select_from(Feedback)
            .where(Feedback.article_id == Article.id, Feedback.kind == kind, Feedback.at >= since)
            .scalar_subquery())

