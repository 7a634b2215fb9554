"""The least an HTTP GET by id can do on this stack, with and without the framework.

    uvicorn bench._bare_get:app             (BARE_GET_DSN=postgresql://...)
    uvicorn bench._bare_get:fastapi_app

`app`: no framework, authentication, scope, logging, metrics or schema; one ASGI
callable that runs the endpoint's SELECT on an asyncpg pool and answers the row as
JSON. `fastapi_app`: the same SELECT in a FastAPI route with the registry's response
model and nothing else (no middleware, no token). The registry benchmark runs both as
it runs the registry (one uvicorn process, the same client), to show how much of the
gap to the bare-asyncpg ceiling is HTTP in Python and how much the framework.
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

import asyncpg
from fastapi import FastAPI, HTTPException

from services.registry.organizations.schemas import OrganizationOut

# The ceiling (bench.registry_api) runs this very statement on a bare asyncpg pool.
GET_BY_ID_SQL = "SELECT * FROM registry.organization WHERE id = $1"
_pool: asyncpg.Pool | None = None


async def _open() -> asyncpg.Pool:
    global _pool
    if _pool is None:
        _pool = await asyncpg.create_pool(
            os.environ["BARE_GET_DSN"], min_size=1, max_size=int(os.environ.get("POOL", "16"))
        )
    return _pool


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await receive()  # lifespan.startup
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        if _pool is not None:
            await _pool.close()
        await send({"type": "lifespan.shutdown.complete"})
        return
    pool = await _open()
    status, body = 404, b"{}"
    try:
        row = await pool.fetchrow(GET_BY_ID_SQL, uuid.UUID(scope["path"].rsplit("/", 1)[-1]))
    except ValueError:
        row = None
    if row is not None:
        status, body = 200, json.dumps(dict(row), default=str, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


fastapi_app = FastAPI()


@fastapi_app.get("/api/v1/organizations/{organization_id}", response_model=OrganizationOut)
async def get_organization(organization_id: uuid.UUID) -> OrganizationOut:
    row = await (await _open()).fetchrow(GET_BY_ID_SQL, organization_id)
    if row is None:
        raise HTTPException(404)
    return OrganizationOut.model_validate(dict(row))
