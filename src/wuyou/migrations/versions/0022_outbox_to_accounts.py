"""A notification to an account the directory does not know yet (a binding request refused): the outbox row names
the platform and the account instead of a person

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0022'
down_revision: str | Sequence[str] | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('person_id', existing_type=sa.String(length=64), nullable=True)
        batch_op.add_column(sa.Column('platform', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('address', sa.String(length=200), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE person_id IS NULL")
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('address')
        batch_op.drop_column('platform')
        batch_op.alter_column('person_id', existing_type=sa.String(length=64), nullable=False)
