"""The event feed: `GET /api/v1/events?after=<cursor>&limit=` (pull, or catch up)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.workflow.sync import feed, payloads
from services.workflow.sync.dependencies import SyncSettingsDep
from services.workflow.sync.schemas import FeedEvent, FeedPage
from shared.app import API_PREFIX
from shared.auth import Role, allow
from shared.db import SessionDep
from shared.errors import problem_responses
from shared.feeds import cursor_from_query

router = APIRouter(prefix=f"{API_PREFIX}/events", tags=["events"])

READERS = (Role.provincial_system, Role.civil_affairs, Role.auditor, Role.service)


@router.get(
    "",
    response_model=FeedPage,
    operation_id="listEvents",
    dependencies=[allow(*READERS)],
    responses=problem_responses(401, 403, 422),
)
async def list_events(
    session: SessionDep,
    settings: SyncSettingsDep,
    after: Annotated[
        str | None,
        Query(max_length=50, description="`next_cursor` of the previous page; omit to start"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 100,
) -> FeedPage:
    """Events in a stable order, after a cursor; kept at least 30 days.

    The order is the order in which events became final, and a page never skips one that
    commits later: keep the last `next_cursor` and ask again, at your own pace. Items
    are the same payloads as the webhooks (`subject.seq` orders the events of a subject).
    """
    cursor = cursor_from_query(after) if after else None
    size = min(limit, settings.feed_page_max)
    events, last = await feed.read_page(session, after=cursor, limit=size)
    return FeedPage(
        items=[FeedEvent.model_validate(payloads.payload_of(e)) for e in events],
        next_cursor=str(last) if last is not None else None,
        has_more=len(events) == size,
    )
