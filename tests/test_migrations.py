"""The alembic history and the models agree (an `alembic check` on the test database)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection

from migrations.metadata import SCHEMAS, SERVICE_METADATA
from shared.db import database


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection,
        opts={
            "include_schemas": True,
            "include_object": lambda obj, name, type_, reflected, compare_to: (
                type_ != "table" or getattr(obj, "schema", None) in SCHEMAS
            ),
            "compare_type": True,
            "compare_server_default": True,
        },
    )
    return list(compare_metadata(context, list(SERVICE_METADATA)))


async def test_models_match_migrations() -> None:
    async with database.engine.connect() as connection:
        differences = await connection.run_sync(_diff)
    assert differences == []


async def test_each_service_has_its_own_schema_and_no_cross_schema_foreign_keys() -> None:
    async with database.engine.connect() as connection:
        schemas = set(
            (
                await connection.execute(
                    text("SELECT schema_name FROM information_schema.schemata")
                )
            ).scalars()
        )
        cross = (
            await connection.execute(
                text(
                    """
                    SELECT tc.table_schema, ccu.table_schema
                    FROM information_schema.table_constraints tc
                    JOIN information_schema.constraint_column_usage ccu
                      ON tc.constraint_name = ccu.constraint_name
                     AND tc.constraint_schema = ccu.constraint_schema
                    WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema <> ccu.table_schema
                    """
                )
            )
        ).all()
    assert {"registry", "projects", "workflow"} <= schemas
    assert cross == []
