"""registry: a receipt per applied case outcome, as the projects service keeps

Revision ID: 0112
Revises: 0111
Create Date: 2026-12-05 08:00:00+00:00

The registry took a repeated case outcome for a repeat by the application's state;
it now claims the case id in `case_outcome_receipt` (`shared.cases.claim_outcome`),
the same strategy as the projects service. Every application a case already decided
gets its receipt, so that a late repeat of that outcome is still answered
`applied: false`: the outcome is the application's state, `lapsed` being an approval
that could not be applied; the case type is the one that decides the application's
kind (`enums.CASE_TYPES`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0112"
down_revision: str | None = "0111"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "registry"


def upgrade() -> None:
    op.create_table(
        "case_outcome_receipt",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("case_type", sa.String(length=60), nullable=False),
        sa.Column("subject_type", sa.String(length=60), nullable=False),
        sa.Column("subject_id", sa.String(length=100), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_outcome_receipt")),
        schema=SCHEMA,
    )
    op.execute(
        """
        INSERT INTO registry.case_outcome_receipt
            (case_id, case_type, subject_type, subject_id, outcome, received_at)
        SELECT case_id,
               CASE kind
                   WHEN 'registration' THEN 'organization_registration'
                   WHEN 'change' THEN 'organization_change'
                   WHEN 'deregistration' THEN 'organization_deregistration'
                   ELSE kind
               END,
               'application',
               id::text,
               CASE state WHEN 'lapsed' THEN 'approved' ELSE state END,
               coalesce(decided_at, now())
        FROM registry.application
        WHERE case_id IS NOT NULL AND state <> 'pending'
        ON CONFLICT (case_id) DO NOTHING
        """
    )


def downgrade() -> None:
    op.drop_table("case_outcome_receipt", schema=SCHEMA)
