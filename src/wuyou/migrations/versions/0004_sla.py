"""SLA policies and clocks, routing rules, API tokens; team business hours, category teams, round-robin marks

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wuyou.db import UTCDateTime

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("teams", sa.Column("hours", sa.String(length=200), nullable=True))
    op.add_column("team_members", sa.Column("last_assigned_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("categories") as batch:
        batch.add_column(sa.Column("team_code", sa.String(length=64), nullable=True))
        batch.create_foreign_key(batch.f("fk_categories_team_code_teams"), "teams", ["team_code"], ["code"])
    op.create_table(
        "sla_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("priority", sa.String(length=8), nullable=True),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("response_minutes", sa.Integer(), nullable=False),
        sa.Column("resolution_minutes", sa.Integer(), nullable=False),
        sa.Column("warn_percent", sa.Integer(), nullable=False),
        sa.Column("calendar", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policies")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_used_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_api_tokens_person_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_person_id"), "api_tokens", ["person_id"], unique=False)
    op.create_table(
        "routing_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("stop", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rules")),
    )
    op.create_table(
        "sla_clocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("policy", sa.String(length=100), nullable=False),
        sa.Column("hours", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("target_seconds", sa.Integer(), nullable=False),
        sa.Column("warn_percent", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("running_since", UTCDateTime(), nullable=True),
        sa.Column("consumed_seconds", sa.Integer(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("warn_at", UTCDateTime(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("warned_at", UTCDateTime(), nullable=True),
        sa.Column("breached_at", UTCDateTime(), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("stopped_at", UTCDateTime(), nullable=True),
        sa.Column("met", sa.Boolean(), nullable=True),
        sa.Column("next_check_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_sla_clocks_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_clocks")),
    )
    op.create_index(op.f("ix_sla_clocks_ticket_id"), "sla_clocks", ["ticket_id"], unique=False)
    op.create_index("ix_sla_clocks_state_next", "sla_clocks", ["state", "next_check_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_sla_clocks_state_next", table_name="sla_clocks")
    op.drop_index(op.f("ix_sla_clocks_ticket_id"), table_name="sla_clocks")
    op.drop_table("sla_clocks")
    op.drop_table("routing_rules")
    op.drop_index(op.f("ix_api_tokens_person_id"), table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("sla_policies")
    with op.batch_alter_table("categories") as batch:
        batch.drop_constraint(batch.f("fk_categories_team_code_teams"), type_="foreignkey")
        batch.drop_column("team_code")
    op.drop_column("team_members", "last_assigned_at")
    op.drop_column("teams", "hours")
