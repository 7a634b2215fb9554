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
    # repr=False: the URLs carry passwords, and a logged Settings must not show them.
    database_url: str | None = Field(default=None, repr=False)
    redis_url: str | None = Field(default=None, repr=False)
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
    # One HS256 key (no `kid`): simple deployments and development.
    jwt_secret: str = Field(default=DEVELOPMENT_JWT_SECRET, repr=False)
    # Several keys for rotation without a hard cutover: `kid:secret` pairs separated by
    # commas or whitespace (a file: one per line). The first signs new tokens (its kid in
    # the token header); every one verifies. Set, it replaces JWT_SECRET.
    jwt_secrets: str | None = Field(default=None, repr=False)
    # Either value from a file instead (a Docker or Kubernetes secret), read at start.
    jwt_secret_file: Path | None = None
    jwt_secrets_file: Path | None = None
    jwt_jwks_url: str | None = None
    jwt_issuer: str = "sanshe"
    jwt_audience: str = "sanshe"
    jwt_leeway_seconds: int = 30
    dev_token_ttl_seconds: int = 12 * 3600
    # A service-role token for outgoing calls. Unset with HS256: each service mints its
    # own. With RS256, have the identity provider issue one.
    service_token: str | None = Field(default=None, repr=False)

    # Where the services reach each other.
    registry_url: str = "http://127.0.0.1:8001"
    projects_url: str = "http://127.0.0.1:8002"
    workflow_url: str = "http://127.0.0.1:8003"

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

    # Requests.
    max_body_bytes: int = 10 * 1024 * 1024
    idempotency_ttl_hours: int = 24

    # Logs.
    log_level: str = "INFO"
    log_json: bool = True
    # FastAPI's native OpenTelemetry (spans, metrics and logs through the global OTel
    # providers). Off unless asked for: the services export Prometheus metrics and JSON
    # logs, and asking the providers whether they are configured costs ~5% of a GET.
    otel_enabled: bool = False

    # The arq worker's own /healthz and /metrics port (shared.metrics): one per process,
    # unlike arq's health key, which is one per queue. Unset: not served.
    worker_metrics_port: int | None = Field(default=None, ge=0, le=65535)

    @model_validator(mode="after")
    def _read_secret_files(self) -> Settings:
        # Files win over the variables: the file is what the operator mounted on purpose.
        # A file that cannot be read stops the process (named, never printed).
        if self.jwt_secret_file is not None:
            self.jwt_secret = read_secret_file(self.jwt_secret_file, "JWT_SECRET_FILE")
        if self.jwt_secrets_file is not None:
            self.jwt_secrets = read_secret_file(self.jwt_secrets_file, "JWT_SECRETS_FILE")
        if self.jwt_secrets is not None:
            self.jwt_keys  # noqa: B018 - parses the pairs: a malformed value stops the start
        return self

    @property
    def jwt_keys(self) -> tuple[tuple[str | None, str], ...]:
        """The HS256 keys as (kid, secret), the signing one first. JWT_SECRET alone is one
        key without a kid."""
        if self.jwt_secrets is None:
            return ((None, self.jwt_secret),)
        keys: list[tuple[str | None, str]] = []
        for item in self.jwt_secrets.replace(",", " ").split():
            kid, sep, secret = item.partition(":")
            if not sep or not kid or not secret:
                raise ValueError("JWT_SECRETS must be kid:secret pairs")
            if any(kid == seen for seen, _ in keys):
                raise ValueError("JWT_SECRETS names a kid twice")
            keys.append((kid, secret))
        if not keys:
            raise ValueError("JWT_SECRETS holds no kid:secret pair")
        return tuple(keys)

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
            name = "JWT_SECRET" if self.jwt_secrets is None else "JWT_SECRETS"
            secrets = [secret for _, secret in self.jwt_keys]
            if self.jwt_algorithm == "HS256" and DEVELOPMENT_JWT_SECRET in secrets:
                raise ValueError(f"{name} must be set to a private value when ENV=production")
            if self.jwt_algorithm == "HS256" and min(map(len, secrets)) < 32:
                raise ValueError(f"{name} must be at least 32 characters in production")
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


def read_secret_file(path: Path, name: str) -> str:
    """A secret mounted as a file (Docker or Kubernetes), without its trailing newline.

    A file that cannot be read is a ValueError naming the setting `name`, never the path's
    contents.
    """
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"{name} cannot be read ({type(exc).__name__})") from None


@lru_cache
def get_settings() -> Settings:
    return Settings()
