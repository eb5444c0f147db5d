"""A matcher kept in step with the stored articles, in every process."""

from __future__ import annotations

import threading

from sqlalchemy.orm import Session

from wuyou.kb import articles
from wuyou.kb.matching import DEFAULT_THRESHOLD, Matcher


class LiveIndex:
    """Rebuilds the matcher when the articles' version changes (an import in another process)."""

    def __init__(self, *, threshold: float = DEFAULT_THRESHOLD) -> None:
        self._threshold = threshold
        self._version: str | None = None
        self._matcher = Matcher([], threshold=threshold)
        self._lock = threading.Lock()

    def matcher(self, session: Session) -> Matcher:
        """The current matcher; one cheap version query per call."""
        current = articles.version(session=session)
        if current != self._version:
            with self._lock:
                if current != self._version:
                    self._matcher = Matcher(articles.all_docs(session=session), threshold=self._threshold)
                    self._version = current
        return self._matcher
