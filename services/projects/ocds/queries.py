"""Reading published releases: one project's, and the bulk feeds auditors page through.

Both feeds show only the projects the caller may read (`access.visible`). The
release feed pages commit-safely by `(txid, position)` (shared/feeds.py), so a release
whose transaction commits late is never skipped; the record feed pages by ocid over the
processes with a release since a date, each record compiled from all its releases.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.projects.access import visible
from services.projects.core.models import Project
from services.projects.ocds.models import OcdsRelease
from shared.auth import Principal
from shared.feeds import FeedCursor, after, settled


async def releases_of(session: AsyncSession, project_id: uuid.UUID) -> list[dict[str, Any]]:
    """The project's releases as published, oldest first."""
    rows = await session.execute(
        select(OcdsRelease.body)
        .where(OcdsRelease.project_id == project_id)
        .order_by(OcdsRelease.number)
    )
    return list(rows.scalars())


async def release_page(
    session: AsyncSession,
    *,
    principal: Principal,
    since: datetime | None,
    cursor: FeedCursor | None,
    limit: int,
) -> tuple[list[dict[str, Any]], FeedCursor | None]:
    """Up to `limit` releases after the cursor, and the cursor of the last one returned."""
    query = (
        select(OcdsRelease.body, cast(OcdsRelease.txid, Text), OcdsRelease.position)
        .join(Project, Project.id == OcdsRelease.project_id)
        .where(settled(OcdsRelease.txid), visible(principal))
        .order_by(OcdsRelease.txid, OcdsRelease.position)
        .limit(limit)
    )
    if since is not None:
        query = query.where(OcdsRelease.date >= since)
    if cursor is not None:
        query = query.where(after(OcdsRelease.txid, OcdsRelease.position, cursor))
    rows = (await session.execute(query)).all()
    if not rows:
        return [], None
    _, txid, position = rows[-1]
    return [body for body, _, _ in rows], FeedCursor(int(txid), position)


async def record_page(
    session: AsyncSession,
    *,
    principal: Principal,
    since: datetime | None,
    after_project: uuid.UUID | None,
    limit: int,
) -> list[tuple[uuid.UUID, list[dict[str, Any]]]]:
    """Up to `limit` processes (by project id) with a release since `since`, each with
    every one of its releases, oldest first."""
    released = select(OcdsRelease.position).where(OcdsRelease.project_id == Project.id)
    if since is not None:
        released = released.where(OcdsRelease.date >= since)
    query = (
        select(Project.id)
        .where(visible(principal), exists(released))
        .order_by(Project.id)
        .limit(limit)
    )
    if after_project is not None:
        query = query.where(Project.id > after_project)
    project_ids: Sequence[uuid.UUID] = (await session.execute(query)).scalars().all()
    if not project_ids:
        return []
    bodies: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    rows = await session.execute(
        select(OcdsRelease.project_id, OcdsRelease.body)
        .where(OcdsRelease.project_id.in_(project_ids))
        .order_by(OcdsRelease.project_id, OcdsRelease.number)
    )
    for project_id, body in rows:
        bodies[project_id].append(body)
    return [(project_id, bodies[project_id]) for project_id in project_ids]
