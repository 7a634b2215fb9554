"""projects: published OCDS releases (append-only) and the parties' registry identity

Revision ID: 0151
Revises: 0131
Create Date: 2026-12-13 09:00:00+00:00

- `ocds_release`: every OCDS release exactly as published, one per change, written in
  the change's transaction. Append-only like the timeline and the ledger: the trigger
  (`projects.refuse_change()`, from 0004) refuses UPDATE, DELETE and TRUNCATE. `txid`
  and `position` order the bulk feed commit-safely.
- `ocds_party`: the name and USCC the registry gave for an organization taking part in
  a project, for the parties' `CN-USCC` identifiers.

Projects created before this revision have no release yet: their first change after it
publishes one with their whole state (each release is a full snapshot).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0151"
down_revision: str | None = "0131"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "projects"
TRIGGERS = [
    "CREATE TRIGGER ocds_release_append_only BEFORE UPDATE OR DELETE ON projects.ocds_release "
    "FOR EACH ROW EXECUTE FUNCTION projects.refuse_change()",
    "CREATE TRIGGER ocds_release_no_truncate BEFORE TRUNCATE ON projects.ocds_release "
    "FOR EACH STATEMENT EXECUTE FUNCTION projects.refuse_change()",
]


class XID8(sa.types.UserDefinedType[str]):
    """PostgreSQL's 64-bit transaction id (defined here: a migration must not import models)."""

    cache_ok = True

    def get_col_spec(self, **kw: object) -> str:
        return "xid8"


def upgrade() -> None:
    op.create_table(
        "ocds_release",
        sa.Column("position", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("txid", XID8(), server_default=sa.text("pg_current_xact_id()"), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.String(length=100), nullable=False),
        sa.Column("date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tags", postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("body", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.project.id"], name=op.f("fk_ocds_release_project_id_project")
        ),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_ocds_release")),
        sa.UniqueConstraint("project_id", "number", name=op.f("uq_ocds_release_project_id_number")),
        sa.UniqueConstraint("release_id", name=op.f("uq_ocds_release_release_id")),
        schema=SCHEMA,
    )
    op.create_index(
        op.f("ix_projects_ocds_release_date"), "ocds_release", ["date"], unique=False, schema=SCHEMA
    )
    op.create_index(
        "ix_ocds_release_feed_order", "ocds_release", ["txid", "position"], schema=SCHEMA
    )
    for statement in TRIGGERS:
        op.execute(statement)
    op.create_table(
        "ocds_party",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("legal_name", sa.String(length=200), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_ocds_party")),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("ocds_party", schema=SCHEMA)
    for name in ("ocds_release_no_truncate", "ocds_release_append_only"):
        op.execute(f"DROP TRIGGER {name} ON projects.ocds_release")
    op.drop_table("ocds_release", schema=SCHEMA)
