"""Settings only the registry reads (the shared ones stay in `shared.settings`).

The environment variables keep their names: `REGISTRY_IMPORT_MAX_ROWS`,
`REGISTRY_IMPORT_MAX_UNPACKED_BYTES`, `REGISTRY_REPORT_DEADLINE_MONTH`,
`REGISTRY_REPORT_DEADLINE_DAY`, `REGISTRY_DEADLINE_SWEEP_INTERVAL_SECONDS`,
`REGISTRY_ID_NUMBER_KEY` / `REGISTRY_ID_NUMBER_KEY_FILE` (see `.env.example`), and `ENV`,
shared with `shared.settings`.

The ID-number key is guarded like the JWT secrets: with `ENV=production` the public
development key, or a key under 32 characters, stops the registry before it serves
(`services/registry/main.py` reads these settings at start), naming the setting and never
echoing the value.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import Environment, read_secret_file

# Public (it is in this file): a deployment sets its own REGISTRY_ID_NUMBER_KEY, and
# production refuses this one.
DEVELOPMENT_ID_NUMBER_KEY = "sanshe-development-id-number-key-do-not-use"
# As for the JWT secrets: a key an operator typed by hand is guessable; 32 hex characters
# from `openssl rand -hex 32` are 128 bits and more.
MINIMUM_PRODUCTION_ID_NUMBER_KEY_LENGTH = 32


class RegistrySettings(BaseSettings):
    # hide_input_in_errors: a refused key is named, never printed.
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", hide_input_in_errors=True)

    # The same ENV as `shared.settings.Settings`: which keys are acceptable depends on it.
    env: Environment = Environment.development

    # Imports: the rows one file may hold (blank ones included; split a larger file), and
    # how far an XLSX may unpack (a ZIP: a few KiB can unpack to gigabytes). 100,000
    # template rows unpack to about 110 MB of XLSX.
    registry_import_max_rows: int = Field(default=100_000, ge=1)
    registry_import_max_unpacked_bytes: int = Field(default=256 * 1024 * 1024, ge=1)
    # The annual report of year Y is due by this day of year Y + 1 (Asia/Shanghai): 31 May
    # by the rules of the registration authorities (《社会团体登记管理条例》 art. 28 and the
    # yearly 年检 notices); a province may set another day.
    registry_report_deadline_month: int = Field(default=5, ge=1, le=12)
    registry_report_deadline_day: int = Field(default=31, ge=1, le=31)
    # How often each registry process checks whether a deadline passed (the sweep itself
    # runs once per year and deadline: a later run finds nothing left to do).
    registry_deadline_sweep_interval_seconds: float = Field(default=3600, gt=0)

    @model_validator(mode="after")
    def _deadline_is_a_day_of_every_year(self) -> RegistrySettings:
        # 29 February would not exist three years in four; 31 April never does.
        try:
            date(2001, self.registry_report_deadline_month, self.registry_report_deadline_day)
        except ValueError as error:
            raise ValueError("The report deadline must be a day every year has") from error
        return self

    def report_deadline(self, year: int) -> date:
        """The last day (Asia/Shanghai) to file the annual report of `year`."""
        return date(
            year + 1, self.registry_report_deadline_month, self.registry_report_deadline_day
        )

    # How often each registry API process sweeps expired evaluation grades. Validity ends
    # on a civil day, so an hour is prompt enough (and the bureau may sweep on demand).
    registry_grade_sweep_interval_seconds: float = Field(default=3600, gt=0)
    # The key of the digests by which people's resident ID numbers are found (HMAC-SHA256,
    # people/identity.py): the numbers themselves are not stored. A number has too few
    # possible values for a plain hash to hide it. Never change it once people are
    # recorded: their digests would no longer match.
    registry_id_number_key: str = Field(default=DEVELOPMENT_ID_NUMBER_KEY, repr=False)
    # The key from a file instead (a Docker or Kubernetes secret), read at start; it wins
    # over REGISTRY_ID_NUMBER_KEY, being what the operator mounted on purpose.
    registry_id_number_key_file: Path | None = None

    @model_validator(mode="after")
    def _read_id_number_key_file(self) -> RegistrySettings:
        if self.registry_id_number_key_file is not None:
            self.registry_id_number_key = read_secret_file(
                self.registry_id_number_key_file, "REGISTRY_ID_NUMBER_KEY_FILE"
            )
        return self

    @model_validator(mode="after")
    def _refuse_public_id_number_key_in_production(self) -> RegistrySettings:
        # After the file is read (validators run in the order they are defined). Digests
        # under the public key can be recomputed by anyone for every possible number, so
        # they would give the numbers away: production must never record one.
        if self.env is not Environment.production:
            return self
        name = (
            "REGISTRY_ID_NUMBER_KEY_FILE"
            if self.registry_id_number_key_file is not None
            else "REGISTRY_ID_NUMBER_KEY"
        )
        if self.registry_id_number_key == DEVELOPMENT_ID_NUMBER_KEY:
            raise ValueError(
                f"{name} must be set to a private value when ENV=production "
                "(docs/operations.md, 'First start')"
            )
        if len(self.registry_id_number_key) < MINIMUM_PRODUCTION_ID_NUMBER_KEY_LENGTH:
            raise ValueError(
                f"{name} must be at least {MINIMUM_PRODUCTION_ID_NUMBER_KEY_LENGTH} "
                "characters in production"
            )
        return self


@lru_cache
def get_registry_settings() -> RegistrySettings:
    return RegistrySettings()
