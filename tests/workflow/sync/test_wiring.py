"""The sync is mounted in the real workflow service, worker and migration metadata.

Every other test here builds its own app and worker from `services.workflow.sync`; these
check that the deployed ones include it too. The wiring lives outside `sync/` (in
`services/workflow/main.py`, `worker.py`, `jobs.py` and `migrations/metadata.py`),
so that a refactoring there cannot silently unplug the provincial sync.
"""

from __future__ import annotations

import subprocess
import sys

import services.workflow.sync as sync
from shared.settings import PROJECT_ROOT


def test_the_workflow_app_serves_the_sync_routes() -> None:
    from services.workflow.main import app

    paths = set(app.openapi()["paths"])
    assert {
        "/api/v1/webhooks/endpoints",
        "/api/v1/events",
        "/api/v1/inbound/webhooks/{source}",
    } <= paths


def test_the_worker_runs_the_sync_jobs_and_dispatch_feeds_every_event() -> None:
    from services.workflow import jobs
    from services.workflow.worker import WorkerSettings

    names = {getattr(f, "name", None) for f in WorkerSettings.functions}
    assert {sync.DELIVER_JOB, sync.INBOUND_JOB} <= names
    assert sync.SWEEP_JOB in {c.name for c in WorkerSettings.cron_jobs}
    assert sync.on_event in jobs.EVENT_SUBSCRIBERS


def test_the_migration_metadata_knows_the_sync_tables_on_its_own() -> None:
    """In a fresh interpreter: here, the sync tests have imported the models already."""
    probe = (
        "from migrations.metadata import SERVICE_METADATA\n"
        "print(any('workflow.sync_event' in m.tables for m in SERVICE_METADATA))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == "True"
