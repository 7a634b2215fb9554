"""registry: name_grams in PL/pgSQL, 3.4 times cheaper per name

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 22:55:00+00:00

The SQL version (two generate_series, UNION ALL, array_agg DISTINCT) cost about 72 µs
a name, paid on every insert or rename (the GIN index expression): 7 s of a 100,000-row
import. This loop costs about 21 µs and yields the same set of grams; it may repeat a
gram, which neither GIN (it de-duplicates an item's keys) nor `@>` minds.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOOP = """
CREATE OR REPLACE FUNCTION registry.name_grams(name text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    lowered text := lower(name);
    length int := char_length(lowered);
    grams text[] := '{}';
BEGIN
    FOR i IN 1..length LOOP
        grams := grams || substr(lowered, i, 1);
        IF i < length THEN
            grams := grams || substr(lowered, i, 2);
        END IF;
    END LOOP;
    RETURN grams;
END
$$
"""

# Migration 0002's definition, for the downgrade.
SET_BASED = """
CREATE OR REPLACE FUNCTION registry.name_grams(name text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT gram), '{}')
    FROM (
        SELECT substr(lower(name), i, 1) AS gram
        FROM generate_series(1, char_length(name)) AS i
        UNION ALL
        SELECT substr(lower(name), i, 2)
        FROM generate_series(1, char_length(name) - 1) AS i
    ) AS grams
$$
"""


def upgrade() -> None:
    # Same name and signature, so it is replaced in place; the index is rebuilt from it.
    op.execute(LOOP)
    op.execute("REINDEX INDEX registry.ix_organization_name_grams")


def downgrade() -> None:
    op.execute(SET_BASED)
    op.execute("REINDEX INDEX registry.ix_organization_name_grams")
