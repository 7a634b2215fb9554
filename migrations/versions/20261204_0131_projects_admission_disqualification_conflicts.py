"""projects: whom a call admits; disqualified bids and cancelled procurements; evaluators' org

Revision ID: 0131
Revises: 0122
Create Date: 2026-12-11 09:00:00+00:00

- `call`: the admission criteria the registry judges applicants by. Calls published
  before this admit what the default now admits: registered organizations only.
- `bid`: a disqualification (when, by whom, why); a disqualified bid is never awarded.
- `procurement`: may be `cancelled` (when, by whom, why); the project then procures
  again, so only the live (not cancelled) procurement of a project is unique.
- `evaluator_assignment`: the organization an evaluator works for, to refuse links; an
  evaluator may be `released` by the bureau (one who never declares would otherwise
  block the conclusion for ever).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0131"
down_revision: str | None = "0122"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "projects"


def upgrade() -> None:
    op.add_column(
        "call",
        sa.Column(
            "admitted_registrations",
            postgresql.ARRAY(sa.String(length=32)),
            nullable=False,
            server_default=sa.text("'{registered}'"),
        ),
        schema=SCHEMA,
    )
    op.alter_column("call", "admitted_registrations", server_default=None, schema=SCHEMA)
    op.add_column(
        "call", sa.Column("min_evaluation_grade", sa.String(length=2), nullable=True), schema=SCHEMA
    )
    op.add_column(
        "call",
        sa.Column(
            "admitted_inspection_results", postgresql.ARRAY(sa.String(length=32)), nullable=True
        ),
        schema=SCHEMA,
    )
    op.create_check_constraint(
        op.f("ck_call_admits_someone"),
        "call",
        "cardinality(admitted_registrations) >= 1",
        schema=SCHEMA,
    )

    op.add_column(
        "bid",
        sa.Column("disqualified_at", sa.DateTime(timezone=True), nullable=True),
        schema=SCHEMA,
    )
    op.add_column(
        "bid", sa.Column("disqualified_by", sa.String(length=200), nullable=True), schema=SCHEMA
    )
    op.add_column(
        "bid", sa.Column("disqualification_reason", sa.Text(), nullable=True), schema=SCHEMA
    )
    op.create_check_constraint(
        op.f("ck_bid_disqualification_complete"),
        "bid",
        "(disqualified_at IS NULL) = (disqualification_reason IS NULL)"
        " AND (disqualified_at IS NULL) = (disqualified_by IS NULL)",
        schema=SCHEMA,
    )

    op.drop_constraint("procurement_status", "procurement", type_="check", schema=SCHEMA)
    op.create_check_constraint(
        "procurement_status",
        "procurement",
        "status IN ('open', 'awarded', 'cancelled')",
        schema=SCHEMA,
    )
    op.add_column(
        "procurement",
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        schema=SCHEMA,
    )
    op.add_column(
        "procurement",
        sa.Column("cancelled_by", sa.String(length=200), nullable=True),
        schema=SCHEMA,
    )
    op.add_column(
        "procurement", sa.Column("cancellation_reason", sa.Text(), nullable=True), schema=SCHEMA
    )
    op.create_check_constraint(
        op.f("ck_procurement_cancellation_complete"),
        "procurement",
        "(status = 'cancelled') = (cancelled_at IS NOT NULL)"
        " AND (cancelled_at IS NULL) = (cancellation_reason IS NULL)",
        schema=SCHEMA,
    )
    op.drop_constraint("uq_procurement_project_id", "procurement", type_="unique", schema=SCHEMA)
    op.create_index(
        op.f("ix_projects_procurement_project_id"),
        "procurement",
        ["project_id"],
        unique=False,
        schema=SCHEMA,
    )
    op.create_index(
        "uq_procurement_live_project_id",
        "procurement",
        ["project_id"],
        unique=True,
        schema=SCHEMA,
        postgresql_where=sa.text("cancelled_at IS NULL"),
    )

    op.add_column(
        "evaluator_assignment",
        sa.Column("evaluator_org_id", sa.Uuid(), nullable=True),
        schema=SCHEMA,
    )
    op.drop_constraint("assignment_status", "evaluator_assignment", type_="check", schema=SCHEMA)
    op.create_check_constraint(
        "assignment_status",
        "evaluator_assignment",
        "status IN ('assigned', 'cleared', 'recused', 'released')",
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_constraint("assignment_status", "evaluator_assignment", type_="check", schema=SCHEMA)
    op.execute(
        "UPDATE projects.evaluator_assignment SET status = 'recused' WHERE status = 'released'"
    )
    op.create_check_constraint(
        "assignment_status",
        "evaluator_assignment",
        "status IN ('assigned', 'cleared', 'recused')",
        schema=SCHEMA,
    )
    op.drop_column("evaluator_assignment", "evaluator_org_id", schema=SCHEMA)

    op.drop_index("uq_procurement_live_project_id", table_name="procurement", schema=SCHEMA)
    op.drop_index(
        op.f("ix_projects_procurement_project_id"), table_name="procurement", schema=SCHEMA
    )
    # A project that procured again has two procurements: keep its live one.
    op.execute(
        "DELETE FROM projects.bid WHERE procurement_id IN"
        " (SELECT id FROM projects.procurement WHERE status = 'cancelled')"
    )
    op.execute("DELETE FROM projects.procurement WHERE status = 'cancelled'")
    op.create_unique_constraint(
        "uq_procurement_project_id", "procurement", ["project_id"], schema=SCHEMA
    )
    op.drop_constraint(
        op.f("ck_procurement_cancellation_complete"), "procurement", type_="check", schema=SCHEMA
    )
    op.drop_column("procurement", "cancellation_reason", schema=SCHEMA)
    op.drop_column("procurement", "cancelled_by", schema=SCHEMA)
    op.drop_column("procurement", "cancelled_at", schema=SCHEMA)
    op.drop_constraint("procurement_status", "procurement", type_="check", schema=SCHEMA)
    op.create_check_constraint(
        "procurement_status", "procurement", "status IN ('open', 'awarded')", schema=SCHEMA
    )

    op.drop_constraint(
        op.f("ck_bid_disqualification_complete"), "bid", type_="check", schema=SCHEMA
    )
    op.drop_column("bid", "disqualification_reason", schema=SCHEMA)
    op.drop_column("bid", "disqualified_by", schema=SCHEMA)
    op.drop_column("bid", "disqualified_at", schema=SCHEMA)

    op.drop_constraint(op.f("ck_call_admits_someone"), "call", type_="check", schema=SCHEMA)
    op.drop_column("call", "admitted_inspection_results", schema=SCHEMA)
    op.drop_column("call", "min_evaluation_grade", schema=SCHEMA)
    op.drop_column("call", "admitted_registrations", schema=SCHEMA)
