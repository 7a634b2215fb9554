"""The least an HTTP GET by id can do on this stack: uvicorn, asyncpg, JSON, nothing else.

    uvicorn bench._bare_get:app   (BARE_GET_DSN=postgresql://...)

No framework, authentication, scope, logging, metrics or schema: one ASGI callable
that runs the endpoint's SELECT on an asyncpg pool and answers the row as JSON. The
registry benchmark runs it in the same way as the registry (one uvicorn process, the
same client) to show how much of the gap to the bare-asyncpg ceiling is HTTP in
Python itself.
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

import asyncpg

_SQL = "SELECT * FROM registry.organization WHERE id = $1"
_pool: asyncpg.Pool | None = None


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    global _pool
    if scope["type"] == "lifespan":
        await receive()  # lifespan.startup
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        if _pool is not None:
            await _pool.close()
        await send({"type": "lifespan.shutdown.complete"})
        return
    if _pool is None:
        _pool = await asyncpg.create_pool(
            os.environ["BARE_GET_DSN"], min_size=1, max_size=int(os.environ.get("POOL", "16"))
        )
    status, body = 404, b"{}"
    try:
        row = await _pool.fetchrow(_SQL, uuid.UUID(scope["path"].rsplit("/", 1)[-1]))
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
