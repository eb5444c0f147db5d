"""The knowledge base's tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from wuyou.db import Base, UTCDateTime, utcnow


class Article(Base):
    __tablename__ = "kb_articles"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(200), default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    body: Mapped[str] = mapped_column(Text)
    # "published" articles are suggested; a "draft" (one written from resolved tickets) waits for review.
    status: Mapped[str] = mapped_column(String(16), default="published", server_default="published")
    # How reporters worded problems this article solved: indexed beside the symptoms.
    phrasings: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    source: Mapped[str | None] = mapped_column(String(200))  # where it came from ("ticket 1003")
    # Front matter keys of the file wuyou does not use itself (`owner: 张三`, `reviewed: 2026-03-01`), as YAML
    # (dates and all), written back on export.
    extra: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Feedback(Base):
    """What happened to one suggestion: offered, viewed, solved (a deflection) or rejected."""

    __tablename__ = "kb_feedback"
    # The newest verdict ("solved", "rejected") is what tells a process its ranking boosts are stale.
    __table_args__ = (Index("ix_kb_feedback_kind_id", "kind", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[str] = mapped_column(ForeignKey("kb_articles.id"), index=True)
    person_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    query: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
