"""ASGI middleware every service runs: request id, access log and metrics, body limit,
OPTIONS answers and, when configured, CORS."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

import fastapi.routing
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import metrics
from shared.errors import problem_response
from shared.request_context import REQUEST_ID_HEADER, set_request_id

logger = logging.getLogger("sanshe.http")


_REQUEST_ID_KEY = REQUEST_ID_HEADER.lower().encode()
_REQUEST_ID_NAME = REQUEST_ID_HEADER.encode()
# Operational probes: measured, never logged (they would drown the access log).
_UNLOGGED = frozenset({"/healthz", "/readyz", "/metrics"})
_INFO = logging.INFO


class RequestContextMiddleware:
    """Binds the request id, echoes it in the response, logs and measures the request.

    It runs on every request, so it does the least it can there: the labelled metric
    children are looked up once per (method, route, status) and kept, and the access
    record goes straight to the handlers (`Logger.info` would look for the caller's
    frame, which no formatter here prints).
    """

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._histograms: dict[tuple[str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = b""
        for name, value in scope.get("headers", ()):
            # The last one wins, as in the dict the headers were once read into.
            if name == _REQUEST_ID_KEY:
                given = value
        request_id = set_request_id(given.decode("latin-1"))
        echoed = (_REQUEST_ID_NAME, request_id.encode())
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [*message.get("headers", ()), echoed]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._record(scope, status, time.perf_counter() - started)

    def _record(self, scope: Scope, status: int, elapsed: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        method = scope["method"]
        counter = self._counters.get((method, template, status))
        if counter is None:
            counter = metrics.http_requests.labels(self.service, method, template, str(status))
            self._counters[(method, template, status)] = counter
        histogram = self._histograms.get((method, template))
        if histogram is None:
            histogram = metrics.http_latency.labels(self.service, method, template)
            self._histograms[(method, template)] = histogram
        counter.inc()
        histogram.observe(elapsed)
        if template not in _UNLOGGED and logger.isEnabledFor(_INFO):
            record = logger.makeRecord(
                logger.name,
                _INFO,
                __file__,
                0,
                "request",
                (),
                None,
                extra={
                    "method": method,
                    "route": template,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            logger.handle(record)


class BodyTooLarge(HTTPException):
    """A streamed body went over the limit while the route was reading it.

    An HTTPException on purpose: FastAPI turns any other exception raised while it reads
    a body (JSON or multipart) into a 400 "error parsing the body"; an HTTPException it
    lets through, and `shared.errors` renders it as the same 413 problem, with this code,
    as a declared oversized body gets.
    """

    code = "body_too_large"

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"The request body exceeds {max_bytes} bytes")


class BodyLimitMiddleware:
    """Answers 413 for bodies over the limit, declared or streamed."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = None
        chunked = False
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                declared = value
            elif name == b"transfer-encoding":
                chunked = True
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        if not chunked and (declared is None or declared == b"0"):
            # No body (most GETs): nothing to count, so no wrapper to pay for.
            await self.app(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        started = False

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            # Raised where no route's handler can answer it: a middleware that reads the
            # body before the route does (idempotency keys) would turn it into a 500.
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            Request(scope),
            status=413,
            code="body_too_large",
            title="Payload too large",
            detail=f"The request body exceeds {self.max_bytes} bytes",
        )
        await response(scope, receive, send)


class OptionsMiddleware:
    """Answers `OPTIONS` on any path the app serves: 204 with the methods that path takes.

    Without it the router answered 405 with an `Allow` naming the methods of whichever
    route matched first. A CORS preflight is answered by `CORSMiddleware` before this
    (when origins are configured); one that reaches here gets no CORS headers, which a
    browser reads as a refusal. A path no route serves falls through to the 404.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "OPTIONS" or "app" not in scope:
            await self.app(scope, receive, send)
            return
        methods = allowed_methods(scope["app"].router.routes, scope)
        if not methods:
            await self.app(scope, receive, send)
            return
        response = Response(status_code=204, headers={"Allow": ", ".join(methods)})
        await response(scope, receive, send)


def allowed_methods(routes: list[BaseRoute], scope: Scope) -> list[str]:
    """Every method some route serves at this scope's path, OPTIONS included."""
    methods: set[str] = set()
    for route in _flat_routes(routes):
        route_methods = getattr(route, "methods", None)
        if not route_methods:
            continue
        match, _ = route.matches(scope)
        if match is not Match.NONE:
            methods |= set(route_methods)
    return sorted(methods | {"OPTIONS"}) if methods else []


def _flat_routes(routes: list[BaseRoute]) -> Iterable[Any]:
    """Each route with its full path: FastAPI >= 0.16x keeps an included router as one
    entry and flattens it through `iter_route_contexts`; earlier versions list them all."""
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    return routes if flatten is None else flatten(routes)


# What a browser page may send and read across origins (beyond the CORS-safelisted ones).
CORS_ALLOWED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
CORS_ALLOWED_HEADERS = (
    "Authorization",
    "Content-Type",
    "Accept-Language",
    "Idempotency-Key",
    "If-Match",
    REQUEST_ID_HEADER,
)
CORS_EXPOSED_HEADERS = ("ETag", "Location", "Retry-After", "Content-Disposition", REQUEST_ID_HEADER)


def cors_middleware_options(origins: list[str], *, max_age: int) -> dict[str, Any]:
    """`CORSMiddleware`'s arguments for these origins. Tokens travel in `Authorization`,
    not cookies, so credentials are never allowed (and `*` stays a plain wildcard)."""
    return {
        "allow_origins": origins,
        "allow_methods": list(CORS_ALLOWED_METHODS),
        "allow_headers": list(CORS_ALLOWED_HEADERS),
        "expose_headers": list(CORS_EXPOSED_HEADERS),
        "allow_credentials": False,
        "max_age": max_age,
    }


__all__ = [
    "BodyLimitMiddleware",
    "CORSMiddleware",
    "OptionsMiddleware",
    "RequestContextMiddleware",
    "cors_middleware_options",
]
