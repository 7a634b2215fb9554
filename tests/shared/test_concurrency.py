"""Optimistic concurrency: updates need `If-Match`; a stale version gets 412."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx

from tests.factories import registered_org


async def _created(registry: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    response = await registry.post("/api/v1/organizations", json=registered_org(), headers=headers)
    assert response.status_code == 201, response.text
    return response


async def test_update_without_if_match_is_428(
    registry: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    headers = auth("civil_affairs")
    org = (await _created(registry, headers)).json()
    response = await registry.patch(
        f"/api/v1/organizations/{org['id']}", json={"address": "x"}, headers=headers
    )
    assert response.status_code == 428
    assert response.json()["code"] == "if_match_required"


async def test_stale_if_match_is_412_and_changes_nothing(
    registry: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    headers = auth("civil_affairs")
    created = await _created(registry, headers)
    org_url = f"/api/v1/organizations/{created.json()['id']}"
    first_etag = created.headers["ETag"]
    updated = await registry.patch(
        org_url, json={"address": "阜南路1号"}, headers={**headers, "If-Match": first_etag}
    )
    assert updated.status_code == 200
    assert updated.headers["ETag"] != first_etag
    assert updated.json()["version"] == created.json()["version"] + 1

    stale = await registry.patch(
        org_url, json={"address": "长江中路2号"}, headers={**headers, "If-Match": first_etag}
    )
    assert stale.status_code == 412
    assert stale.json()["code"] == "version_mismatch"
    assert (await registry.get(org_url, headers=headers)).json()["address"] == "阜南路1号"


async def test_racing_updates_with_the_same_etag_let_one_win(
    registry: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    headers = auth("civil_affairs")
    created = await _created(registry, headers)
    org_url = f"/api/v1/organizations/{created.json()['id']}"
    etag = created.headers["ETag"]
    responses = await asyncio.gather(
        *(
            registry.patch(
                org_url, json={"address": f"地址{i}"}, headers={**headers, "If-Match": etag}
            )
            for i in range(8)
        )
    )
    assert sorted(r.status_code for r in responses).count(200) == 1
    assert {r.status_code for r in responses} == {200, 412}
