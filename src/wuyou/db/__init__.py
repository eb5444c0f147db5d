"""Database plumbing shared by `desk` and `kb`: the declarative base, column types, engines."""

from wuyou.db.base import Base, UTCDateTime, utcnow
from wuyou.db.engine import make_engine, make_session_factory, reading, refresh_statistics

__all__ = ["Base", "UTCDateTime", "make_engine", "make_session_factory", "reading", "refresh_statistics", "utcnow"]
