"""Typed service clients: service token, request id, retries, problem details."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest

from services.projects.main import app as projects_app
from services.registry.main import app as registry_app
from shared.auth import decode_token
from shared.clients import (
    ProjectsClient,
    RegistryClient,
    ServiceCallError,
    ServiceUnavailable,
)
from shared.interservice import CaseDefinitionSummary
from shared.request_context import set_request_id
from shared.settings import get_settings
from tests.factories import registered_org


async def test_registry_client_reads_an_organization_as_a_service(
    registry: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    created = (
        await registry.post(
            "/api/v1/organizations", json=registered_org(), headers=auth("civil_affairs")
        )
    ).json()
    async with RegistryClient(
        "http://registry", caller="projects", transport=httpx.ASGITransport(app=registry_app)
    ) as client:
        organization = await client.get_organization(created["id"])
        assert organization.uscc == created["uscc"]
        assert organization.status == "active"
        with pytest.raises(ServiceCallError) as missing:
            await client.get_organization(uuid.uuid4())
    assert missing.value.status == 404
    assert missing.value.code == "organization_not_found"


async def test_projects_and_workflow_clients(
    projects: httpx.AsyncClient, workflow: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    fund = (
        await projects.post(
            "/api/v1/funds",
            json={
                "year": 2026,
                "name": f"专项资金{uuid.uuid4().hex[:6]}",
                "total_fen": 1_000_000_000,
                "pools": [
                    {
                        "name": "社工服务",
                        "purpose": "social_work_purchase",
                        "amount_fen": 500_000_000,
                    }
                ],
            },
            headers=auth("civil_affairs"),
        )
    ).json()
    async with ProjectsClient(
        "http://p", caller="workflow", transport=httpx.ASGITransport(app=projects_app)
    ) as client:
        summary = await client.get_fund(fund["id"])
    assert summary.pools[0].amount_fen == 500_000_000
    # The services read the workflow's case definitions over plain HTTP with a service token.
    listed = await workflow.get("/api/v1/case-definitions", headers=auth("service"))
    assert listed.status_code == 200, listed.text
    definitions = [CaseDefinitionSummary.model_validate(item) for item in listed.json()]
    assert {d.case_type for d in definitions} >= {"organization_registration", "payment_request"}


async def test_retries_idempotent_calls_and_propagates_identity() -> None:
    seen: list[httpx.Request] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            raise httpx.ConnectError("refused", request=request)
        if len(seen) == 2:
            return httpx.Response(503, json={"code": "unavailable"})
        return httpx.Response(
            200,
            json={
                "id": str(uuid.uuid4()),
                "name": "x",
                "kind": "community",
                "registration": "filed",
                "status": "active",
            },
        )

    settings = get_settings().model_copy(update={"http_backoff_seconds": 0.001})
    set_request_id("trace-42")
    async with RegistryClient(
        "http://r", caller="projects", settings=settings, transport=httpx.MockTransport(flaky)
    ) as client:
        await client.get_organization(uuid.uuid4())
    assert len(seen) == 3
    assert {r.headers["X-Request-ID"] for r in seen} == {"trace-42"}
    principal = decode_token(seen[0].headers["Authorization"].removeprefix("Bearer "))
    assert (principal.role, principal.sub) == ("service", "service:projects")


async def test_non_idempotent_posts_are_not_retried_and_give_up_cleanly() -> None:
    calls = 0

    def down(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(503)

    settings = get_settings().model_copy(update={"http_backoff_seconds": 0.001})
    async with RegistryClient(
        "http://r", caller="x", settings=settings, transport=httpx.MockTransport(down)
    ) as client:
        with pytest.raises(ServiceUnavailable):
            await client.request("POST", "/api/v1/anything", json={})
        assert calls == 1
        with pytest.raises(ServiceUnavailable):
            await client.request("POST", "/api/v1/anything", json={}, idempotency_key="k")
    assert calls == 1 + 1 + settings.http_retries
