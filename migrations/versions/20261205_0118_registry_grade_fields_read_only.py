"""registry: grades are set by evaluations only; pending applications forget typed-in grades

Revision ID: 0118
Revises: 0117
Create Date: 2026-12-05 12:15:00+00:00

The organization's `evaluation_grade`, `grade_valid_from` and `grade_valid_until` are
no longer fields a request may set: only a grade evaluation sets them (`grades/`), and
the create, update and application bodies refuse them (`grade_set_by_evaluation`).

Pending applications were stored with the body they came with: every registration
proposal carries the three keys (null, as the old input model dumped them), and a
change application may carry a grade change. Approval reads the proposal through the
same input models, so those keys would now make it fail: they are removed from every
pending application. A pending change asking for a grade thus applies the rest of what
it asked, as a grade can only come from an evaluation. Decided applications keep their
proposal as it was decided (it is their record). Nothing to undo on downgrade.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0118"
down_revision: str | None = "0117"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        UPDATE registry.application
           SET proposal = proposal - 'evaluation_grade' - 'grade_valid_from'
                                   - 'grade_valid_until'
         WHERE state = 'pending'
           AND proposal ?| array['evaluation_grade', 'grade_valid_from', 'grade_valid_until']
        """
    )


def downgrade() -> None:
    # The removed keys were nulls or grades no approval may apply any more.
    pass
