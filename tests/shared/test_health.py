"""Operational endpoints answer on every service."""

from __future__ import annotations

import httpx
import pytest


@pytest.mark.parametrize("service", ["registry", "projects", "workflow"])
async def test_health_and_readiness(clients: dict[str, httpx.AsyncClient], service: str) -> None:
    client = clients[service]
    assert (await client.get("/healthz")).json() == {"status": "ok", "checks": {}}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}


async def test_metrics_expose_requests_queue_and_outbox(registry: httpx.AsyncClient) -> None:
    await registry.get("/healthz")
    await registry.get("/api/v1/organizations/00000000-0000-0000-0000-000000000000")
    text = (await registry.get("/metrics")).text
    # Labelled by route template, never by raw path (bounded cardinality).
    assert 'route="/api/v1/organizations/{organization_id}"' in text
    assert "00000000-0000" not in text
    assert (
        'sanshe_http_requests_total{method="GET",route="/healthz",service="registry",status="200"}'
        in text
    )
    assert "sanshe_queue_depth" in text
    assert 'sanshe_outbox_lag_seconds{service="registry"}' in text


async def test_the_openapi_documents_each_body_an_error_status_really_has(
    registry: httpx.AsyncClient,
) -> None:
    paths = (await registry.get("/openapi.json")).json()["paths"]
    # /readyz answers 503 with its own Health body, not a problem.
    unready = paths["/readyz"]["get"]["responses"]["503"]["content"]
    assert unready == {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}
    # Every other error is a problem, 503 included (a transaction aborted by a concurrent one).
    get = paths["/api/v1/organizations/{organization_id}"]["get"]["responses"]
    assert {code for code in get if int(code) >= 400} >= {"401", "403", "404", "422", "500", "503"}
    assert all(
        list(response["content"]) == ["application/problem+json"]
        for code, response in get.items()
        if int(code) >= 400
    )
