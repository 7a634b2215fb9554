"""`Idempotency-Key` for POST commands (draft-ietf-httpapi-idempotency-key-header).

A client that retries a POST with the same key and the same body gets the first
response again, without the command running twice; the same key with a different body
is refused with 422, and a retry that arrives while the first is still running gets
409. Keys are scoped to the caller's whole principal (`Principal.identity`: role, sub and
scope), so two callers never collide, even one person acting for two organizations. The
request a key stands for is its method, path, query string and body.

The key row is inserted and committed *before* the command runs: that insert is what
serialises concurrent retries. If the process dies between the command's commit and
the recording of its response, the key stays "in progress"; after
`_STALE_AFTER` a retry may take it over. A 5xx response is never stored, so a client
can retry after a server fault.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from sqlalchemy import Table, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth import decode_token
from shared.db import Database, utcnow
from shared.errors import ProblemError, Unauthorized, problem_response

HEADER = "idempotency-key"
_STALE_AFTER = timedelta(minutes=2)
_REPLAYED_HEADERS = {"content-type", "location", "etag"}


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, *, database: Database, table: Table) -> None:
        self.app = app
        self.database = database
        self.table = table

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        key = request.headers.get(HEADER)
        principal = _principal_of(request)
        if not key or principal is None:
            # No key, or no valid token (the endpoint itself answers 401): nothing to remember.
            await self.app(scope, receive, send)
            return
        if len(key) > 200:
            await problem_response(
                request,
                status=400,
                code="idempotency_key_invalid",
                title="Bad request",
                detail="Idempotency-Key must be at most 200 characters",
            )(scope, receive, send)
            return

        body = await _read_body(receive)
        request_hash = hashlib.sha256(
            b"\n".join(
                [scope["method"].encode(), scope["path"].encode(), scope["query_string"], body]
            )
        ).hexdigest()

        try:
            stored = await self._claim(principal, key, scope, request_hash)
        except ProblemError as exc:
            await problem_response(
                request, status=exc.status, code=exc.code, title=exc.title, detail=exc.detail
            )(scope, receive, send)
            return
        if stored is not None:
            await _replay(stored, send)
            return

        captured = _CapturedResponse()
        finished = False

        async def capture(message: Message) -> None:
            nonlocal finished
            captured.feed(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                # Remember the answer before the client has all of it: a client that
                # retries the moment its answer arrives (or got cut off at the last byte)
                # must find it replayable, not "still in progress".
                await self._finish(principal, key, captured)
                finished = True
            await send(message)

        try:
            await self.app(scope, _replay_body(body, receive), capture)
        finally:
            if not finished:
                await self._finish(principal, key, captured)

    async def _claim(
        self, principal: str, key: str, scope: Scope, request_hash: str
    ) -> dict[str, Any] | None:
        """Insert the key (returns None: run the command) or return the stored response."""
        table = self.table
        async with self.database.transaction() as session:
            inserted = await session.execute(
                pg_insert(table)
                .values(
                    principal=principal,
                    key=key,
                    method=scope["method"],
                    path=scope["path"],
                    request_hash=request_hash,
                )
                .on_conflict_do_nothing()
                .returning(table.c.key)
            )
            if inserted.first() is not None:
                return None
            row = (
                await session.execute(
                    select(table)
                    .where(table.c.principal == principal, table.c.key == key)
                    .with_for_update()
                )
            ).one()
            if row.request_hash != request_hash:
                raise _KeyReused(
                    "This Idempotency-Key was used with a different request",
                    code="idempotency_key_reused",
                )
            if row.status_code is None:
                if utcnow() - row.created_at < _STALE_AFTER:
                    raise _InProgress(
                        "A request with this Idempotency-Key is still being processed",
                        code="idempotency_in_progress",
                    )
                await session.execute(
                    update(table)
                    .where(table.c.principal == principal, table.c.key == key)
                    .values(created_at=utcnow())
                )
                return None
            return {
                "status": row.status_code,
                "headers": row.response_headers or {},
                "body": row.response_body or "",
            }

    async def _finish(self, principal: str, key: str, captured: _CapturedResponse) -> None:
        table = self.table
        where = (table.c.principal == principal) & (table.c.key == key)
        async with self.database.transaction() as session:
            if captured.status is None or captured.status >= 500:
                await session.execute(delete(table).where(where))
                return
            await session.execute(
                update(table)
                .where(where)
                .values(
                    status_code=captured.status,
                    response_headers=captured.headers,
                    response_body=captured.body.decode("utf-8", errors="replace"),
                    completed_at=utcnow(),
                )
            )


async def purge_expired_keys(database: Database, table: Table, *, older_than: timedelta) -> int:
    """Forget keys older than the retention period (clients retry within hours, not days)."""
    async with database.transaction() as session:
        result = await session.execute(
            delete(table).where(table.c.created_at < utcnow() - older_than)
        )
    return int(getattr(result, "rowcount", 0) or 0)


class _KeyReused(ProblemError):
    status = 422
    title = "Idempotency key reused"


class _InProgress(ProblemError):
    status = 409
    title = "Request in progress"


class _CapturedResponse:
    def __init__(self) -> None:
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self.body = b""

    def feed(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            for name, value in message.get("headers", []):
                decoded = name.decode("latin-1").lower()
                if decoded in _REPLAYED_HEADERS:
                    self.headers[decoded] = value.decode("latin-1")
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")


def _principal_of(request: Request) -> str | None:
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    try:
        principal = decode_token(token)
    except Unauthorized:
        return None
    return principal.identity


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay_body(body: bytes, receive_next: Receive) -> Receive:
    """Hand the buffered body to the app once, then pass on the client's real messages."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive_next()

    return receive


async def _replay(stored: dict[str, Any], send: Send) -> None:
    body = stored["body"].encode()
    headers = [(k.encode(), v.encode()) for k, v in stored["headers"].items()]
    headers.append((b"content-length", str(len(body)).encode()))
    headers.append((b"idempotent-replayed", b"true"))
    await send({"type": "http.response.start", "status": stored["status"], "headers": headers})
    await send({"type": "http.response.body", "body": body})
