"""Every error is RFC 9457 problem+json with a stable code and the request id."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest

from shared.settings import get_settings
from tests.factories import registered_org, streamed


async def test_validation_errors_list_every_field(
    registry: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    body = registered_org(registered_funds_fen=-1, kind="bank", district_code="34")
    response = await registry.post(
        "/api/v1/organizations",
        json=body,
        headers={**auth("civil_affairs"), "X-Request-ID": "req-123"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert problem["type"].endswith("/validation_error")
    assert problem["status"] == 422
    assert problem["request_id"] == "req-123" == response.headers["X-Request-ID"]
    assert problem["instance"] == "/api/v1/organizations"
    fields = {error["field"] for error in problem["errors"]}
    assert {"body.registered_funds_fen", "body.kind", "body.district_code"} <= fields


async def test_business_rule_errors_carry_their_own_codes(
    registry: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    # A valid association code, offered for a service institution of another district.
    body = registered_org(
        uscc="51340103MJ0000018A", district_code="340104", street_code="340104001"
    )
    problem = (
        await registry.post("/api/v1/organizations", json=body, headers=auth("civil_affairs"))
    ).json()
    assert problem["code"] == "invalid_codes"
    assert {e["code"] for e in problem["errors"]} == {
        "uscc_kind_mismatch",
        "uscc_division_mismatch",
    }


@pytest.mark.parametrize(
    ("service", "path"),
    [
        ("registry", "/api/v1/organizations"),
        ("projects", "/api/v1/funds"),
        ("workflow", "/api/v1/cases"),
    ],
)
@pytest.mark.parametrize("body", [b'{"name": ', b"\xff\xfe{}", b"{'name': 1}", b"[1, 2"])
async def test_malformed_json_is_a_problem_in_every_service(
    clients: dict[str, httpx.AsyncClient],
    auth: Callable[..., dict[str, str]],
    service: str,
    path: str,
    body: bytes,
) -> None:
    role = "organization" if service == "workflow" else "civil_affairs"
    response = await clients[service].post(
        path,
        content=body,
        headers={**auth(role, org_id=str(uuid.uuid4())), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "malformed_json"
    assert response.json()["instance"] == path


async def test_unknown_route_and_id_are_problems(
    registry: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    missing = await registry.get("/api/v1/nothing-here", headers=auth("civil_affairs"))
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    bad_id = await registry.get("/api/v1/organizations/not-a-uuid", headers=auth("civil_affairs"))
    assert bad_id.status_code == 422
    assert bad_id.json()["errors"][0]["field"] == "path.organization_id"


@pytest.mark.parametrize("send", ["declared", "streamed"])
async def test_oversized_body_is_413(
    registry: httpx.AsyncClient, auth: Callable[..., dict[str, str]], send: str
) -> None:
    limit = get_settings().max_body_bytes
    data = b"x" * (limit + 1)
    response = await registry.post(
        "/api/v1/organizations",
        content=data if send == "declared" else streamed(data),
        headers={**auth("civil_affairs"), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "body_too_large"


async def test_request_id_is_generated_when_absent(registry: httpx.AsyncClient) -> None:
    response = await registry.get("/api/v1/organizations")
    assert len(response.headers["X-Request-ID"]) == 32
    assert response.json()["request_id"] == response.headers["X-Request-ID"]


async def test_a_nul_character_is_a_422_and_stores_nothing(
    registry: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    # JSON and query strings can carry U+0000; PostgreSQL text cannot (found by fuzzing).
    body = registered_org(legal_rep_name="张\u0000三")
    created = await registry.post("/api/v1/organizations", json=body, headers=auth("civil_affairs"))
    assert created.status_code == 422
    assert created.headers["content-type"] == "application/problem+json"
    assert created.json()["code"] == "unsupported_character"
    found = await registry.get(
        "/api/v1/organizations", params={"uscc_prefix": body["uscc"]}, headers=auth("auditor")
    )
    assert found.json()["total"] == 0
    searched = await registry.get(
        "/api/v1/organizations", params={"name": "协会\u0000"}, headers=auth("auditor")
    )
    assert searched.status_code == 422
    assert searched.json()["code"] == "unsupported_character"
