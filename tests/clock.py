"""A clock tests can stop and move: it follows real time until `set`."""

from __future__ import annotations

from datetime import datetime, timedelta

from wuyou.db import utcnow


class TestClock:
    __test__ = False  # not a test class, despite the name

    def __init__(self) -> None:
        self._fixed: datetime | None = None

    def __call__(self) -> datetime:
        return self._fixed or utcnow()

    def set(self, moment: datetime) -> None:
        self._fixed = moment

    def advance(self, **delta: float) -> datetime:
        self._fixed = self() + timedelta(**delta)
        return self._fixed
