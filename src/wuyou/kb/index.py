"""A matcher kept in step with the stored articles and feedback, in every process."""

from __future__ import annotations

import functools
import logging
import threading
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from wuyou.kb import articles, feedback
from wuyou.kb.documents import ArticleDoc
from wuyou.kb.matching import DEFAULT_THRESHOLD, Matcher

log = logging.getLogger(__name__)

# Up to this many articles an index builds in well under a second: the caller waits for it. A larger
# KB is rebuilt in a background thread while the previous index keeps answering.
BUILD_INLINE_UP_TO = 2_000


@functools.cache
def _versions() -> Select[*tuple[Any, ...]]:
    """The articles' and the feedback's versions, in one statement (built once: it is run for every batch)."""
    return select(*articles.version_columns(), *feedback.version_columns())


class LiveIndex:
    """Rebuilds the matcher when the articles change (an import or an edit, in any process), and
    refreshes the feedback boosts when new feedback arrives."""

    def __init__(self, *, threshold: float = DEFAULT_THRESHOLD, inline_up_to: int = BUILD_INLINE_UP_TO) -> None:
        self._threshold = threshold
        self._inline_up_to = inline_up_to
        self._version: str | None = None
        self._feedback_version = -1
        self._matcher = Matcher([], threshold=threshold)
        self._lock = threading.Lock()
        self._building: str | None = None  # the version a background build is making
        self._built = threading.Condition(self._lock)

    def matcher(self, session: Session) -> Matcher:
        """The current matcher; one cheap statement per call (the articles' and the feedback's versions)."""
        read = session.execute(_versions()).one()
        current, seen = articles.version_of(read[0], read[1]), feedback.version_of(read[2:])
        with self._lock:
            if current != self._version and self._building is None:
                docs = articles.all_docs(session=session, published_only=True)
                if self._version is None or len(docs) <= self._inline_up_to:
                    self._install(Matcher(docs, threshold=self._threshold), current)
                else:
                    self._building = current
                    threading.Thread(target=self._build, args=(docs, current), name="kb-index", daemon=True).start()
            if seen != self._feedback_version:
                self._matcher.set_boosts(feedback.article_boosts(session=session))
                self._feedback_version = seen
            return self._matcher

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a background rebuild to finish; False on timeout."""
        with self._built:
            return self._built.wait_for(lambda: self._building is None, timeout)

    def _build(self, docs: list[ArticleDoc], version: str) -> None:
        try:
            matcher = Matcher(docs, threshold=self._threshold)
        except Exception:  # the old index keeps answering; the next call tries again
            log.exception("rebuilding the KB index failed")
            with self._built:
                self._building = None
                self._built.notify_all()
            return
        with self._built:
            if self._building == version:
                self._install(matcher, version)
                self._building = None
            self._built.notify_all()

    def _install(self, matcher: Matcher, version: str) -> None:
        self._matcher = matcher
        self._version = version
        self._feedback_version = -1  # the new matcher needs the boosts again
