"""Settings only the registry reads (the shared ones stay in `shared.settings`).

The environment variables keep their names: `REGISTRY_IMPORT_MAX_ROWS`,
`REGISTRY_IMPORT_MAX_UNPACKED_BYTES`, `REGISTRY_REPORT_DEADLINE_MONTH`,
`REGISTRY_REPORT_DEADLINE_DAY`, `REGISTRY_DEADLINE_SWEEP_INTERVAL_SECONDS` (see
`.env.example`).
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from pydantic import Field, model_validator
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


@lru_cache
def get_registry_settings() -> RegistrySettings:
    return RegistrySettings()
