"""registry: the name search reads a narrow, trigger-kept table, not the register

Revision ID: 0163
Revises: 0119
Create Date: 2026-12-05 21:10:00+00:00

A name search must read every candidate the bigram index yields from its table: the
LIKE recheck needs the name and the exact total needs every match. On the register
(1,000,000 rows, ~600 MB, 128 MB of shared buffers) a four-character term with two
filters read ~1,900 random pages of it, mostly from outside shared buffers.
`organization_search` holds one narrow row per organization (id, the NFKC-folded
name, status, registration, created_at: ~100 bytes, a fifth of the register), so the
candidates, the count and the sort by creation run on a table that stays in shared
buffers; the page's rows are then read from the register by primary key. The GIN
index of migration 0119 moves here (the same keys: NFKC is idempotent, so the grams of
the folded name are those of the name), so a write still grams a name once.

Triggers keep it in step, so that it cannot drift: inserts and deletes at statement
level with transition tables (one INSERT ... SELECT for a whole COPY of an import),
updates row by row and only when the name, status, registration or created_at
changed (the WHEN is evaluated without calling the function). The register cannot be
truncated (the history that references it refuses it), so no trigger is needed for that.
"""

# The SQL here is assembled from this module's constants only, never from input.
# ruff: noqa: S608

from collections.abc import Sequence

from alembic import op

revision: str = "0163"
down_revision: str | None = "0119"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEYS = "registry.organization_search_keys({name}, status, registration)"
_COLUMNS = "id, folded_name, status, registration, created_at"
_VALUES = "id, normalize(name, NFKC), status, registration, created_at"

FUNCTIONS = (
    f"""
CREATE FUNCTION registry.organization_search_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO registry.organization_search ({_COLUMNS})
    SELECT {_VALUES} FROM new_rows;
    RETURN NULL;
END
$$
""",
    """
CREATE FUNCTION registry.organization_search_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE registry.organization_search
    SET id = NEW.id, folded_name = normalize(NEW.name, NFKC), status = NEW.status,
        registration = NEW.registration, created_at = NEW.created_at
    WHERE id = OLD.id;
    RETURN NULL;
END
$$
""",
    """
CREATE FUNCTION registry.organization_search_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM registry.organization_search WHERE id IN (SELECT id FROM old_rows);
    RETURN NULL;
END
$$
""",
)

TRIGGERS = (
    """
CREATE TRIGGER organization_search_insert AFTER INSERT ON registry.organization
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registry.organization_search_insert()
""",
    """
CREATE TRIGGER organization_search_update
    AFTER UPDATE OF id, name, status, registration, created_at ON registry.organization
    FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.name IS DISTINCT FROM NEW.name
          OR OLD.status IS DISTINCT FROM NEW.status
          OR OLD.registration IS DISTINCT FROM NEW.registration
          OR OLD.created_at IS DISTINCT FROM NEW.created_at)
    EXECUTE FUNCTION registry.organization_search_update()
""",
    """
CREATE TRIGGER organization_search_delete AFTER DELETE ON registry.organization
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registry.organization_search_delete()
""",
)

_EVENTS = ("insert", "update", "delete")


def upgrade() -> None:
    op.execute("DROP INDEX registry.ix_organization_search_keys")
    op.execute(
        """
        CREATE TABLE registry.organization_search (
            id uuid NOT NULL,
            folded_name text NOT NULL,
            status varchar(32) NOT NULL,
            registration varchar(32) NOT NULL,
            created_at timestamp with time zone NOT NULL,
            CONSTRAINT pk_organization_search PRIMARY KEY (id)
        )
        """
    )
    # The register is locked against writes while it is copied and the triggers created,
    # so that no write falls between the backfill and the first trigger.
    op.execute("LOCK TABLE registry.organization IN SHARE ROW EXCLUSIVE MODE")
    op.execute(
        f"INSERT INTO registry.organization_search ({_COLUMNS})"
        f" SELECT {_VALUES} FROM registry.organization"
    )
    op.execute(
        "CREATE INDEX ix_organization_search_keys ON registry.organization_search"
        f" USING gin ({_KEYS.format(name='folded_name')})"
    )
    for statement in (*FUNCTIONS, *TRIGGERS):
        op.execute(statement)
    op.execute("ANALYZE registry.organization_search")


def downgrade() -> None:
    for event in _EVENTS:
        op.execute(f"DROP TRIGGER organization_search_{event} ON registry.organization")
        op.execute(f"DROP FUNCTION registry.organization_search_{event}()")
    op.execute("DROP TABLE registry.organization_search")
    op.execute(
        "CREATE INDEX ix_organization_search_keys ON registry.organization"
        f" USING gin ({_KEYS.format(name='name')})"
    )
