"""Tickets carry whether they were resolved at first contact (by whoever first took them, never transferred, given
back or reopened, the reporter never asked back), judged from the timeline for those already resolved; on
PostgreSQL the resolution indexes carry it (index-only scans)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | Sequence[str] | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RESOLVED = ['created_at', 'reopen_count', 'resolution_met', 'rating']  # as 0008 made the indexes carry


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_contact', sa.Boolean(), nullable=True))
    # tickets.first_contact for the tickets an engineer resolved (those the incident's resolution resolved: no one)
    op.execute("""
        UPDATE tickets SET first_contact = (
            tickets.reopen_count = 0
            AND NOT EXISTS (SELECT 1 FROM ticket_events e WHERE e.ticket_id = tickets.id
                            AND e.kind IN ('transferred', 'released', 'asked'))
            AND COALESCE((SELECT e.actor_id FROM ticket_events e WHERE e.ticket_id = tickets.id AND e.kind = 'claimed'
                          ORDER BY e.id LIMIT 1), tickets.assignee_id)
                = (SELECT e.actor_id FROM ticket_events e WHERE e.ticket_id = tickets.id AND e.kind = 'resolved'
                   ORDER BY e.id DESC LIMIT 1))
        WHERE tickets.resolved_at IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM ticket_events e WHERE e.ticket_id = tickets.id AND e.kind = 'resolved'
            AND CAST(e.data AS TEXT) LIKE '%"incident"%')""")
    if op.get_bind().dialect.name == 'postgresql':
        _covering([*RESOLVED, 'first_contact'])


def _covering(resolved: list[str]) -> None:
    for name, columns, extra in (('ix_tickets_resolved_at', ['resolved_at'], [*resolved, 'branch_code']),
                                 ('ix_tickets_branch_resolved', ['branch_code', 'resolved_at'], resolved)):
        op.drop_index(name, table_name='tickets')
        op.create_index(name, 'tickets', columns, unique=False, postgresql_include=extra)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        _covering(RESOLVED)
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('first_contact')
