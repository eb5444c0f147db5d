"""Tickets on hold (a vendor, spare parts, a visit booked): until when, and why

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wuyou.db import UTCDateTime
from wuyou.migrations.helpers import TICKETS_TABLE_KWARGS, keep_ticket_numbering

revision: str = '0019'
down_revision: str | Sequence[str] | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hold_until', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('hold_reason', sa.Text(), nullable=True))


def downgrade() -> None:
    op.execute("UPDATE tickets SET status = 'in_progress' WHERE status = 'on_hold'")
    with op.batch_alter_table('tickets', schema=None, table_kwargs=TICKETS_TABLE_KWARGS) as batch_op:
        batch_op.drop_column('hold_reason')
        batch_op.drop_column('hold_until')
    keep_ticket_numbering()
