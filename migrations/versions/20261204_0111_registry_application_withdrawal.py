"""registry: an application records that its applicant asked to withdraw it

Revision ID: 0111
Revises: 0123
Create Date: 2026-12-12 09:00:00+00:00

`POST /applications/{id}/withdrawal` asks the workflow (through the outbox) to withdraw
the application's case; the application stays `pending` until the `withdrawn` outcome
comes back, and says meanwhile when and by whom the withdrawal was asked, so that a
repeated request asks nothing twice.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0111"
down_revision: str | None = "0123"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "registry"


def upgrade() -> None:
    op.add_column(
        "application",
        sa.Column("withdrawal_requested_at", sa.DateTime(timezone=True), nullable=True),
        schema=SCHEMA,
    )
    op.add_column(
        "application",
        sa.Column("withdrawal_requested_by", sa.String(length=200), nullable=True),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_column("application", "withdrawal_requested_by", schema=SCHEMA)
    op.drop_column("application", "withdrawal_requested_at", schema=SCHEMA)
