"""Process configuration, read from the environment (and `.env`) once.

Every variable is listed, with its default and meaning, in `.env.example`.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# The development secret is public (it is in this file): production refuses it.
DEVELOPMENT_JWT_SECRET = "sanshe-development-secret-do-not-use-in-production"  # noqa: S105

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class Settings(BaseSettings):
    # A refused value is named, never printed: pydantic's message would echo the input
    # (for a rule over several fields, all of them: JWT_SECRET, DATABASE_URL's password).
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", hide_input_in_errors=True)

    env: Environment = Environment.development

    # Connections. Unset in development: `make run` / `make test` start embedded servers
    # and pass their URLs to every child process.
    database_url: str | None = None
    redis_url: str | None = None
    db_pool_size: int = Field(default=10, ge=1)
    # How long a request waits for a free connection (or for a new one to open) before
    # it is answered 503 with Retry-After: while PostgreSQL stalls, requests fail fast
    # instead of piling up for the whole stall.
    db_pool_timeout_seconds: float = Field(default=5.0, gt=0)
    db_statement_timeout_ms: int = Field(default=30_000, ge=0)
    # How long a statement waits for a lock another transaction holds before it is
    # answered 503 with Retry-After (0: only the statement timeout bounds the wait).
    db_lock_timeout_ms: int = Field(default=10_000, ge=0)

    # Authentication (JWT bearer tokens).
    jwt_algorithm: str = Field(default="HS256", pattern="^(HS256|RS256)$")
    jwt_secret: str = DEVELOPMENT_JWT_SECRET
    jwt_jwks_url: str | None = None
    jwt_issuer: str = "sanshe"
    jwt_audience: str = "sanshe"
    jwt_leeway_seconds: int = 30
    dev_token_ttl_seconds: int = 12 * 3600
    # A service-role token for outgoing calls. Unset with HS256: each service mints its
    # own. With RS256, have the identity provider issue one.
    service_token: str | None = None

    # Where each service listens (make run) and where the others reach it.
    registry_port: int = 8001
    projects_port: int = 8002
    workflow_port: int = 8003
    registry_url: str = "http://127.0.0.1:8001"
    projects_url: str = "http://127.0.0.1:8002"
    workflow_url: str = "http://127.0.0.1:8003"
    # `make run`: how long startup waits for every API's /readyz before giving up.
    run_ready_timeout_seconds: float = Field(default=60.0, gt=0)

    # Service-to-service HTTP.
    http_timeout_seconds: float = 10.0
    http_retries: int = Field(default=3, ge=0)
    http_backoff_seconds: float = 0.2

    # Outbox relay and queue.
    outbox_relay_interval_seconds: float = 0.5
    outbox_relay_batch: int = 200
    outbox_republish_after_seconds: int = 60
    arq_queue_name: str = "sanshe:queue"
    arq_keep_result_seconds: int = 24 * 3600

    # Workflow worker: sweeps (timers, stuck pre-checks, outcome callbacks) and jobs.
    workflow_sweep_interval_seconds: int = Field(default=5, ge=1, le=60)
    workflow_precheck_stale_seconds: float = 30.0
    workflow_callback_backoff_seconds: float = 2.0
    workflow_callback_backoff_max_seconds: float = 600.0
    # A holiday schedule (holidays.yaml format) loaded over the one shipped with the code:
    # operators add a year's official notice here without waiting for a release.
    workflow_calendar_file: Path | None = None
    worker_job_timeout_seconds: int = 300
    worker_max_tries: int = 10

    # Projects: how often each API process sweeps progress reports for reminders and
    # late flags (due dates are days, so an hour is prompt enough).
    projects_report_sweep_interval_seconds: float = Field(default=3600.0, gt=0)

    # Requests.
    max_body_bytes: int = 10 * 1024 * 1024
    idempotency_ttl_hours: int = 24

    # Registry imports: the rows one file may hold (blank ones included; split a larger
    # file), and how far an XLSX may unpack (a ZIP: a few KiB can unpack to gigabytes).
    # 100,000 template rows unpack to about 110 MB of XLSX.
    registry_import_max_rows: int = Field(default=100_000, ge=1)
    registry_import_max_unpacked_bytes: int = Field(default=256 * 1024 * 1024, ge=1)

    # Logs.
    log_level: str = "INFO"
    log_json: bool = True
    # FastAPI's native OpenTelemetry (spans, metrics and logs through the global OTel
    # providers). Off unless asked for: the services export Prometheus metrics and JSON
    # logs, and asking the providers whether they are configured costs ~5% of a GET.
    otel_enabled: bool = False

    # Embedded servers for development (used only when the URLs above are unset).
    var_dir: Path = PROJECT_ROOT / "var"
    embedded_pg_port: int = 54329
    embedded_redis_port: int = 63790
    embedded_pg_user: str = "sanshe-pg"
    database_name: str = "sanshe"

    # Browsers: the origins (scheme://host[:port]) whose pages may call the APIs directly
    # (CORS), comma-separated. Empty (the default): no CORS headers at all, as behind the
    # gateway, where the front-end and the APIs share one origin. `*` is refused in
    # production.
    cors_allow_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # How long a browser may cache a preflight answer.
    cors_max_age_seconds: int = Field(default=600, ge=0)
    # Responses at least this large are gzip-compressed when the client accepts it
    # (0 turns compression off).
    gzip_minimum_bytes: int = Field(default=1024, ge=0)

    @field_validator("cors_allow_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
        return value

    @model_validator(mode="after")
    def _refuse_any_origin_in_production(self) -> Settings:
        if self.env is Environment.production and "*" in self.cors_allow_origins:
            raise ValueError("CORS_ALLOW_ORIGINS must list origins, not *, when ENV=production")
        return self

    @model_validator(mode="after")
    def _refuse_development_secret_in_production(self) -> Settings:
        if self.env is Environment.production:
            if self.jwt_algorithm == "HS256" and self.jwt_secret == DEVELOPMENT_JWT_SECRET:
                raise ValueError("JWT_SECRET must be set to a private value when ENV=production")
            if self.jwt_algorithm == "HS256" and len(self.jwt_secret) < 32:
                raise ValueError("JWT_SECRET must be at least 32 characters in production")
            if self.jwt_algorithm == "RS256" and not self.jwt_jwks_url:
                raise ValueError("JWT_JWKS_URL is required when JWT_ALGORITHM=RS256")
        return self

    def require_database_url(self) -> str:
        if not self.database_url:
            raise RuntimeError(
                "DATABASE_URL is not set: use `make run` (embedded servers) or set it explicitly"
            )
        return self.database_url

    def require_redis_url(self) -> str:
        if not self.redis_url:
            raise RuntimeError(
                "REDIS_URL is not set: use `make run` (embedded servers) or set it explicitly"
            )
        return self.redis_url


@lru_cache
def get_settings() -> Settings:
    return Settings()
