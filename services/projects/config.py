"""Settings only the projects service reads, from the same environment (and `.env`).

The names are those of `.env.example` (`PROJECTS_REPORT_SWEEP_INTERVAL_SECONDS`); the
settings every service shares stay in `shared.settings`.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ProjectsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", hide_input_in_errors=True)

    # How often each API process sweeps progress reports for reminders and late flags
    # (due dates are days, so an hour is prompt enough).
    projects_report_sweep_interval_seconds: float = Field(default=3600.0, gt=0)


@lru_cache
def get_projects_settings() -> ProjectsSettings:
    return ProjectsSettings()
