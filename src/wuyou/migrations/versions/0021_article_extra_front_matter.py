"""An article's front matter keys wuyou does not use itself (`owner:`, `reviewed:` …), kept so that importing and
exporting a KB loses nothing

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0021'
down_revision: str | Sequence[str] | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('kb_articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('extra', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('kb_articles', schema=None) as batch_op:
        batch_op.drop_column('extra')
