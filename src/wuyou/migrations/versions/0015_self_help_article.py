"""A suggestion session solved by an article remembers which (so that the reporter is reminded of it next time)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | Sequence[str] | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('suggestion_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('article_id', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('suggestion_sessions', schema=None) as batch_op:
        batch_op.drop_column('article_id')
