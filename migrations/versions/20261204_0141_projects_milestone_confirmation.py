"""projects: a deliverable milestone is reported achieved, then confirmed met

Revision ID: 0141
Revises: 0151
Create Date: 2026-12-14 09:00:00+00:00

`project_milestone` gets its status (scheduled → reported → met, or sent back to
scheduled), the organization's report (the day achieved, what was delivered, the
evidence), the purchasing side's review and a version for `If-Match`. Milestones that
exist are scheduled (none could be marked met before: `met_at` had no writer); one that
has a `met_at` all the same is taken as met.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0141"
down_revision: str | None = "0151"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "projects"
TABLE = "project_milestone"


def upgrade() -> None:
    op.add_column(
        TABLE,
        sa.Column(
            "status",
            sa.Enum(
                "scheduled",
                "reported",
                "met",
                name="milestone_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
            server_default="scheduled",
        ),
        schema=SCHEMA,
    )
    op.alter_column(TABLE, "status", server_default=None, schema=SCHEMA)
    op.add_column(TABLE, sa.Column("achieved_on", sa.Date(), nullable=True), schema=SCHEMA)
    op.add_column(TABLE, sa.Column("achievement", sa.Text(), nullable=True), schema=SCHEMA)
    op.add_column(
        TABLE,
        sa.Column(
            "evidence",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            server_default=sa.text("'[]'::jsonb"),
        ),
        schema=SCHEMA,
    )
    op.alter_column(TABLE, "evidence", server_default=None, schema=SCHEMA)
    op.add_column(
        TABLE, sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True), schema=SCHEMA
    )
    op.add_column(
        TABLE, sa.Column("reported_by", sa.String(length=200), nullable=True), schema=SCHEMA
    )
    op.add_column(TABLE, sa.Column("review_note", sa.Text(), nullable=True), schema=SCHEMA)
    op.add_column(
        TABLE, sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True), schema=SCHEMA
    )
    op.add_column(
        TABLE, sa.Column("reviewed_by", sa.String(length=200), nullable=True), schema=SCHEMA
    )
    op.add_column(
        TABLE, sa.Column("version", sa.Integer(), nullable=False, server_default="1"), schema=SCHEMA
    )
    op.alter_column(TABLE, "version", server_default=None, schema=SCHEMA)
    op.execute(
        "UPDATE projects.project_milestone SET status = 'met', achieved_on = "
        "(met_at AT TIME ZONE 'Asia/Shanghai')::date, reported_at = met_at "
        "WHERE met_at IS NOT NULL"
    )
    op.create_check_constraint(
        op.f("ck_project_milestone_met_when_confirmed"),
        TABLE,
        "(status = 'met') = (met_at IS NOT NULL)",
        schema=SCHEMA,
    )
    op.create_check_constraint(
        op.f("ck_project_milestone_reported_with_its_day"),
        TABLE,
        "status = 'scheduled' OR (achieved_on IS NOT NULL AND reported_at IS NOT NULL)",
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("ck_project_milestone_reported_with_its_day"), TABLE, type_="check", schema=SCHEMA
    )
    op.drop_constraint(
        op.f("ck_project_milestone_met_when_confirmed"), TABLE, type_="check", schema=SCHEMA
    )
    for column in (
        "version",
        "reviewed_by",
        "reviewed_at",
        "review_note",
        "reported_by",
        "reported_at",
        "evidence",
        "achievement",
        "achieved_on",
        "status",
    ):
        op.drop_column(TABLE, column, schema=SCHEMA)
