"""Attachments: stored in the database (so every process sees them), staged while a dialogue runs,
linked to the ticket and the timeline event they came with."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from wuyou.desk.errors import DeskError
from wuyou.desk.media import MediaStore
from wuyou.desk.models import Attachment, Person

MAX_BYTES = 10 * 1024 * 1024
KINDS = ("image", "voice", "file")


class AttachmentTooLarge(DeskError):
    """An attachment above MAX_BYTES."""


def store(
    *, session: Session, media: MediaStore, person: Person, kind: str, name: str, content_type: str, data: bytes,
    now: datetime, speech_text: str | None = None, ticket_id: int | None = None, event_id: int | None = None,
) -> Attachment:
    """Keep one attachment (staged when `ticket_id` is None): the content in `media`, the rest in the table."""
    if kind not in KINDS:
        raise ValueError(f"attachment kind must be one of {', '.join(KINDS)}")
    if len(data) > MAX_BYTES:
        raise AttachmentTooLarge(f"{name}: {len(data)} bytes (at most {MAX_BYTES})")
    digest = hashlib.sha256(data).hexdigest()
    media.put(digest, data)  # before the row: a row never points at content that is not there
    attachment = Attachment(ticket_id=ticket_id, event_id=event_id, person_id=person.id, kind=kind,
                            name=name[:200] or kind, content_type=content_type[:100] or "application/octet-stream",
                            size=len(data), sha256=digest, speech_text=speech_text, created_at=now)
    session.add(attachment)
    session.flush()
    return attachment


def link(*, session: Session, ids: Sequence[int], person: Person, ticket_id: int, event_id: int | None) -> int:
    """Attach staged attachments of this person to a ticket (others' or already linked ones are left alone)."""
    if not ids:
        return 0
    result = session.execute(
        update(Attachment)
        .where(Attachment.id.in_(list(ids)), Attachment.person_id == person.id, Attachment.ticket_id.is_(None))
        .values(ticket_id=ticket_id, event_id=event_id)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def restage(*, session: Session, ids: Sequence[int], person: Person, ticket_id: int) -> list[int]:
    """Take this person's attachments off a ticket they were linked to by mistake: staged again (their ids)."""
    if not ids:
        return []
    found = list(session.scalars(select(Attachment.id).where(
        Attachment.id.in_(list(ids)), Attachment.person_id == person.id, Attachment.ticket_id == ticket_id)))
    if found:
        session.execute(update(Attachment).where(Attachment.id.in_(found)).values(ticket_id=None, event_id=None)
                        .execution_options(synchronize_session=False))
    return found


def content(*, media: MediaStore, attachment: Attachment) -> bytes:
    return media.get(attachment.sha256)


def of_ticket(*, session: Session, ticket_id: int) -> list[Attachment]:
    return list(session.scalars(select(Attachment).where(Attachment.ticket_id == ticket_id).order_by(Attachment.id)))
