"""Tickets carry their last SLA verdicts (response_met, resolution_met) for the reports, filled from the
clocks already stopped; an index of the tickets closed without a resolution, for the trend; on PostgreSQL the
creation and resolution indexes (also within a branch) carry what the percentiles read (index-only scans)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# what the reports' summary reads of the tickets created / resolved in a range (as the models say in 0008)
CREATED = ['claimed_at', 'response_met']
RESOLVED = ['created_at', 'reopen_count', 'resolution_met', 'rating']


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('response_met', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('resolution_met', sa.Boolean(), nullable=True))
        batch_op.create_index('ix_tickets_branch_resolved', ['branch_code', 'resolved_at'], unique=False,
                              postgresql_include=RESOLVED)
        batch_op.create_index('ix_tickets_closed_unresolved', ['closed_at'], unique=False,
                              postgresql_where=sa.text('resolved_at IS NULL'),
                              sqlite_where=sa.text('resolved_at IS NULL'))
    for kind in ('response', 'resolution'):
        # the verdict of the ticket's latest clock of that kind that stopped with one
        op.execute(f"""
            UPDATE tickets SET {kind}_met = (
                SELECT c.met FROM sla_clocks c
                WHERE c.ticket_id = tickets.id AND c.kind = '{kind}' AND c.met IS NOT NULL
                ORDER BY c.stopped_at DESC, c.id DESC LIMIT 1)
            WHERE EXISTS (SELECT 1 FROM sla_clocks c
                          WHERE c.ticket_id = tickets.id AND c.kind = '{kind}' AND c.met IS NOT NULL)""")
    if op.get_bind().dialect.name == 'postgresql':
        _covering(include=True)


def _covering(*, include: bool) -> None:
    for name, columns, extra in (('ix_tickets_created_at', ['created_at'], [*CREATED, 'branch_code']),
                                 ('ix_tickets_resolved_at', ['resolved_at'], [*RESOLVED, 'branch_code']),
                                 ('ix_tickets_branch_created', ['branch_code', 'created_at'], CREATED)):
        op.drop_index(name, table_name='tickets')
        op.create_index(name, 'tickets', columns, unique=False, postgresql_include=extra if include else [])


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        _covering(include=False)
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_closed_unresolved')
        batch_op.drop_index('ix_tickets_branch_resolved')
        batch_op.drop_column('resolution_met')
        batch_op.drop_column('response_met')
