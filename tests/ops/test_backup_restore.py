"""scripts/ops/backup_restore_check.sh against the local PostgreSQL: a migrated, seeded
database is dumped with pg_dump, restored with pg_restore into a new database, and every
table's row count compared (docs/operations.md, "Backup and restore")."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from shared.settings import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "scripts" / "ops" / "backup_restore_check.sh"
SCHEMAS = ("registry", "projects", "workflow")
SEEDED = 40

pytestmark = pytest.mark.skipif(
    not (shutil.which("pg_dump") and shutil.which("pg_restore") and shutil.which("psql")),
    reason="the PostgreSQL client tools are not installed",
)


@pytest.fixture
async def seeded(fresh_database: Callable[[str], AsyncIterator[str]]) -> AsyncIterator[str]:
    async for url in fresh_database(f"backup_{uuid.uuid4().hex[:6]}"):
        plain = make_url(url).set(drivername="postgresql").render_as_string(False)
        connection = await asyncpg.connect(plain)
        try:
            for schema in SCHEMAS:
                await connection.executemany(
                    f"INSERT INTO {schema}.outbox_event"  # noqa: S608 - fixed names
                    " (id, event_type, subject_type, subject_id, payload)"
                    " VALUES ($1, 'backup.checked', 'drill', $2, '{\"n\": 1}'::jsonb)",
                    [(uuid.uuid4(), str(n)) for n in range(SEEDED)],
                )
        finally:
            await connection.close()
        yield url


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )


async def _databases(url: str, like: str) -> list[str]:
    admin = make_url(url).set(drivername="postgresql", database="postgres")
    connection = await asyncpg.connect(admin.render_as_string(False))
    try:
        rows = await connection.fetch("SELECT datname FROM pg_database WHERE datname LIKE $1", like)
    finally:
        await connection.close()
    return [row["datname"] for row in rows]


async def test_a_dump_restores_with_every_row(seeded: str, tmp_path: Path) -> None:
    dump = tmp_path / "sanshe.dump"
    # Sanshe's own DATABASE_URL (postgresql+asyncpg://) is accepted as it is.
    result = _run(seeded, str(dump))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK:" in result.stdout and "identical counts" in result.stdout
    rows = int(result.stdout.split(" tables, ")[1].split(" rows")[0])
    assert rows >= len(SCHEMAS) * SEEDED
    # The backup stays where it was asked to go; the restored copy is dropped.
    assert dump.stat().st_size > 0
    name = make_url(seeded).database
    assert await _databases(seeded, f"{name}_restore_check_%") == []


async def test_a_kept_restore_can_be_inspected(seeded: str) -> None:
    import os

    result = _run(seeded, env={**os.environ, "KEEP_RESTORED": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    name = make_url(seeded).database
    (restored,) = await _databases(seeded, f"{name}_restore_check_%")
    url = make_url(seeded).set(drivername="postgresql", database=restored)
    connection = await asyncpg.connect(url.render_as_string(False))
    try:
        count = await connection.fetchval(
            "SELECT count(*) FROM workflow.outbox_event WHERE event_type = 'backup.checked'"
        )
        head = await connection.fetchval("SELECT count(*) FROM alembic_version")
    finally:
        await connection.close()
        admin = make_url(seeded).set(drivername="postgresql", database="postgres")
        connection = await asyncpg.connect(admin.render_as_string(False))
        try:
            await connection.execute(f'DROP DATABASE "{restored}" WITH (FORCE)')
        finally:
            await connection.close()
    assert count == SEEDED
    assert head >= 1


def test_usage_without_arguments() -> None:
    result = _run()
    assert result.returncode == 2
    assert "backup_restore_check.sh DATABASE_URL" in result.stderr
