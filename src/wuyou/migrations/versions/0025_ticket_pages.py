"""On-call pages for P1 tickets out of their team's hours

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wuyou.db import UTCDateTime

revision: str = '0025'
down_revision: str | Sequence[str] | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'ticket_pages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('team_code', sa.String(length=64), nullable=False),
        sa.Column('person_id', sa.String(length=64), nullable=False),
        sa.Column('step', sa.Integer(), nullable=False),
        sa.Column('chain', sa.JSON(), nullable=False),
        sa.Column('paged_at', UTCDateTime(), nullable=False),
        sa.Column('due_at', UTCDateTime(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('acked_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id']),
        sa.ForeignKeyConstraint(['team_code'], ['teams.code']),
        sa.ForeignKeyConstraint(['person_id'], ['people.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_ticket_pages_ticket_id', 'ticket_pages', ['ticket_id'])
    op.create_index('ix_ticket_pages_person_id', 'ticket_pages', ['person_id'])
    op.create_index('ix_ticket_pages_status_due', 'ticket_pages', ['status', 'due_at'])


def downgrade() -> None:
    op.drop_table('ticket_pages')
