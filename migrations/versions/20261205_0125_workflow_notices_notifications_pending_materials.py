"""workflow: applicant notifications, department supplement requests held for one notice,
materials pending after acceptance (容缺受理)

Revision ID: 0125
Revises: 0124
Create Date: 2026-12-05 11:00:00+00:00

`applicant_notification`: the outbox of messages to the applicant (站内信, SMS), written
with the case change and delivered by the worker. `review_task.supplement_items`: a
department's request, held until every reviewing department has spoken, so the applicant
gets one notice. `approval_case.pending_materials` / `pending_due_at`: 容缺受理. Existing
rows need no backfill: none has a held request or a pending material.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0125"
down_revision: str | None = "0124"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "approval_case",
        sa.Column("pending_materials", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        schema="workflow",
    )
    op.add_column(
        "approval_case",
        sa.Column("pending_due_at", sa.DateTime(timezone=True), nullable=True),
        schema="workflow",
    )
    op.create_index(
        "ix_approval_case_pending_due",
        "approval_case",
        ["pending_due_at"],
        schema="workflow",
        postgresql_where=sa.text("pending_due_at IS NOT NULL"),
    )
    op.add_column(
        "review_task",
        sa.Column("supplement_items", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        schema="workflow",
    )
    op.create_table(
        "applicant_notification",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("topic", sa.String(length=40), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "in_app",
                "sms",
                name="notification_channel",
                native_enum=False,
                create_constraint=True,
                length=32,
                schema="workflow",
            ),
            nullable=False,
        ),
        sa.Column("recipient", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "delivered",
                "failed",
                name="notification_status",
                native_enum=False,
                create_constraint=True,
                length=32,
                schema="workflow",
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["workflow.approval_case.id"],
            name=op.f("fk_applicant_notification_case_id_approval_case"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applicant_notification")),
        schema="workflow",
    )
    op.create_index(
        op.f("ix_workflow_applicant_notification_case_id"),
        "applicant_notification",
        ["case_id"],
        schema="workflow",
    )
    op.create_index(
        "ix_applicant_notification_recipient",
        "applicant_notification",
        ["recipient", "created_at"],
        schema="workflow",
    )
    op.create_index(
        "ix_applicant_notification_due",
        "applicant_notification",
        ["next_attempt_at"],
        schema="workflow",
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_table("applicant_notification", schema="workflow")
    op.drop_column("review_task", "supplement_items", schema="workflow")
    op.drop_index("ix_approval_case_pending_due", table_name="approval_case", schema="workflow")
    op.drop_column("approval_case", "pending_due_at", schema="workflow")
    op.drop_column("approval_case", "pending_materials", schema="workflow")
