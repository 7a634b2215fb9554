"""The real registry app answering the projects app, in-process over HTTP (ASGI transport).

`tests/projects/conftest.py` points the projects app at a stand-in registry that finds
every organization eligible. Tests of whom the projects service admits (applicants,
bidders) import `real_registry` instead: a module-level fixture of that name overrides
the stand-in's autouse `registry_client` for the module.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.projects.main import app as projects_app
from services.registry.main import app as registry_app
from shared.clients import RegistryClient
from shared.settings import get_settings
from tests.factories import registered_org
from tests.registry.helpers import ORGS, Auth, created


@pytest.fixture
async def registry_client(
    registry: httpx.AsyncClient, projects: httpx.AsyncClient
) -> AsyncIterator[RegistryClient]:
    """The projects app asks the real registry app (overrides the stand-in of conftest)."""
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
    organization = await created(registry, auth("civil_affairs"), registered_org(**fields))
    return str(organization["id"])


async def make_abnormal(registry: httpx.AsyncClient, auth: Auth, org_id: str) -> None:
    """The bureau lists the organization as abnormal (活动异常): it is no longer eligible."""
    response = await registry.post(
        f"{ORGS}/{org_id}/status",
        json={"status": "abnormal", "reason": "通过登记的住所无法联系"},
        headers=auth("civil_affairs"),
    )
    assert response.status_code == 200, response.text
