"""Tickets keep their first claim (the first response) apart from the current engineer's claim, which a release, a
transfer or a reopen clears: the reports' first response read the latest claim, or none while a reopened ticket
waited. Filled from each ticket's first "claimed" event (else its claim); on PostgreSQL the creation indexes carry
it instead of claimed_at

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wuyou.db import UTCDateTime

revision: str = '0026'
down_revision: str | Sequence[str] | None = '0025'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_claimed_at', UTCDateTime(), nullable=True))
    op.execute("""
        UPDATE tickets SET first_claimed_at = COALESCE(
            (SELECT MIN(e.at) FROM ticket_events e WHERE e.ticket_id = tickets.id AND e.kind = 'claimed'),
            claimed_at)""")
    if op.get_bind().dialect.name == 'postgresql':
        _covering('first_claimed_at')


def _covering(response: str) -> None:
    created = [response, 'response_met']
    for name, columns, extra in (('ix_tickets_created_at', ['created_at'], [*created, 'branch_code']),
                                 ('ix_tickets_branch_created', ['branch_code', 'created_at'], created)):
        op.drop_index(name, table_name='tickets')
        op.create_index(name, 'tickets', columns, unique=False, postgresql_include=extra)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        _covering('claimed_at')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('first_claimed_at')
