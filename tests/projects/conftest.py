"""Projects test harness: a stand-in registry over real HTTP, and a driver of the lifecycle.

The registry's eligibility endpoint is built in parallel, so these tests run a small
FastAPI app under uvicorn on a loopback port that answers
`GET /api/v1/organizations/{id}` and `/eligibility` with data each test controls, and
point the projects app's injected registry client at it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from services.projects.main import app as projects_app
from shared.clients import RegistryClient
from devtools.processes import free_port
from shared.settings import get_settings
from tests.processes import LoopbackApp
from tests.projects.driver import Driver


@dataclass
class StandInRegistry(LoopbackApp):
    """Answers like the registry; unknown organizations are active and eligible."""

    port: int = field(default_factory=free_port)
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def make_abnormal(self, org_id: str) -> None:
        self.overrides[org_id] = {
            "eligible": False,
            "status": "abnormal",
            "reasons": ["status_abnormal"],
        }

    def _app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/api/v1/organizations/{org_id}")
        async def organization(org_id: str) -> JSONResponse:
            self.calls.append(f"organization:{org_id}")
            state = self.overrides.get(org_id, {})
            if state.get("missing"):
                return JSONResponse({"code": "organization_not_found"}, status_code=404)
            return JSONResponse(
                {
                    "id": org_id,
                    "name": f"庐阳区社工服务中心{org_id[:4]}",
                    "kind": "service_institution",
                    "registration": "registered",
                    "status": state.get("status", "active"),
                    "street_code": "340103001",
                    # Only when a test gives one: a filed organization has no USCC.
                    "uscc": state.get("uscc"),
                }
            )

        @app.get("/api/v1/organizations/{org_id}/eligibility")
        async def eligibility(org_id: str) -> JSONResponse:
            self.calls.append(f"eligibility:{org_id}")
            state = self.overrides.get(org_id, {})
            if state.get("missing"):
                return JSONResponse({"code": "organization_not_found"}, status_code=404)
            return JSONResponse(
                {
                    "organization_id": org_id,
                    "eligible": state.get("eligible", True),
                    "status": state.get("status", "active"),
                    "last_inspection_year": 2025,
                    "last_inspection_result": "pass",
                    "reasons": state.get("reasons", []),
                }
            )

        return app


def fast_client(url: str) -> RegistryClient:
    settings = get_settings().model_copy(
        update={"http_retries": 1, "http_backoff_seconds": 0.01, "http_timeout_seconds": 2.0}
    )
    return RegistryClient(url, caller="projects", settings=settings)


@pytest.fixture(scope="session")
def stand_in_registry() -> Iterator[StandInRegistry]:
    server = StandInRegistry().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
async def registry_client(
    stand_in_registry: StandInRegistry, projects: httpx.AsyncClient
) -> AsyncIterator[RegistryClient]:
    """The projects app asks the stand-in registry (the app's injectable client)."""
    client = fast_client(stand_in_registry.url)
    projects_app.state.registry_client = client
    yield client
    projects_app.state.registry_client = None
    await client.aclose()


@pytest.fixture
def driver(projects: httpx.AsyncClient, auth: Callable[..., dict[str, str]]) -> Driver:
    return Driver(projects, auth)


@pytest.fixture
def org_id() -> str:
    return str(uuid.uuid4())
