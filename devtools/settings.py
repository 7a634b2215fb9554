"""Settings read only by the development tools (`make run`, `make test`), never by a service.

Same environment variable names as before they left `shared.settings` (VAR_DIR,
EMBEDDED_PG_PORT, REGISTRY_PORT, ...), so existing `.env` files keep working.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import PROJECT_ROOT


class DevSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", hide_input_in_errors=True)

    # The servers to use; each one left unset is started embedded (see devtools.embedded).
    database_url: str | None = None
    redis_url: str | None = None

    # Where each service listens under `make run`.
    registry_port: int = 8001
    projects_port: int = 8002
    workflow_port: int = 8003
    # How long startup waits for every API's /readyz before giving up.
    run_ready_timeout_seconds: float = Field(default=60.0, gt=0)

    # Embedded servers (used only when the URLs above are unset).
    var_dir: Path = PROJECT_ROOT / "var"
    embedded_pg_port: int = 54329
    embedded_redis_port: int = 63790
    embedded_pg_user: str = "sanshe-pg"
    database_name: str = "sanshe"


def get_dev_settings() -> DevSettings:
    return DevSettings()
