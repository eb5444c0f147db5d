"""Staff may be away (leave, a holiday) from a time (or now) until a time: paging, automatic assignment, new-ticket
cards and reopened tickets pass them by meanwhile

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wuyou.db.base import UTCDateTime

revision: str = '0016'
down_revision: str | Sequence[str] | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('away_from', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('away_until', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('away_note', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_column('away_note')
        batch_op.drop_column('away_until')
        batch_op.drop_column('away_from')
