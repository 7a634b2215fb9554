"""registry: organization_tally, the dashboard's counts kept by statement-level triggers

Revision ID: 0006
Revises: 0002
Create Date: 2026-12-01 22:40:00+00:00

`GET /organizations/stats` grouped the whole register on every call (seconds on a
million rows). The tally holds one row per combination of the dashboard's dimensions;
triggers with transition tables fold each statement's inserted, updated and deleted rows
into it (one upsert per statement, keys in a fixed order so concurrent writers lock
them in the same order), so the statistics read a few thousand rows instead.
Nullable dimensions are stored as '' to keep a plain primary key. There is no CHECK on
`n`: PostgreSQL checks a row proposed by INSERT ... ON CONFLICT before it finds the
conflict, and a negative delta always lands on an existing row (the UPDATE branch).
"""

# The SQL here is assembled from this module's constants only, never from input.
# ruff: noqa: S608

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DIMENSIONS = (
    "registration",
    "street_code",
    "kind",
    "category",
    "status",
    "evaluation_grade",
    "incubation_stage",
)
_KEY = ", ".join(DIMENSIONS)
_SOURCE_KEY = (
    "registration, coalesce(street_code, ''), kind, category, status,"
    " coalesce(evaluation_grade, ''), coalesce(incubation_stage, '')"
)


def _fold(*sources: tuple[str, int]) -> str:
    rows = " UNION ALL ".join(
        f"SELECT {_SOURCE_KEY}, {sign} FROM {table}" for table, sign in sources
    )
    return f"""
        INSERT INTO registry.organization_tally AS t ({_KEY}, n)
        SELECT {_KEY}, sum(delta) FROM ({rows}) AS changes ({_KEY}, delta)
        GROUP BY {_KEY}
        HAVING sum(delta) <> 0
        ORDER BY {_KEY}
        ON CONFLICT ({_KEY}) DO UPDATE SET n = t.n + excluded.n;
    """


TALLY_FUNCTION = f"""
CREATE FUNCTION registry.tally_organizations() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_fold(("new_rows", 1))}
    ELSIF TG_OP = 'UPDATE' THEN
        {_fold(("new_rows", 1), ("old_rows", -1))}
    ELSE
        {_fold(("old_rows", -1))}
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "organization_tally",
        *(sa.Column(name, sa.String(length=32), nullable=False) for name in DIMENSIONS),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(*DIMENSIONS, name=op.f("pk_organization_tally")),
        schema="registry",
    )
    op.execute(TALLY_FUNCTION)
    for event, tables in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ):
        op.execute(
            f"CREATE TRIGGER organization_tally_{event.lower()} AFTER {event}"
            f" ON registry.organization REFERENCING {tables}"
            " FOR EACH STATEMENT EXECUTE FUNCTION registry.tally_organizations()"
        )
    op.execute(
        f"INSERT INTO registry.organization_tally ({_KEY}, n)"
        f" SELECT {_SOURCE_KEY}, count(*) FROM registry.organization GROUP BY 1, 2, 3, 4, 5, 6, 7"
    )


def downgrade() -> None:
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER organization_tally_{event} ON registry.organization")
    op.execute("DROP FUNCTION registry.tally_organizations()")
    op.drop_table("organization_tally", schema="registry")
