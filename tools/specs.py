"""The three services' apps and OpenAPI documents, as the running code describes them.

Everything generated from the API (the gateway's route table, the committed specs, the
docs page) starts here, from each service's ASGI app (`services.<svc>.main:app`), so
it follows the code wherever its modules move.
"""

from __future__ import annotations

import copy
import importlib
import os
from functools import cache
from typing import Any

from fastapi import FastAPI

SERVICES = ("registry", "projects", "workflow")
API_PREFIX = "/api/v1/"
# /api/v1/internal/... is service-to-service only: never published by the gateway.
INTERNAL_SEGMENT = "internal"
_PLACEHOLDER_ENV = {
    "DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


@cache
def service_app(service: str) -> FastAPI:
    # Importing an app connects to nothing, but some modules read these at import time.
    for name, placeholder in _PLACEHOLDER_ENV.items():
        os.environ.setdefault(name, placeholder)
    module = importlib.import_module(f"services.{service}.main")
    app = getattr(module, "app", None)
    if app is None:
        app = module.create_app()
    assert isinstance(app, FastAPI), f"services.{service}.main has no FastAPI app"
    return app


def service_spec(service: str) -> dict[str, Any]:
    """A copy of the service's OpenAPI document (the app caches the original)."""
    return copy.deepcopy(service_app(service).openapi())


def first_segment(path: str) -> str | None:
    """`organizations` for /api/v1/organizations/{id}; None outside /api/v1/."""
    if not path.startswith(API_PREFIX):
        return None
    return path[len(API_PREFIX) :].split("/", 1)[0] or None


def is_public_path(path: str) -> bool:
    """Whether the gateway publishes this path (every /api/v1 path but the internal ones)."""
    segment = first_segment(path)
    return segment is not None and segment != INTERNAL_SEGMENT


def owners() -> dict[str, tuple[str, ...]]:
    """The /api/v1 resources (first path segment) each service serves, sorted."""
    result: dict[str, tuple[str, ...]] = {}
    for service in SERVICES:
        segments = {first_segment(path) for path in service_spec(service)["paths"]}
        result[service] = tuple(
            sorted(s for s in segments if s is not None and s != INTERNAL_SEGMENT)
        )
    claimed: dict[str, str] = {}
    for service, served in result.items():
        for segment in served:
            other = claimed.setdefault(segment, service)
            assert other == service, f"/api/v1/{segment} is served by {other} and {service}"
    return result
