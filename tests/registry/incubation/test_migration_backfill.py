"""Migration 0117's backfill: an organization with the older incubation steps gets its
incubation, in the phase its latest step named, with that phase as its first history line."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import httpx
from sqlalchemy import text

from shared.db import database
from tests.factories import filed_org
from tests.registry.helpers import ORGS, Auth, created

MIGRATION = (
    Path(__file__).resolve().parents[3]
    / "migrations/versions/20261205_0117_registry_incubation_pipeline.py"
)


def _migration() -> ModuleType:
    spec = importlib.util.spec_from_file_location("migration_0117", MIGRATION)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Rollback(Exception):
    pass


async def test_steps_recorded_before_the_pipeline_become_an_incubation(
    registry: httpx.AsyncClient, auth: Auth
) -> None:
    org = await created(registry, auth("civil_affairs"), filed_org())
    office = auth("street_office", street_code=org["street_code"])
    for body in ({"stage": "incubate", "phase": "early"}, {"stage": "emerge", "phase": "late"}):
        response = await registry.post(f"{ORGS}/{org['id']}/incubation", json=body, headers=office)
        assert response.status_code == 201, response.text
    migration = _migration()
    found: list[tuple[str, str, str | None, str]] = []
    try:
        async with database.transaction() as session:
            await session.execute(text(migration.BACKFILL_INCUBATIONS))
            await session.execute(text(migration.BACKFILL_PHASE_HISTORY))
            rows = await session.execute(
                text(
                    "SELECT i.phase, i.admitted_by, c.from_phase, c.to_phase"
                    " FROM registry.incubation i"
                    " JOIN registry.incubation_phase_change c ON c.incubation_id = i.id"
                    " WHERE i.organization_id = :org"
                ),
                {"org": org["id"]},
            )
            found = [tuple(row) for row in rows.all()]  # type: ignore[misc]
            # Leave the shared test database as it was.
            raise _Rollback
    except _Rollback:
        pass
    assert len(found) == 1
    phase, admitted_by, from_phase, to_phase = found[0]
    assert (phase, from_phase, to_phase) == ("late", None, "late")
    assert admitted_by.startswith("test-street_office")
