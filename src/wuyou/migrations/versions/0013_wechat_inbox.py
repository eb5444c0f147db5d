"""WeChat messages answered `success` before they were taken, kept until a process takes them

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wuyou.db.base import UTCDateTime

revision: str = '0013'
down_revision: str | Sequence[str] | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('wechat_inbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('delivery', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wechat_inbox')),
    sa.UniqueConstraint('account', 'delivery', name=op.f('uq_wechat_inbox_account'))
    )
    with op.batch_alter_table('wechat_inbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wechat_inbox_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('wechat_inbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wechat_inbox_created_at'))
    op.drop_table('wechat_inbox')
