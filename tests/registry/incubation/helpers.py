"""Helpers of the incubation tests: the pipeline's steps over HTTP, as the bureau takes them."""

from __future__ import annotations

import itertools
import random
import uuid
from datetime import date
from typing import Any

import httpx

from shared.clock import shanghai_today
from tests.registry.helpers import Auth

INCUBATION = "/api/v1/incubation"
COMPETITIONS = f"{INCUBATION}/competitions"
HUBS = f"{INCUBATION}/hubs"
POOLS = f"{INCUBATION}/seed-pools"
INCUBATED = f"{INCUBATION}/organizations"

# Districts no other test (nor the demo's 340103) uses: one park per district.
_districts = itertools.count(random.SystemRandom().randrange(350_000, 650_000, 1000))


def unique_district() -> str:
    return f"{next(_districts):06d}"


def today() -> str:
    return shanghai_today().isoformat()


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.url}: {response.text}"
    return response.json()


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is the problem a person would read: status, code, a Chinese title."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert body["title"] and body["detail"]
    return body


async def competition(registry: httpx.AsyncClient, auth: Auth) -> dict[str, Any]:
    return ok(  # type: ignore[no-any-return]
        await registry.post(
            COMPETITIONS,
            json={"year": date.today().year, "name": f"社创大赛{uuid.uuid4().hex[:8]}"},
            headers=auth("civil_affairs"),
        ),
        201,
    )


async def awarded_entry(
    registry: httpx.AsyncClient, auth: Auth, organization_id: str | None = None, **entrant: str
) -> tuple[str, dict[str, Any]]:
    """An entry of a new competition, scored and awarded: (entries path, entry)."""
    bureau = auth("civil_affairs")
    contest = await competition(registry, auth)
    base = f"{COMPETITIONS}/{contest['id']}/entries"
    body = {"project_title": "邻里互助计划", **entrant}
    if organization_id is not None:
        body["organization_id"] = organization_id
    entry = ok(await registry.post(base, json=body, headers=bureau), 201)
    awarded = ok(
        await registry.put(
            f"{base}/{entry['id']}/result", json={"score": 92, "award": "first"}, headers=bureau
        )
    )
    return base, awarded


async def incubate(registry: httpx.AsyncClient, auth: Auth, organization_id: str) -> dict[str, Any]:
    """Admit the organization through an awarded competition entry; its incubation."""
    base, entry = await awarded_entry(registry, auth, organization_id)
    return ok(  # type: ignore[no-any-return]
        await registry.post(
            f"{base}/{entry['id']}/admission",
            json={"admitted_on": today()},
            headers=auth("civil_affairs"),
        ),
        201,
    )
