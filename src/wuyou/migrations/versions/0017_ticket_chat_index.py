"""A group chat's recent tickets are looked up by the chat (a second report of the same fault in a branch's group
follows the open ticket instead of opening another)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06

"""
from collections.abc import Sequence

from alembic import op

revision: str = '0017'
down_revision: str | Sequence[str] | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_chat', ['chat_id', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_chat')
