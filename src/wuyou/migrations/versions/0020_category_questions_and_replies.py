"""A category's own question for the reporter's description; canned replies (常用语); branches' addresses and
phones, people's phones; whether an SLA policy's clock stops while a ticket is on hold

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0020'
down_revision: str | Sequence[str] | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ask', sa.Text(), nullable=True))
    op.create_table(
        'canned_replies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('team_code', sa.String(length=64), nullable=True),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['team_code'], ['teams.code'], name=op.f('fk_canned_replies_team_code_teams')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_canned_replies')),
        sa.UniqueConstraint('name', name=op.f('uq_canned_replies_name')),
    )
    with op.batch_alter_table('branches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('phone', sa.String(length=64), nullable=True))
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=64), nullable=True))
    with op.batch_alter_table('sla_policies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('on_hold', sa.String(length=8), server_default='pause', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('sla_policies', schema=None) as batch_op:
        batch_op.drop_column('on_hold')
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_column('phone')
    with op.batch_alter_table('branches', schema=None) as batch_op:
        batch_op.drop_column('phone')
        batch_op.drop_column('address')
    op.drop_table('canned_replies')
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.drop_column('ask')
