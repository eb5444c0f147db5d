"""A ticket may follow up an earlier one of its reporter (the same problem back after the reopen window)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wuyou.migrations.helpers import TICKETS_TABLE_KWARGS, keep_ticket_numbering

revision: str = '0014'
down_revision: str | Sequence[str] | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None, table_kwargs=TICKETS_TABLE_KWARGS) as batch_op:
        batch_op.add_column(sa.Column('follows_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_tickets_follows_id'), ['follows_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_tickets_follows_id_tickets'), 'tickets', ['follows_id'], ['id'])
    keep_ticket_numbering()


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None, table_kwargs=TICKETS_TABLE_KWARGS) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_tickets_follows_id_tickets'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_tickets_follows_id'))
        batch_op.drop_column('follows_id')
    keep_ticket_numbering()
