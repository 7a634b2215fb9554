"""registry: name grams of the NFKC form, so （庐阳） finds (庐阳) and １２３ finds 123

Revision ID: 0113
Revises: 0112
Create Date: 2026-12-05 08:30:00+00:00

Names arrive typed on Chinese input methods (full-width brackets, digits and letters)
as often as on Latin ones. The name search compares the NFKC form of both ends (Unicode
UAX #15: full-width forms fold to their ASCII twins): `name_grams` now grams
`lower(normalize(name, NFKC))`, and the query is normalised the same way in Python
(`repository.query_grams`). The index expression, `registry.name_grams(name)`, is
unchanged: the function is replaced in place and the index rebuilt from it, as in 0007.
PostgreSQL's `normalize()` is IMMUTABLE and needs a UTF8 database (ours are).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0113"
down_revision: str | None = "0112"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LOOP = """
CREATE OR REPLACE FUNCTION registry.name_grams(name text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    lowered text := lower({folded});
    length int := char_length(lowered);
    grams text[] := '{{}}';
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

NFKC = _LOOP.format(folded="normalize(name, NFKC)")
# Migration 0007's definition, for the downgrade.
PLAIN = _LOOP.format(folded="name")


def upgrade() -> None:
    op.execute(NFKC)
    op.execute("REINDEX INDEX registry.ix_organization_name_grams")


def downgrade() -> None:
    op.execute(PLAIN)
    op.execute("REINDEX INDEX registry.ix_organization_name_grams")
