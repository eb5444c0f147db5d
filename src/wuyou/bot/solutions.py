"""KB articles named when a ticket is resolved ("解决 1024 按 KB-P001 处理"): the KB learns the reporter's wording
as a phrasing of each, and credits the article with the solve — so that the next branch to report the same
problem in the same words is answered by the bot, not queued for an engineer."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wuyou.desk import tickets
from wuyou.desk.models import Person, Ticket
from wuyou.kb import articles, feedback
from wuyou.kb.models import Article

# What an article id looks like in a summary: letters, a hyphen, then letters, digits and hyphens (KB-P001, KB-T12),
# as a whole run of Latin letters and digits — Chinese may touch it on either side (按KB-P001处理).
_ARTICLE_ID = re.compile(r"(?<![A-Za-z0-9-])[A-Za-z]+-[A-Za-z0-9-]*[0-9][A-Za-z0-9-]*(?![A-Za-z0-9-])")


def named_articles(*, session: Session, summary: str) -> list[str]:
    """The published articles a resolution summary names, in the order named (ids matched without regard to case)."""
    said = list(dict.fromkeys(m.group(0).upper() for m in _ARTICLE_ID.finditer(summary)))
    if not said:
        return []
    found: dict[str, str] = dict(session.execute(
        select(func.upper(Article.id), Article.id).where(func.upper(Article.id).in_(said),
                                                         Article.status == "published")
    ).all())
    return [found[s] for s in said if s in found]


def resolve(*, session: Session, ticket_id: int, engineer: Person, summary: str,
            now: datetime) -> tuple[Ticket, list[str]]:
    """`tickets.resolve`, then the articles the summary names linked to the ticket; the ticket and the ids linked."""
    ticket = tickets.resolve(session=session, ticket_id=ticket_id, engineer=engineer, summary=summary, now=now)
    linked = named_articles(session=session, summary=ticket.resolution or summary)  # a canned reply may name one
    _judge(session=session, ticket=ticket, article_ids=linked, solved=True, actor=engineer, now=now)
    return ticket, linked


def reopen(*, session: Session, ticket_id: int, reporter: Person, reason: str, now: datetime) -> Ticket:
    """`tickets.reopen`: the resolution did not fix it, so the articles it linked forget the reporter's wording
    and are marked "not this one"."""
    ticket = tickets.reopen(session=session, ticket_id=ticket_id, reporter=reporter, reason=reason, now=now)
    events = tickets.timeline(session=session, ticket_id=ticket.id)
    last = max((i for i, e in enumerate(events) if e.kind == "resolved"), default=None)
    if last is None:
        return ticket
    linked = list(dict.fromkeys(e.body for e in events[last:] if e.kind == "kb_linked" and e.body))
    _judge(session=session, ticket=ticket, article_ids=linked, solved=False, actor=reporter, now=now)
    return ticket


def _judge(*, session: Session, ticket: Ticket, article_ids: list[str], solved: bool, actor: Person,
           now: datetime) -> None:
    """Each article solved the ticket (its wording learned, a "solved", kb_linked) or did not after all (a
    "rejected", kb_unlinked, and the wording forgotten — unless the article solved more reports in the same words
    than not: another branch's solve still stands)."""
    wording = ticket.description.split("\n", 1)[0]  # what the reporter first wrote, what the bot matched on
    for article_id in article_ids:
        feedback.record(session=session, article_ids=[article_id], kind="solved" if solved else "rejected",
                        now=now, person_id=ticket.reporter_id, query=wording)
        if solved:
            articles.learn_phrasing(session=session, article_id=article_id, text=wording, now=now)
        elif feedback.balance(session=session, article_id=article_id, query=wording) <= 0:
            articles.forget_phrasing(session=session, article_id=article_id, text=wording, now=now)
        tickets.add_event(session=session, ticket=ticket, kind="kb_linked" if solved else "kb_unlinked", now=now,
                          actor=actor, body=article_id)
