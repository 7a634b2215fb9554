"""projects: internal commands in the outbox take no number in their subject's sequence

Revision ID: 0122
Revises: 0004
Create Date: 2026-12-10 09:00:00+00:00

Provincial subscribers read a subject's `seq` as gap-free, but `workflow.case_requested`
(a command to the workflow, never published) took a number, so the published sequence
of an application or a project skipped one. Such events now have no number
(`subject_seq` NULL; the unique constraint lets NULLs repeat). Existing ones lose
theirs too: the next published event then takes the number after the last *published*
one, which no subscriber has seen yet, so no event is ever numbered below what a
subscriber applied.
"""

from collections.abc import Sequence

from migrations.outbox_sequence import number_internal_events_again, unnumber_internal_events

revision: str = "0122"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    unnumber_internal_events("projects")


def downgrade() -> None:
    number_internal_events_again("projects")
