"""ticket lifecycle: tags, parent/child and merge links, waiting, activity, chases, followers

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wuyou.db import UTCDateTime
from wuyou.migrations.helpers import TICKETS_TABLE_KWARGS, keep_ticket_numbering

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", table_kwargs=TICKETS_TABLE_KWARGS) as batch:
        batch.add_column(sa.Column("tags", sa.JSON(), server_default="[]", nullable=False))
        batch.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("waiting_since", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("last_activity_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("last_chased_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("last_reminded_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("chase_count", sa.Integer(), server_default="0", nullable=False))
        batch.create_foreign_key(batch.f("fk_tickets_parent_id_tickets"), "tickets", ["parent_id"], ["id"])
        batch.create_foreign_key(batch.f("fk_tickets_merged_into_id_tickets"), "tickets", ["merged_into_id"], ["id"])
    keep_ticket_numbering()
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("speech_text", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["ticket_events.id"], name=op.f("fk_attachments_event_id_ticket_events")),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_attachments_person_id_people")),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_attachments_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    op.create_index(op.f("ix_attachments_ticket_id"), "attachments", ["ticket_id"], unique=False)
    op.create_table(
        "ticket_followers",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("since", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_ticket_followers_person_id_people")),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_followers_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("ticket_id", "person_id", name=op.f("pk_ticket_followers")),
    )


def downgrade() -> None:
    op.drop_table("ticket_followers")
    op.drop_index(op.f("ix_attachments_ticket_id"), table_name="attachments")
    op.drop_table("attachments")
    with op.batch_alter_table("tickets", table_kwargs=TICKETS_TABLE_KWARGS) as batch:
        batch.drop_constraint(batch.f("fk_tickets_merged_into_id_tickets"), type_="foreignkey")
        batch.drop_constraint(batch.f("fk_tickets_parent_id_tickets"), type_="foreignkey")
        for column in ("chase_count", "last_reminded_at", "last_chased_at", "last_activity_at", "waiting_since", "merged_into_id",
                       "parent_id", "tags"):
            batch.drop_column(column)
    keep_ticket_numbering()
