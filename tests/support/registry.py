"""Who answers the projects app's registry calls: a stand-in registry, or the real one.

* `stand_in_registry`: a small FastAPI app under uvicorn on a loopback port that answers
  `GET /api/v1/organizations/{id}` and `/eligibility` with data each test controls;
  unknown organizations are active and eligible. `stand_in_registry_client` points the
  projects app's injected registry client at it (tests/projects/conftest.py makes that
  the default of every projects test).
* `real_registry_client`: the real registry app answers, in-process over HTTP (ASGI
  transport). Tests of whom the projects service admits (applicants, bidders) use it by
  declaring, in their module, a `registry_client` fixture that asks for it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from tests.support.processes import LoopbackApp, free_port

if TYPE_CHECKING:
    from shared.clients import RegistryClient

Auth = Callable[..., dict[str, str]]
ORGS = "/api/v1/organizations"


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
    """A projects-side registry client that gives up quickly."""
    from shared.clients import RegistryClient
    from shared.settings import get_settings

    settings = get_settings().model_copy(
        update={"http_retries": 1, "http_backoff_seconds": 0.01, "http_timeout_seconds": 2.0}
    )
    return RegistryClient(url, caller="projects", settings=settings)


@pytest.fixture(scope="session")
def stand_in_registry() -> Iterator[StandInRegistry]:
    server = StandInRegistry().start()
    yield server
    server.stop()


@pytest.fixture
async def stand_in_registry_client(
    stand_in_registry: StandInRegistry, projects: httpx.AsyncClient
) -> AsyncIterator[RegistryClient]:
    """The projects app asks the stand-in registry (the app's injectable client)."""
    from services.projects.main import app as projects_app

    client = fast_client(stand_in_registry.url)
    projects_app.state.registry_client = client
    yield client
    projects_app.state.registry_client = None
    await client.aclose()


@pytest.fixture
async def real_registry_client(
    registry: httpx.AsyncClient, projects: httpx.AsyncClient
) -> AsyncIterator[RegistryClient]:
    """The projects app asks the real registry app, in-process."""
    from services.projects.main import app as projects_app
    from services.registry.main import app as registry_app
    from shared.clients import RegistryClient
    from shared.settings import get_settings

    client = RegistryClient(
        "http://registry.test",
        caller="projects",
        settings=get_settings().model_copy(update={"http_retries": 0}),
        transport=httpx.ASGITransport(app=registry_app),
    )
    projects_app.state.registry_client = client
    yield client
    projects_app.state.registry_client = None
    await client.aclose()


async def new_organization(registry: httpx.AsyncClient, auth: Auth, **fields: Any) -> str:
    """A registered, active organization of the register; returns its id."""
    from tests.factories import registered_org

    response = await registry.post(
        ORGS, json=registered_org(**fields), headers=auth("civil_affairs")
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def make_abnormal(registry: httpx.AsyncClient, auth: Auth, org_id: str) -> None:
    """The bureau lists the organization as abnormal (活动异常): it is no longer eligible."""
    response = await registry.post(
        f"{ORGS}/{org_id}/status",
        json={"status": "abnormal", "reason": "通过登记的住所无法联系"},
        headers=auth("civil_affairs"),
    )
    assert response.status_code == 200, response.text
