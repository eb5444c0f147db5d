"""The desk's calendar days per region: a closure of one city's branches (a typhoon) beside the desk-wide ones

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wuyou.db import UTCDateTime

revision: str = '0024'
down_revision: str | Sequence[str] | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = "day, kind, name, created_by, created_at"


def _table(name: str, *, region: bool) -> None:
    op.create_table(
        name,
        sa.Column('day', sa.Date(), nullable=False),
        *([sa.Column('region_code', sa.String(length=64), nullable=False, server_default='')] if region else []),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'region_code') if region else sa.PrimaryKeyConstraint('day'),
    )


def upgrade() -> None:
    # The primary key gains a column: a new table, the rows copied (the same on SQLite and PostgreSQL).
    _table('calendar_days_by_region', region=True)
    op.execute(f"INSERT INTO calendar_days_by_region ({COLUMNS}, region_code) SELECT {COLUMNS}, '' FROM calendar_days")
    op.drop_table('calendar_days')
    op.rename_table('calendar_days_by_region', 'calendar_days')


def downgrade() -> None:
    _table('calendar_days_desk_wide', region=False)
    op.execute(f"INSERT INTO calendar_days_desk_wide ({COLUMNS}) SELECT {COLUMNS} FROM calendar_days "
               "WHERE region_code = ''")
    op.drop_table('calendar_days')
    op.rename_table('calendar_days_desk_wide', 'calendar_days')
