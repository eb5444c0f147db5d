"""Major incidents: fault reports, surge offers, incidents with links, members, timeline, tasks and on-call pages

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wuyou.db import UTCDateTime

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("fingerprint", sa.String(length=200), nullable=True),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("region_code", sa.String(length=64), nullable=True),
        sa.Column("specialities", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("commander_id", sa.String(length=64), nullable=True),
        sa.Column("comms_id", sa.String(length=64), nullable=True),
        sa.Column("tech_lead_id", sa.String(length=64), nullable=True),
        sa.Column("declared_by_id", sa.String(length=64), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("detected_at", UTCDateTime(), nullable=True),
        sa.Column("declared_at", UTCDateTime(), nullable=False),
        sa.Column("assembled_at", UTCDateTime(), nullable=True),
        sa.Column("mitigated_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("next_update_at", UTCDateTime(), nullable=True),
        sa.Column("war_room", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["category_id"], ["categories.id"], name=op.f("fk_incidents_category_id_categories")),
        sa.ForeignKeyConstraint(["commander_id"], ["people.id"], name=op.f("fk_incidents_commander_id_people")),
        sa.ForeignKeyConstraint(["comms_id"], ["people.id"], name=op.f("fk_incidents_comms_id_people")),
        sa.ForeignKeyConstraint(["declared_by_id"], ["people.id"], name=op.f("fk_incidents_declared_by_id_people")),
        sa.ForeignKeyConstraint(["region_code"], ["regions.code"], name=op.f("fk_incidents_region_code_regions")),
        sa.ForeignKeyConstraint(["tech_lead_id"], ["people.id"], name=op.f("fk_incidents_tech_lead_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_incidents_fingerprint")),
    )
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.create_index("ix_incidents_status", ["status"], unique=False)

    op.create_table(
        "incident_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["people.id"], name=op.f("fk_incident_events_actor_id_people")),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_incident_events_incident_id_incidents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_events")),
    )
    with op.batch_alter_table("incident_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incident_events_incident_id"), ["incident_id"], unique=False)

    op.create_table(
        "incident_members",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("speciality", sa.String(length=64), nullable=True),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.Column("joined_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_incident_members_incident_id_incidents")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_incident_members_person_id_people")),
        sa.PrimaryKeyConstraint("incident_id", "person_id", name=op.f("pk_incident_members")),
    )
    op.create_table(
        "incident_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=True),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_incident_tasks_incident_id_incidents")
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["people.id"], name=op.f("fk_incident_tasks_owner_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_tasks")),
    )
    with op.batch_alter_table("incident_tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incident_tasks_incident_id"), ["incident_id"], unique=False)

    op.create_table(
        "pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("team_code", sa.String(length=64), nullable=False),
        sa.Column("speciality", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("chain", sa.JSON(), nullable=False),
        sa.Column("paged_at", UTCDateTime(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("acked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], name=op.f("fk_pages_incident_id_incidents")),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_pages_person_id_people")),
        sa.ForeignKeyConstraint(["team_code"], ["teams.code"], name=op.f("fk_pages_team_code_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pages")),
    )
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pages_incident_id"), ["incident_id"], unique=False)
        batch_op.create_index("ix_pages_status_due", ["status", "due_at"], unique=False)

    op.create_table(
        "surge_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_key", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("report_ids", sa.JSON(), nullable=False),
        sa.Column("branches", sa.JSON(), nullable=False),
        sa.Column("leads", sa.JSON(), nullable=False),
        sa.Column("dismissed_by_id", sa.String(length=64), nullable=True),
        sa.Column("suppressed_until", UTCDateTime(), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["category_id"], ["categories.id"], name=op.f("fk_surge_offers_category_id_categories")
        ),
        sa.ForeignKeyConstraint(
            ["dismissed_by_id"], ["people.id"], name=op.f("fk_surge_offers_dismissed_by_id_people")
        ),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], name=op.f("fk_surge_offers_incident_id_incidents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surge_offers")),
        sa.UniqueConstraint("group_key", name=op.f("uq_surge_offers_group_key")),
    )
    op.create_table(
        "fault_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("branch_code", sa.String(length=64), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("offer_id", sa.Integer(), nullable=True),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["branch_code"], ["branches.code"], name=op.f("fk_fault_reports_branch_code_branches")),
        sa.ForeignKeyConstraint(["category_id"], ["categories.id"], name=op.f("fk_fault_reports_category_id_categories")),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], name=op.f("fk_fault_reports_incident_id_incidents")),
        sa.ForeignKeyConstraint(["offer_id"], ["surge_offers.id"], name=op.f("fk_fault_reports_offer_id_surge_offers")),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_fault_reports_person_id_people")),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_fault_reports_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fault_reports")),
    )
    with op.batch_alter_table("fault_reports", schema=None) as batch_op:
        batch_op.create_index("ix_fault_reports_at", ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_fault_reports_incident_id"), ["incident_id"], unique=False)

    op.create_table(
        "incident_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_incident_links_incident_id_incidents")
        ),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_incident_links_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_links")),
        sa.UniqueConstraint("incident_id", "ticket_id", name=op.f("uq_incident_links_incident_id")),
    )
    with op.batch_alter_table("incident_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incident_links_incident_id"), ["incident_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_incident_links_ticket_id"), ["ticket_id"], unique=False)

    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.add_column(sa.Column("page", sa.JSON(), server_default="[]", nullable=False))

    op.create_table(
        "oncall_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_code", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_by_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["people.id"], name=op.f("fk_oncall_overrides_created_by_id_people")),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_oncall_overrides_person_id_people")),
        sa.ForeignKeyConstraint(["team_code"], ["teams.code"], name=op.f("fk_oncall_overrides_team_code_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oncall_overrides")),
    )
    with op.batch_alter_table("oncall_overrides", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oncall_overrides_team_code"), ["team_code"], unique=False)
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.add_column(sa.Column("oncall_rotation", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.drop_column("oncall_rotation")
    with op.batch_alter_table("oncall_overrides", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oncall_overrides_team_code"))
    op.drop_table("oncall_overrides")
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.drop_column("page")

    with op.batch_alter_table("incident_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_links_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_incident_links_incident_id"))

    op.drop_table("incident_links")
    with op.batch_alter_table("fault_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fault_reports_incident_id"))
        batch_op.drop_index("ix_fault_reports_at")

    op.drop_table("fault_reports")
    op.drop_table("surge_offers")
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.drop_index("ix_pages_status_due")
        batch_op.drop_index(batch_op.f("ix_pages_incident_id"))

    op.drop_table("pages")
    with op.batch_alter_table("incident_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_tasks_incident_id"))

    op.drop_table("incident_tasks")
    op.drop_table("incident_members")
    with op.batch_alter_table("incident_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_events_incident_id"))

    op.drop_table("incident_events")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index("ix_incidents_status")

    op.drop_table("incidents")
