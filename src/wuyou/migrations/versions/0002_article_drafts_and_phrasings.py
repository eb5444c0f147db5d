"""article drafts, learned phrasings and source

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("kb_articles") as batch:
        batch.add_column(sa.Column("status", sa.String(length=16), server_default="published", nullable=False))
        batch.add_column(sa.Column("phrasings", sa.JSON(), server_default="[]", nullable=False))
        batch.add_column(sa.Column("source", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("kb_articles") as batch:
        batch.drop_column("source")
        batch.drop_column("phrasings")
        batch.drop_column("status")
