"""One transaction per request: a commit that fails is a 500 problem, never a 2xx."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from fastapi import APIRouter
from sqlalchemy import select, text

from services.registry.models import infra as registry_infra
from shared.app import create_service_app
from shared.db import SessionDep, database
from shared.outbox import record_event


def _client(router: APIRouter) -> httpx.AsyncClient:
    """A service app around `router`, called in-process; server errors come back as 5xx."""
    app = create_service_app(
        service="transaction-test",
        title="transaction test",
        description="",
        routers=[router],
        infra=registry_infra,
        run_relay=False,
    )
    # No lifespan: the routes need only the database, and the shared engine stays open.
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        base_url="http://testserver",
    )


def _app_whose_commit_fails(subject: str) -> httpx.AsyncClient:
    router = APIRouter()

    @router.post("/commit-fails")
    async def commit_fails(session: SessionDep) -> dict[str, bool]:
        # The handler's writes succeed; only the commit fails, on a deferred constraint,
        # which is exactly the case a commit after the response would answer with 200.
        await session.execute(
            text(
                "CREATE TEMP TABLE deferred_check (n int UNIQUE DEFERRABLE INITIALLY DEFERRED)"
                " ON COMMIT DROP"
            )
        )
        await session.execute(text("INSERT INTO deferred_check VALUES (1), (1)"))
        await record_event(
            session,
            registry_infra.outbox,
            event_type="organization.updated",
            subject_type="organization",
            subject_id=subject,
            data={},
        )
        return {"ok": True}

    return _client(router)


async def test_a_failed_commit_answers_500_and_keeps_nothing() -> None:
    subject = str(uuid.uuid4())
    async with _app_whose_commit_fails(subject) as client:
        response = await client.post("/commit-fails", headers={"X-Request-ID": "commit-1"})

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "internal_error"
    assert response.json()["request_id"] == "commit-1"
    outbox = registry_infra.outbox
    async with database.transaction() as session:
        kept = (
            await session.execute(select(outbox.c.id).where(outbox.c.subject_id == subject))
        ).first()
    assert kept is None


def _app_whose_requests_deadlock(
    subject: str, both_locked_first: asyncio.Barrier
) -> httpx.AsyncClient:
    router = APIRouter()

    @router.post("/locks/{first}/{second}")
    async def lock_two(first: int, second: int, session: SessionDep) -> dict[str, bool]:
        # Each request writes, then takes two locks; two requests taking them in opposite
        # orders deadlock for real, and PostgreSQL aborts one of them (40P01).
        # (Each request has its own subject: two events of one subject would queue on
        # the subject's sequence before reaching the locks.)
        await record_event(
            session,
            registry_infra.outbox,
            event_type="organization.updated",
            subject_type="organization",
            subject_id=f"{subject}-{first}",
            data={"first": first},
        )
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": first})
        await both_locked_first.wait()
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": second})
        return {"ok": True}

    return _client(router)


async def test_a_transaction_aborted_by_a_deadlock_is_a_503_to_retry_and_keeps_nothing() -> None:
    subject = str(uuid.uuid4())
    keys = [uuid.uuid4().int % 2**62 for _ in range(2)]
    async with _app_whose_requests_deadlock(subject, asyncio.Barrier(2)) as client:
        responses = await asyncio.gather(
            client.post(f"/locks/{keys[0]}/{keys[1]}"),
            client.post(f"/locks/{keys[1]}/{keys[0]}"),
        )
    by_status = {response.status_code: response for response in responses}
    assert sorted(by_status) == [200, 503]
    refused = by_status[503]
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["Retry-After"] == "1"
    assert refused.json()["code"] == "concurrent_update"
    outbox = registry_infra.outbox
    async with database.transaction() as session:
        kept = (
            await session.execute(
                select(outbox.c.subject_id).where(outbox.c.subject_id.startswith(subject))
            )
        ).scalars()
        # Only the request that completed left its event.
        assert list(kept) == [f"{subject}-{by_status[200].url.path.split('/')[2]}"]
