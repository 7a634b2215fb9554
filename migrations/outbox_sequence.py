"""Steps several services' migrations share: one definition, each migration names its schema.

Revisions 0122 (projects) and 0123 (registry) made the same change to their own schema's
outbox; the step lives here so the two cannot drift apart.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# A command to the workflow, never published: it takes no number in its subject's sequence.
INTERNAL_EVENT_TYPES = ("workflow.case_requested",)


def _outbox(schema: str) -> sa.TableClause:
    return sa.table(
        "outbox_event",
        sa.column("event_type", sa.String),
        sa.column("subject_seq", sa.BigInteger),
        sa.column("position", sa.BigInteger),
        schema=schema,
    )


def unnumber_internal_events(schema: str) -> None:
    """Let `subject_seq` be NULL and take the number off internal commands already written."""
    op.alter_column("outbox_event", "subject_seq", nullable=True, schema=schema)
    outbox = _outbox(schema)
    op.execute(
        outbox.update()
        .where(outbox.c.event_type.in_(INTERNAL_EVENT_TYPES))
        .values(subject_seq=None)
    )


def number_internal_events_again(schema: str) -> None:
    """The downgrade: every NULL gets a number below any real one and unique per row."""
    outbox = _outbox(schema)
    op.execute(
        outbox.update().where(outbox.c.subject_seq.is_(None)).values(subject_seq=-outbox.c.position)
    )
    op.alter_column("outbox_event", "subject_seq", nullable=False, schema=schema)
