"""Settings of the provincial sync, read from `WEBHOOK_*` environment variables.

They live here rather than in `shared.settings` because only the workflow's sync reads
them. Operators mostly touch the SSRF allowlist: provincial systems on a government
network often sit on private addresses, which are refused unless listed.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Standard Webhooks recommends thin payloads; the issue caps them at 20 KB.
MAX_PAYLOAD_BYTES = 20 * 1024


def _split_commas(value: Any) -> Any:
    """`a, b` in the environment → `["a", "b"]` (a JSON list is accepted as well)."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import json

            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


class SyncSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WEBHOOK_", env_file=".env", extra="ignore")

    # --- SSRF allowlist: hosts (exact names) and networks (CIDR) that may be private. -------
    allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    allowed_networks: Annotated[list[IPNetwork], NoDecode] = Field(default_factory=list)
    dns_timeout_seconds: float = Field(default=2.0, gt=0, le=30)

    # --- Outbound delivery. ------------------------------------------------------------------
    timeout_seconds: float = Field(default=15.0, gt=0, le=60)
    response_excerpt_bytes: int = Field(default=1024, ge=0, le=65536)
    # The old secret keeps signing next to the new one for this long after a rotation.
    secret_overlap_hours: float = Field(default=24.0, ge=0, le=24 * 30)
    # An endpoint failing without a single success for this long is disabled.
    disable_after_days: float = Field(default=5.0, gt=0)
    # Relative jitter applied to each retry delay (0.1 = ±10 %), so that endpoints that
    # failed together do not retry in lockstep.
    retry_jitter: float = Field(default=0.1, ge=0, le=0.5)
    # Retry-After larger than this is capped (a receiver cannot park a delivery forever).
    retry_after_max_seconds: float = Field(default=24 * 3600, ge=0)

    # --- Worker. -----------------------------------------------------------------------------
    sweep_interval_seconds: int = Field(default=1, ge=1, le=60)
    batch_size: int = Field(default=100, ge=1, le=1000)
    # Requests in flight per delivery job. httpcore's pool costs CPU per request in
    # proportion to its connections, so more is slower on a busy worker (bench/README.md,
    # webhooks_throughput); 10 × 2 jobs still covers tens of slow receivers. Within that,
    # each receiver gets what its adaptive window allows (`receiver_window`): from 2 up
    # to concurrency × parallel_jobs while its latency stays flat.
    concurrency: int = Field(default=10, ge=1, le=1000)
    # A deliver job stops claiming new batches after this long (keep it well below
    # WORKER_JOB_TIMEOUT_SECONDS minus WEBHOOK_TIMEOUT_SECONDS).
    deliver_budget_seconds: float = Field(default=30.0, gt=0)
    # Delivery jobs for healthy endpoints at most at once (plus one for failing ones): the
    # worker's `max_jobs` slots are shared with `events.dispatch`, so keep a few free.
    parallel_jobs: int = Field(default=2, ge=1, le=64)
    # A claimed delivery not recorded within this long (worker killed) is due again; never
    # less than a batch can take (its waves × the timeout, one timeout of waiting for a
    # receiver's window, + 15 s: `jobs.lease_for`).
    lease_seconds: float = Field(default=60.0, gt=0)

    # --- Feed. --------------------------------------------------------------------------------
    feed_retention_days: int = Field(default=35, ge=30)
    feed_page_max: int = Field(default=500, ge=1, le=5000)

    # --- Inbound. -----------------------------------------------------------------------------
    # The standardwebhooks library refuses anything beyond 5 minutes whatever we say.
    inbound_tolerance_seconds: int = Field(default=300, ge=1, le=300)
    inbound_max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    inbound_retry_base_seconds: float = Field(default=5.0, gt=0)
    inbound_retry_max_seconds: float = Field(default=600.0, gt=0)

    @field_validator("allowed_hosts", "allowed_networks", mode="before")
    @classmethod
    def _lists_from_commas(cls, value: Any) -> Any:
        return _split_commas(value)

    @field_validator("allowed_hosts")
    @classmethod
    def _lowercase_hosts(cls, value: list[str]) -> list[str]:
        return [host.lower().rstrip(".") for host in value]


@lru_cache
def get_sync_settings() -> SyncSettings:
    return SyncSettings()
