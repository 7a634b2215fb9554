"""FastAPI dependencies of the sync routers: settings, address policy, clock, queue.

Tests override them (`app.dependency_overrides`) to allow loopback receivers or to
move time, without touching the process environment.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from arq import ArqRedis
from fastapi import Depends, Request

from services.workflow.sync.config import SyncSettings, get_sync_settings
from services.workflow.sync.ssrf import AddressPolicy
from shared.db import utcnow


def sync_settings() -> SyncSettings:
    return get_sync_settings()


def address_policy(settings: Annotated[SyncSettings, Depends(sync_settings)]) -> AddressPolicy:
    return AddressPolicy.from_settings(settings)


def clock() -> datetime:
    return utcnow()


def queue(request: Request) -> ArqRedis | None:
    """The app's queue (set by the lifespan), or None when running without one."""
    found: ArqRedis | None = getattr(request.app.state, "queue", None)
    return found


SyncSettingsDep = Annotated[SyncSettings, Depends(sync_settings)]
PolicyDep = Annotated[AddressPolicy, Depends(address_policy)]
NowDep = Annotated[datetime, Depends(clock)]
QueueDep = Annotated[ArqRedis | None, Depends(queue)]
