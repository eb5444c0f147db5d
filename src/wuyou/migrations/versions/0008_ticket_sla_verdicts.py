"""Tickets carry their last SLA verdicts (response_met, resolution_met) for the reports, filled from the
clocks already stopped; an index of the tickets closed without a resolution, for the trend; on PostgreSQL the
creation and resolution indexes also carry what the percentiles read (index-only scans)

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


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('response_met', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('resolution_met', sa.Boolean(), nullable=True))
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
    for name, column, extra in (('ix_tickets_created_at', 'created_at', ['claimed_at', 'branch_code']),
                                ('ix_tickets_resolved_at', 'resolved_at', ['created_at', 'branch_code'])):
        op.drop_index(name, table_name='tickets')
        op.create_index(name, 'tickets', [column], unique=False, postgresql_include=extra if include else [])


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        _covering(include=False)
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_closed_unresolved')
        batch_op.drop_column('resolution_met')
        batch_op.drop_column('response_met')
