"""The application factory every service uses, so that all three behave alike.

It wires logging, problem+json errors, request ids, body limits, idempotency keys,
OPTIONS answers, gzip, CORS (when origins are configured),
the operational endpoints, the queue connection and the outbox relay.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import fastapi.routing
from fastapi import APIRouter, FastAPI
from starlette._utils import get_route_path
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from shared.db import database
from shared.errors import install_problem_handlers
from shared.health import operational_router
from shared.idempotency import IdempotencyMiddleware, purge_expired_keys
from shared.jobs import create_queue
from shared.logging import configure_logging
from shared.middleware import (
    BodyLimitMiddleware,
    CORSMiddleware,
    OptionsMiddleware,
    RequestContextMiddleware,
    cors_middleware_options,
)
from shared.openapi import install_openapi
from shared.outbox import InfraTables, OutboxRelay
from shared.settings import get_settings
from shared.vocabulary import Labels, vocabulary_router

# Routers carry the full prefix themselves (`APIRouter(prefix=f"{API_PREFIX}/...")`), so
# that a route's own path is its public template: metrics and logs label by it.
API_PREFIX = "/api/v1"
_HOUSEKEEPING_INTERVAL_SECONDS = 3600
logger = logging.getLogger("sanshe.app")
# FastAPI >= 0.16x keeps an included router as one entry of the app's routes.
_IncludedRouter: Any = getattr(fastapi.routing, "_IncludedRouter", type(None))


async def _housekeeping(infra: InfraTables) -> None:
    ttl = timedelta(hours=get_settings().idempotency_ttl_hours)
    while True:
        try:
            await purge_expired_keys(database, infra.idempotency, older_than=ttl)
        except Exception:
            logger.exception("housekeeping failed; will retry")
        await asyncio.sleep(_HOUSEKEEPING_INTERVAL_SECONDS)


def create_service_app(
    *,
    service: str,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    infra: InfraTables,
    run_relay: bool = True,
    on_startup: Sequence[Callable[[], Awaitable[None]]] = (),
    background: Sequence[Callable[[], Coroutine[Any, Any, None]]] = (),
    vocabulary: Labels | None = None,
) -> FastAPI:
    """A service app: problem+json, auth-ready routers, idempotency, health, metrics.

    `on_startup` steps run before the app serves; `background` loops (each runs until
    cancelled) run beside the outbox relay for the app's lifetime. `vocabulary` (the
    service's Chinese labels, `shared.vocabulary`) is served at
    `/api/v1/<service>/vocabulary` and written into the enums' OpenAPI schemas.
    """
    settings = get_settings()
    configure_logging(service, level=settings.log_level, json_logs=settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for step in on_startup:
            await step()
        app.state.queue = await create_queue(settings)
        background_tasks = [
            asyncio.create_task(_housekeeping(infra), name=f"{service}-housekeeping"),
        ]
        background_tasks.extend(
            asyncio.create_task(loop(), name=f"{service}-{loop.__name__}") for loop in background
        )
        if run_relay:
            relay = OutboxRelay(
                database=database, outbox=infra.outbox, queue=app.state.queue, source=service
            )
            background_tasks.append(
                asyncio.create_task(relay.run_forever(), name=f"{service}-outbox-relay")
            )
        try:
            yield
        finally:
            for task in background_tasks:
                task.cancel()
            for task in background_tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await app.state.queue.aclose()
            await database.dispose()

    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        separate_input_output_schemas=False,
        telemetry=None
        if settings.otel_enabled
        else {"tracing": False, "metrics": False, "logs": False},
    )
    install_problem_handlers(app)
    app.include_router(operational_router(service=service, outbox=infra.outbox))
    if vocabulary is not None:
        # First: `/api/v1/projects/vocabulary` must match before `/api/v1/projects/{id}`.
        app.include_router(vocabulary_router(service, vocabulary, prefix=API_PREFIX))
    for router in routers:
        app.include_router(router)
    # Added last = outermost: the request id is bound before anything else runs.
    app.add_middleware(IdempotencyMiddleware, database=database, table=infra.idempotency)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(OptionsMiddleware)
    if settings.gzip_minimum_bytes:
        app.add_middleware(GZipMiddleware, minimum_size=settings.gzip_minimum_bytes)
    if settings.cors_allow_origins:
        # Outside OPTIONS: a preflight from an allowed origin is answered here.
        app.add_middleware(
            CORSMiddleware,
            **cors_middleware_options(
                settings.cors_allow_origins, max_age=settings.cors_max_age_seconds
            ),
        )
    app.add_middleware(RequestContextMiddleware, service=service)
    install_openapi(app, service=service, vocabulary=vocabulary)
    _skip_routers_that_cannot_match(app)
    return app


_NAMED_GROUP = re.compile(r"\(\?P<\w+>")


def _skip_routers_that_cannot_match(app: FastAPI) -> None:
    """Each included router first asks one regex whether any of its paths can match.

    The router tries its entries in order, and FastAPI asks an included router by trying
    each of its routes (a Python call, scope bookkeeping and a regex each): the registry's
    GET /organizations/{id} went through the routes of six routers before its own. Now a
    router whose paths cannot match the request's answers "no match" at once, after one
    regex made of all its routes' own (an alternation, so the same paths and no others:
    a match, full or by path only, is still decided by the router). Order, 405s and
    redirects are unchanged. The routers' routes are all declared when the app is made
    (their modules' decorators, before `include_router`); nothing adds routes later.
    """
    for route in app.router.routes:
        if not isinstance(route, _IncludedRouter):
            continue
        patterns = []
        for context in fastapi.routing.iter_route_contexts([route]):
            regex = getattr(context, "path_regex", None)
            if regex is None:  # a host or a front-end route: leave this router as it is
                break
            # Starlette's groups are named by parameter: the same names repeat.
            patterns.append(f"(?:{_NAMED_GROUP.sub('(?:', regex.pattern)})")
        else:
            if patterns:
                _guard(route, re.compile("|".join(patterns)))


def _guard(route: BaseRoute, paths: re.Pattern[str]) -> None:
    matches = route.matches

    def guarded(scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and paths.match(get_route_path(scope)) is None:
            return Match.NONE, {}
        return matches(scope)

    route.matches = guarded  # type: ignore[method-assign]
