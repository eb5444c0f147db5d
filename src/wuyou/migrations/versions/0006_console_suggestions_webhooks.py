"""Console sign-in (password hashes), suggestion sessions (KB deflection) and outgoing webhooks

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import wuyou.db.base

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('webhook_endpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('secret', sa.String(length=200), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.Column('created_at', wuyou.db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['people.id'], name=op.f('fk_webhook_endpoints_created_by_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoints'))
    )
    op.create_table('webhook_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('endpoint_id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('event', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', wuyou.db.base.UTCDateTime(), nullable=False),
    sa.Column('next_attempt_at', wuyou.db.base.UTCDateTime(), nullable=False),
    sa.Column('delivered_at', wuyou.db.base.UTCDateTime(), nullable=True),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoints.id'], name=op.f('fk_webhook_deliveries_endpoint_id_webhook_endpoints')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_webhook_deliveries_idempotency_key'))
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_endpoint_id'), ['endpoint_id'], unique=False)
        batch_op.create_index('ix_webhook_deliveries_status_due', ['status', 'next_attempt_at'], unique=False)

    op.create_table('suggestion_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.String(length=64), nullable=False),
    sa.Column('branch_code', sa.String(length=64), nullable=True),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('query', sa.Text(), nullable=False),
    sa.Column('offered', sa.JSON(), nullable=False),
    sa.Column('started_at', wuyou.db.base.UTCDateTime(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('ended_at', wuyou.db.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['branch_code'], ['branches.code'], name=op.f('fk_suggestion_sessions_branch_code_branches')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_suggestion_sessions_person_id_people')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_suggestion_sessions_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion_sessions'))
    )
    with op.batch_alter_table('suggestion_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_suggestion_sessions_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_suggestion_sessions_started_at'), ['started_at'], unique=False)

    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_hash', sa.String(length=200), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_column('password_hash')

    with op.batch_alter_table('suggestion_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_suggestion_sessions_started_at'))
        batch_op.drop_index(batch_op.f('ix_suggestion_sessions_person_id'))

    op.drop_table('suggestion_sessions')
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_deliveries_status_due')
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_endpoint_id'))

    op.drop_table('webhook_deliveries')
    op.drop_table('webhook_endpoints')
