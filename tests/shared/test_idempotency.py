"""`Idempotency-Key`: a retried POST returns the first response and runs once."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable

import httpx
from sqlalchemy import func, select

from services.registry.models import Organization
from services.registry.models import infra as registry_infra
from shared.db import database
from tests.factories import registered_org


async def _count_named(name: str) -> int:
    async with database.transaction() as session:
        return (
            await session.execute(select(func.count()).where(Organization.name == name))
        ).scalar_one()


async def test_same_key_same_body_replays_the_first_response(
    registry: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    headers = {**auth("civil_affairs", sub="clerk-1"), "Idempotency-Key": uuid.uuid4().hex}
    body = registered_org()
    first = await registry.post("/api/v1/organizations", json=body, headers=headers)
    second = await registry.post("/api/v1/organizations", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.headers["ETag"] == first.headers["ETag"]
    assert await _count_named(body["name"]) == 1


async def test_same_key_different_body_is_refused(
    registry: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    headers = {**auth("civil_affairs", sub="clerk-2"), "Idempotency-Key": uuid.uuid4().hex}
    assert (
        await registry.post("/api/v1/organizations", json=registered_org(), headers=headers)
    ).status_code == 201
    other = registered_org()
    refused = await registry.post("/api/v1/organizations", json=other, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["code"] == "idempotency_key_reused"
    assert await _count_named(other["name"]) == 0


async def test_keys_are_scoped_to_the_caller(
    registry: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    key = uuid.uuid4().hex
    first = await registry.post(
        "/api/v1/organizations",
        json=registered_org(),
        headers={**auth("civil_affairs", sub="clerk-a"), "Idempotency-Key": key},
    )
    second = await registry.post(
        "/api/v1/organizations",
        json=registered_org(),
        headers={**auth("civil_affairs", sub="clerk-b"), "Idempotency-Key": key},
    )
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]


async def test_concurrent_retries_run_the_command_once(
    registry: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    headers = {**auth("civil_affairs", sub="clerk-3"), "Idempotency-Key": uuid.uuid4().hex}
    body = registered_org()
    responses = await asyncio.gather(
        *(registry.post("/api/v1/organizations", json=body, headers=headers) for _ in range(5))
    )
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}
    assert 201 in statuses
    assert all(
        r.json()["code"] == "idempotency_in_progress" for r in responses if r.status_code == 409
    )
    assert await _count_named(body["name"]) == 1


async def test_a_failed_request_is_not_remembered(
    registry: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    """A 4xx answer is replayed too (the request itself was wrong), but never a 5xx."""
    headers = {**auth("civil_affairs", sub="clerk-4"), "Idempotency-Key": uuid.uuid4().hex}
    bad = registered_org(uscc="52340103MJ0000018A")
    first = await registry.post("/api/v1/organizations", json=bad, headers=headers)
    again = await registry.post("/api/v1/organizations", json=bad, headers=headers)
    assert first.status_code == again.status_code == 422
    assert again.json() == first.json()


async def test_expired_keys_are_purged(
    registry: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from services.registry.models import infra
    from shared.idempotency import purge_expired_keys

    key = uuid.uuid4().hex
    headers = {**auth("civil_affairs", sub="clerk-5"), "Idempotency-Key": key}
    assert (
        await registry.post("/api/v1/organizations", json=registered_org(), headers=headers)
    ).status_code == 201
    table = infra.idempotency
    async with database.transaction() as session:
        await session.execute(
            update(table)
            .where(table.c.key == key)
            .values(created_at=func.now() - timedelta(hours=25))
        )
    assert await purge_expired_keys(database, table, older_than=timedelta(hours=24)) >= 1
    async with database.transaction() as session:
        remaining = (
            await session.execute(select(func.count()).where(table.c.key == key))
        ).scalar_one()
    assert remaining == 0


async def test_the_answer_is_remembered_before_the_client_receives_it(
    auth: Callable[..., dict[str, str]],
) -> None:
    # Straight through the app's ASGI stack, as uvicorn drives it: at the moment the last
    # byte of the answer goes out, a retry must already find the stored answer.
    from services.registry.main import app

    key = uuid.uuid4().hex
    headers = {**auth("civil_affairs", sub="clerk-quick"), "Idempotency-Key": key}
    body = json.dumps(registered_org()).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/organizations",
        "raw_path": b"/api/v1/organizations",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"host", b"registry")]
        + [(name.lower().encode(), value.encode()) for name, value in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8001),
        "state": {},
    }
    delivered = False

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": body, "more_body": False}

    stored_when_delivered: list[int | None] = []
    status: list[int] = []

    async def send(message: dict[str, object]) -> None:
        nonlocal delivered
        if message["type"] == "http.response.start":
            status.append(int(message["status"]))  # type: ignore[call-overload]
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            table = registry_infra.idempotency
            async with database.transaction() as session:
                stored_when_delivered.append(
                    (
                        await session.execute(select(table.c.status_code).where(table.c.key == key))
                    ).scalar_one_or_none()
                )
            delivered = True

    await app(scope, receive, send)
    assert delivered and status == [201]
    assert stored_when_delivered == [201]
