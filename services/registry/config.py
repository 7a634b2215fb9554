"""Settings only the registry reads (the shared ones stay in `shared.settings`).

The environment variables keep their names: `REGISTRY_IMPORT_MAX_ROWS`,
`REGISTRY_IMPORT_MAX_UNPACKED_BYTES` (see `.env.example`).
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# Public (it is in this file): a deployment sets its own REGISTRY_ID_NUMBER_KEY.
DEVELOPMENT_ID_NUMBER_KEY = "sanshe-development-id-number-key-do-not-use"


class RegistrySettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", hide_input_in_errors=True)

    # Imports: the rows one file may hold (blank ones included; split a larger file), and
    # how far an XLSX may unpack (a ZIP: a few KiB can unpack to gigabytes). 100,000
    # template rows unpack to about 110 MB of XLSX.
    registry_import_max_rows: int = Field(default=100_000, ge=1)
    registry_import_max_unpacked_bytes: int = Field(default=256 * 1024 * 1024, ge=1)
    # The key of the digests by which people's resident ID numbers are found (HMAC-SHA256,
    # people/identity.py): the numbers themselves are not stored. A number has too few
    # possible values for a plain hash to hide it. Never change it once people are
    # recorded: their digests would no longer match.
    registry_id_number_key: str = Field(default=DEVELOPMENT_ID_NUMBER_KEY, repr=False)


@lru_cache
def get_registry_settings() -> RegistrySettings:
    return RegistrySettings()
