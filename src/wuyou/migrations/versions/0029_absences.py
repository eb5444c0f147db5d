"""A person can have several absences (next week's leave and a training day three weeks later): a table of them
instead of one span on the person; each person's away_from / away_until / away_note becomes one row

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-08

"""
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from wuyou.db import UTCDateTime

revision: str = '0029'
down_revision: str | Sequence[str] | None = '0028'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

people = sa.table('people', sa.column('id', sa.String()), sa.column('away_from', UTCDateTime()),
                  sa.column('away_until', UTCDateTime()), sa.column('away_note', sa.String()))
audit_events = sa.table('audit_events', sa.column('at', UTCDateTime()), sa.column('actor_id', sa.String()),
                        sa.column('action', sa.String()), sa.column('target', sa.String()))


def upgrade() -> None:
    absences = op.create_table(
        'absences',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.String(length=64), nullable=False),
        sa.Column('starts_at', UTCDateTime(), nullable=False),
        sa.Column('ends_at', UTCDateTime(), nullable=False),
        sa.Column('note', sa.String(length=200), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['person_id'], ['people.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_absences_person_ends', 'absences', ['person_id', 'ends_at'])
    bind = op.get_bind()
    now = datetime.now(UTC)
    rows = []
    for person_id, since, until, note in bind.execute(
            sa.select(people.c.id, people.c.away_from, people.c.away_until, people.c.away_note)
            .where(people.c.away_until.is_not(None))):
        # An absence without a start began when it was said: the audit trail's last "person.away" for them (both the
        # chat and the API wrote one); failing that, now (or its end, were it over: nothing is lost by a zero span).
        last = bind.execute(sa.select(audit_events.c.at, audit_events.c.actor_id).where(
            audit_events.c.target == f'person:{person_id}', audit_events.c.action.like('person.away%'))
            .order_by(audit_events.c.at.desc()).limit(1)).first()
        said, author = (last[0], last[1]) if last is not None else (None, None)
        start = since or (said if said is not None and said < until else min(now, until))
        rows.append({'person_id': person_id, 'starts_at': start, 'ends_at': until, 'note': note,
                     'created_at': said or now, 'created_by': author})
    if rows:
        op.bulk_insert(absences, rows)
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_column('away_note')
        batch_op.drop_column('away_until')
        batch_op.drop_column('away_from')


def downgrade() -> None:
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('away_from', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('away_until', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('away_note', sa.String(length=200), nullable=True))
    # One span per person fits: the absence in force, else the next one planned (the later ones are lost).
    absences = sa.table('absences', sa.column('person_id', sa.String()), sa.column('starts_at', UTCDateTime()),
                        sa.column('ends_at', UTCDateTime()), sa.column('note', sa.String()))
    bind = op.get_bind()
    now = datetime.now(UTC)
    kept: dict[str, tuple[datetime, datetime, str | None]] = {}
    for person_id, start, end, note in bind.execute(
            sa.select(absences.c.person_id, absences.c.starts_at, absences.c.ends_at, absences.c.note)
            .where(absences.c.ends_at > now).order_by(absences.c.starts_at)):
        kept.setdefault(person_id, (start, end, note))
    for person_id, (start, end, note) in kept.items():
        bind.execute(people.update().where(people.c.id == person_id).values(
            away_from=start if start > now else None, away_until=end, away_note=note))
    op.drop_index('ix_absences_person_ends', table_name='absences')
    op.drop_table('absences')
