"""Settings only the registry reads (the shared ones stay in `shared.settings`).

The environment variables keep their names: `REGISTRY_IMPORT_MAX_ROWS`,
`REGISTRY_IMPORT_MAX_UNPACKED_BYTES` (see `.env.example`).
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RegistrySettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", hide_input_in_errors=True)

    # Imports: the rows one file may hold (blank ones included; split a larger file), and
    # how far an XLSX may unpack (a ZIP: a few KiB can unpack to gigabytes). 100,000
    # template rows unpack to about 110 MB of XLSX.
    registry_import_max_rows: int = Field(default=100_000, ge=1)
    registry_import_max_unpacked_bytes: int = Field(default=256 * 1024 * 1024, ge=1)
    # How often each registry API process sweeps expired evaluation grades. Validity ends
    # on a civil day, so an hour is prompt enough (and the bureau may sweep on demand).
    registry_grade_sweep_interval_seconds: float = Field(default=3600, gt=0)


@lru_cache
def get_registry_settings() -> RegistrySettings:
    return RegistrySettings()
