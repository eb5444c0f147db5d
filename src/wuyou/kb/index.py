"""A matcher kept in step with the stored articles and feedback, in every process."""

from __future__ import annotations

import threading

from sqlalchemy.orm import Session

from wuyou.kb import articles, feedback
from wuyou.kb.matching import DEFAULT_THRESHOLD, Matcher


class LiveIndex:
    """Rebuilds the matcher when the articles change (an import or an edit, in any process), and
    refreshes the feedback boosts when new feedback arrives."""

    def __init__(self, *, threshold: float = DEFAULT_THRESHOLD) -> None:
        self._threshold = threshold
        self._version: str | None = None
        self._feedback_version = -1
        self._matcher = Matcher([], threshold=threshold)
        self._lock = threading.Lock()

    def matcher(self, session: Session) -> Matcher:
        """The current matcher; two cheap version queries per call."""
        current = articles.version(session=session)
        seen = feedback.version(session=session)
        if current != self._version or seen != self._feedback_version:
            with self._lock:
                if current != self._version:
                    self._matcher = Matcher(articles.all_docs(session=session), threshold=self._threshold)
                    self._version = current
                    self._feedback_version = -1
                if seen != self._feedback_version:
                    self._matcher.set_boosts(feedback.article_boosts(session=session))
                    self._feedback_version = seen
        return self._matcher
