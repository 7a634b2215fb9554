"""Settings only the workflow reads (its API and worker), from the same environment
variables as before (`WORKFLOW_*`, `WORKER_*`; see `.env.example`).

Process-wide settings (database, Redis, queue name, logs) stay in `shared.settings`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WorkflowSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # Worker sweeps: timers, stuck pre-checks, outcome callbacks.
    workflow_sweep_interval_seconds: int = Field(default=5, ge=1, le=60)
    workflow_precheck_stale_seconds: float = 30.0
    workflow_callback_backoff_seconds: float = 2.0
    workflow_callback_backoff_max_seconds: float = 600.0
    # A holiday schedule (holidays.yaml format) loaded over the one shipped with the code:
    # operators add a year's official notice here without waiting for a release.
    workflow_calendar_file: Path | None = None
    # Messages to applicants (站内信 / SMS): the default adapter appends them as JSON lines
    # to a file per channel in this directory; failed sends retry on shared.backoff.
    workflow_notification_dir: Path = Path("var/notifications")
    workflow_notification_batch: int = Field(default=100, ge=1, le=1000)
    workflow_notification_max_attempts: int = Field(default=8, ge=1)
    workflow_notification_backoff_seconds: float = 5.0
    workflow_notification_backoff_max_seconds: float = 3600.0
    worker_job_timeout_seconds: int = 300
    worker_max_tries: int = 10


@lru_cache
def get_workflow_settings() -> WorkflowSettings:
    return WorkflowSettings()
