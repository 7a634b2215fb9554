"""workflow: the subject's department on a case; unnumbered internal outbox events

Revision ID: 0124
Revises: 0003
Create Date: 2026-12-10 09:00:00+00:00

`approval_case.subject_department`: the department the subject belongs to (a project's
purchasing department), named by the requesting service; definitions with
`reviewed_by_subject_department` give it a review task. Existing cases have none.

`outbox_event.subject_seq` becomes nullable, as in the registry and projects schemas:
only published events are numbered, so a subject's published sequence has no gaps. The
workflow writes no internal command today; the UPDATE keeps the three schemas alike.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0124"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "approval_case",
        sa.Column("subject_department", sa.String(length=60), nullable=True),
        schema="workflow",
    )
    op.alter_column("outbox_event", "subject_seq", nullable=True, schema="workflow")
    op.execute(
        sa.text(
            "UPDATE workflow.outbox_event SET subject_seq = NULL"
            " WHERE event_type = 'workflow.case_requested'"
        )
    )


def downgrade() -> None:
    # Below any real number and unique per row: the old NOT NULL holds again.
    op.execute(
        sa.text(
            "UPDATE workflow.outbox_event SET subject_seq = -position WHERE subject_seq IS NULL"
        )
    )
    op.alter_column("outbox_event", "subject_seq", nullable=False, schema="workflow")
    op.drop_column("approval_case", "subject_department", schema="workflow")
