"""Authentication (401) and role/scope authorization (403/404)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest

from shared.auth import Role, mint_token
from shared.settings import get_settings
from tests.factories import OTHER_STREET, STREET, filed_org, registered_org
from tests.support.polling import poll


def _problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


async def test_no_token_is_401(registry: httpx.AsyncClient) -> None:
    response = await registry.get("/api/v1/organizations")
    _problem(response, 401, "token_missing")
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_expired_token_is_401(registry: httpx.AsyncClient) -> None:
    token = mint_token(sub="old", role=Role.civil_affairs, ttl=timedelta(seconds=-120))
    response = await registry.get(
        "/api/v1/organizations", headers={"Authorization": f"Bearer {token}"}
    )
    _problem(response, 401, "token_expired")


async def test_tampered_token_is_401(registry: httpx.AsyncClient) -> None:
    token = mint_token(sub="x", role=Role.street_office, street_code=STREET)
    header, _payload, signature = token.split(".")
    forged = jwt.encode(
        {"sub": "x", "role": "civil_affairs", "exp": datetime.now(UTC) + timedelta(hours=1)}, "k"
    )
    tampered = f"{header}.{forged.split('.')[1]}.{signature}"
    _problem(
        await registry.get(
            "/api/v1/organizations", headers={"Authorization": f"Bearer {tampered}"}
        ),
        401,
        "token_invalid",
    )


@pytest.mark.parametrize("algorithm", ["HS512", "none"])
async def test_wrong_algorithm_is_401(registry: httpx.AsyncClient, algorithm: str) -> None:
    settings = get_settings()
    claims = {
        "sub": "x",
        "role": "civil_affairs",
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "exp": datetime.now(UTC) + timedelta(hours=1),
    }
    key = settings.jwt_secret if algorithm != "none" else None
    token = jwt.encode(claims, key, algorithm=algorithm)
    _problem(
        await registry.get("/api/v1/organizations", headers={"Authorization": f"Bearer {token}"}),
        401,
        "token_invalid",
    )


async def test_scoped_role_without_its_scope_claim_is_401(registry: httpx.AsyncClient) -> None:
    token = mint_token(sub="street", role=Role.street_office)
    _problem(
        await registry.get("/api/v1/organizations", headers={"Authorization": f"Bearer {token}"}),
        401,
        "token_scope_missing",
    )


async def test_wrong_role_is_403(
    registry: httpx.AsyncClient, projects: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    _problem(
        await registry.post(
            "/api/v1/organizations", json=registered_org(), headers=auth("auditor")
        ),
        403,
        "role_forbidden",
    )
    _problem(await projects.get("/api/v1/funds", headers=auth("evaluator")), 403, "role_forbidden")


async def test_street_office_sees_and_edits_only_its_own_street(
    registry: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    bureau = auth("civil_affairs")
    mine = (
        await registry.post("/api/v1/organizations", json=filed_org(STREET), headers=bureau)
    ).json()
    theirs = (
        await registry.post("/api/v1/organizations", json=filed_org(OTHER_STREET), headers=bureau)
    ).json()
    street = auth("street_office", street_code=STREET)

    assert (
        await registry.get(f"/api/v1/organizations/{mine['id']}", headers=street)
    ).status_code == 200
    _problem(
        await registry.get(f"/api/v1/organizations/{theirs['id']}", headers=street),
        404,
        "organization_not_found",
    )
    _problem(
        await registry.patch(
            f"/api/v1/organizations/{theirs['id']}",
            json={"address": "x"},
            headers={**street, "If-Match": '"1"'},
        ),
        404,
        "organization_not_found",
    )
    _problem(
        await registry.post("/api/v1/organizations", json=filed_org(OTHER_STREET), headers=street),
        403,
        "scope_forbidden",
    )
    listed = (
        await registry.get("/api/v1/organizations", params={"page_size": 200}, headers=street)
    ).json()
    assert {item["street_code"] for item in listed["items"]} == {STREET}
    assert all(item["registration"] == "filed" for item in listed["items"])


async def test_id_numbers_are_masked_for_roles_that_may_not_see_them(
    registry: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    created = (
        await registry.post(
            "/api/v1/organizations", json=registered_org(), headers=auth("civil_affairs")
        )
    ).json()
    assert created["legal_rep_id_number"] == "11010519491231002X"
    seen = (
        await registry.get(f"/api/v1/organizations/{created['id']}", headers=auth("auditor"))
    ).json()
    assert seen["legal_rep_id_number"] == "110105**********2X"


@pytest.fixture
def no_leeway(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("JWT_LEEWAY_SECONDS", "0")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


async def test_a_remembered_token_is_still_refused_once_it_expires(
    registry: httpx.AsyncClient, no_leeway: None
) -> None:
    # Verified tokens are remembered (shared.auth._verified); the memory must end with
    # the token's own expiry, not outlive it.
    token = mint_token(sub="brief", role=Role.civil_affairs, ttl=timedelta(seconds=2))
    headers = {"Authorization": f"Bearer {token}"}
    assert (await registry.get("/api/v1/organizations/stats", headers=headers)).status_code == 200
    assert (await registry.get("/api/v1/organizations/stats", headers=headers)).status_code == 200

    async def refused() -> httpx.Response | None:
        response = await registry.get("/api/v1/organizations/stats", headers=headers)
        return response if response.status_code != 200 else None

    _problem(await poll(refused, within=10), 401, "token_expired")


async def test_a_remembered_token_is_refused_after_the_secret_changes(
    registry: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = mint_token(sub="rotated", role=Role.civil_affairs)
    headers = {"Authorization": f"Bearer {token}"}
    assert (await registry.get("/api/v1/organizations/stats", headers=headers)).status_code == 200
    monkeypatch.setenv("JWT_SECRET", "a-new-secret-that-is-long-enough-for-hs256-use")
    get_settings.cache_clear()
    try:
        response = await registry.get("/api/v1/organizations/stats", headers=headers)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    _problem(response, 401, "token_invalid")
