"""An index of the KB feedback by kind, so that a process can tell cheaply whether a new verdict (solved,
rejected) has come in since it last computed the ranking boosts

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05

"""
from collections.abc import Sequence

from alembic import op

revision: str = '0010'
down_revision: str | Sequence[str] | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('kb_feedback', schema=None) as batch_op:
        batch_op.create_index('ix_kb_feedback_kind_id', ['kind', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('kb_feedback', schema=None) as batch_op:
        batch_op.drop_index('ix_kb_feedback_kind_id')
