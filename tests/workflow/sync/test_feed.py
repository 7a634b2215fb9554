"""The event feed: ordered, cursor-paginated, never skipping what commits out of order."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text, update

from services.workflow.sync import feed
from services.workflow.sync.models import SyncEvent
from shared.db import database, utcnow
from shared.feeds import FeedCursor
from tests.support.polling import poll
from tests.workflow.sync.helpers import append, envelope


async def _page(
    api: httpx.AsyncClient, headers: dict[str, str], after: str | None, limit: int = 500
) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": limit}
    if after:
        params["after"] = after
    response = await api.get("/api/v1/events", params=params, headers=headers)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def _tail(api: httpx.AsyncClient, headers: dict[str, str]) -> str | None:
    """The cursor at the current end of the feed."""
    cursor: str | None = None
    while True:
        page = await _page(api, headers, cursor)
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return cursor


async def _read_all(
    api: httpx.AsyncClient, headers: dict[str, str], cursor: str | None
) -> tuple[list[str], str | None]:
    ids: list[str] = []
    while True:
        page = await _page(api, headers, cursor, limit=7)  # small pages: many cursors
        ids += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return ids, cursor


# The feed shows an event once every older transaction of the server has ended; other
# databases' transactions count too (a shared CI server), so allow for a slow neighbour.
FEED_WAIT = 60.0


@pytest.fixture
def reader(auth: Callable[..., dict[str, str]]) -> dict[str, str]:
    return auth("provincial_system", sub="province-anhui")


async def _position(event_id: uuid.UUID) -> int:
    async with database.transaction() as session:
        found = await session.execute(select(SyncEvent.position).where(SyncEvent.id == event_id))
        return int(found.scalar_one())


class TestOutOfOrderCommits:
    @pytest.mark.parametrize("older_appends_first", [False, True])
    async def test_an_event_committed_after_a_later_one_is_not_skipped(
        self, api: httpx.AsyncClient, reader: dict[str, str], older_appends_first: bool
    ) -> None:
        start = await _tail(api, reader)
        slow, fast = envelope(), envelope()
        # `slow`'s transaction starts (has its transaction id) first and commits last.
        async with database.sessions() as slow_session, slow_session.begin():
            await slow_session.execute(text("SELECT pg_current_xact_id()"))
            if older_appends_first:
                await feed.append(slow_session, slow, now=utcnow())
            async with database.transaction() as fast_session:
                await feed.append(fast_session, fast, now=utcnow())
            # `fast` is committed. A reader now must not move its cursor past `slow`'s
            # place: `fast` is held back while the older transaction runs.
            seen_meanwhile, cursor = await _read_all(api, reader, start)
            assert str(fast.id) not in seen_meanwhile
            if not older_appends_first:
                await feed.append(slow_session, slow, now=utcnow())

        async def both_seen() -> list[str] | None:
            more, _ = await _read_all(api, reader, cursor)
            seen = seen_meanwhile + more
            return seen if {str(slow.id), str(fast.id)} <= set(seen) else None

        seen = await poll(both_seen, within=FEED_WAIT)
        assert seen.index(str(slow.id)) < seen.index(str(fast.id))
        if not older_appends_first:
            # Positions alone would have read `fast` and then skipped `slow` for ever.
            assert await _position(slow.id) > await _position(fast.id)

    async def test_concurrent_writers_committing_in_random_order_lose_nothing(
        self, api: httpx.AsyncClient, reader: dict[str, str]
    ) -> None:
        start = await _tail(api, reader)
        written: list[str] = []
        rng = random.Random(7)

        async def writer() -> None:
            for _ in range(5):
                event = envelope()
                async with database.transaction() as session:
                    await session.execute(text("SELECT pg_current_xact_id()"))
                    await asyncio.sleep(rng.random() * 0.03)
                    await feed.append(session, event, now=utcnow())
                    await asyncio.sleep(rng.random() * 0.03)
                written.append(str(event.id))

        seen: list[str] = []
        cursor = start
        writers = asyncio.gather(*(writer() for _ in range(8)))
        while not writers.done():
            ids, cursor = await _read_all(api, reader, cursor)
            seen += ids
            await asyncio.sleep(0.005)
        await writers

        async def caught_up() -> bool:
            nonlocal cursor
            ids, cursor = await _read_all(api, reader, cursor)
            seen.extend(ids)
            return set(written) <= set(seen)

        await poll(caught_up, within=FEED_WAIT)
        mine = [i for i in seen if i in set(written)]
        assert len(mine) == len(set(mine)) == 40  # every event once, none twice


class TestFeedContents:
    async def test_items_are_the_webhook_payloads_and_internal_or_test_events_stay_out(
        self, api: httpx.AsyncClient, reader: dict[str, str]
    ) -> None:
        start = await _tail(api, reader)
        public = envelope(
            "case.decided", data={"case_id": str(uuid.uuid4()), "outcome": "approved"}
        )
        internal = envelope("workflow.case_requested", data={"applicant_name": "某某协会"})
        assert await append(public, now=utcnow()) is True
        assert await append(internal, now=utcnow()) is False
        assert await append(public, now=utcnow()) is False  # appended once, whatever the retries

        async def arrived() -> list[dict[str, Any]] | None:
            items = (await _page(api, reader, start))["items"]
            return items if any(i["id"] == str(public.id) for i in items) else None

        items = await poll(arrived, within=FEED_WAIT)
        (item,) = [i for i in items if i["id"] == str(public.id)]
        assert item["type"] == "case.decided"
        assert item["subject"] == {"type": "case", "id": public.subject_id, "seq": 1}
        assert str(internal.id) not in {i["id"] for i in items}

    async def test_an_oversized_event_is_thinned_under_20_kb(
        self, api: httpx.AsyncClient, reader: dict[str, str]
    ) -> None:
        start = await _tail(api, reader)
        subject = str(uuid.uuid4())
        big = envelope(
            data={"id": subject, "notes": ["很长的备注" * 200] * 50, "status": "abnormal"}
        )
        await append(big, now=utcnow())

        async def arrived() -> dict[str, Any] | None:
            items = (await _page(api, reader, start))["items"]
            return next((i for i in items if i["id"] == str(big.id)), None)

        item = await poll(arrived, within=FEED_WAIT)
        assert item["data"] == {"id": subject, "status": "abnormal", "truncated": True}

    async def test_empty_page_keeps_the_cursor_and_a_bad_cursor_is_422(
        self, api: httpx.AsyncClient, reader: dict[str, str]
    ) -> None:
        end = await _tail(api, reader)
        page = await _page(api, reader, end)
        assert page["items"] == [] and page["next_cursor"] == end and page["has_more"] is False
        bad = await api.get("/api/v1/events", params={"after": "12;DROP"}, headers=reader)
        assert bad.status_code == 422
        assert bad.json()["code"] == "cursor_invalid"

    @pytest.mark.parametrize(
        ("role", "expected"),
        [
            ("provincial_system", 200),
            ("civil_affairs", 200),
            ("auditor", 200),
            ("service", 200),
            ("evaluator", 403),
            ("street_office", 403),
        ],
    )
    async def test_who_may_read_the_feed(
        self, api: httpx.AsyncClient, auth: Callable[..., dict[str, str]], role: str, expected: int
    ) -> None:
        claims = {"street_code": "340103001"} if role == "street_office" else {}
        response = await api.get(
            "/api/v1/events", params={"limit": 1}, headers=auth(role, **claims)
        )
        assert response.status_code == expected
        assert (await api.get("/api/v1/events")).status_code == 401


async def test_retention_purges_only_what_is_older_than_the_horizon() -> None:
    old, recent = envelope(), envelope()
    now = utcnow()
    await append(old, now=now)
    await append(recent, now=now)
    async with database.transaction() as session:
        await session.execute(
            update(SyncEvent)
            .where(SyncEvent.id == old.id)
            .values(recorded_at=now - timedelta(days=36))
        )
        await session.execute(
            update(SyncEvent)
            .where(SyncEvent.id == recent.id)
            .values(recorded_at=now - timedelta(days=29))
        )
    async with database.transaction() as session:
        await feed.purge(session, now=now, retention=timedelta(days=35))
    async with database.transaction() as session:
        left = set(
            (
                await session.execute(
                    select(SyncEvent.id).where(SyncEvent.id.in_([old.id, recent.id]))
                )
            ).scalars()
        )
    assert left == {recent.id}


async def test_paging_by_position_alone_or_with_the_xmin_filter_loses_what_the_feed_keeps() -> None:
    """Why the cursor is `(txid, position)`: both simpler readers skip an event here.

    Positions come from a sequence, outside any transaction's order: an INSERT can draw
    a lower position yet get its transaction id (and commit) after another one. That is
    reproduced step by step (the draw made apart, so that it is deterministic: `nextval`
    itself sometimes assigns an id): a position is drawn, T2 appends and commits, three
    readers read, then T1 inserts at the drawn position and commits, and they read again.
    """
    settled = SyncEvent.txid < func.pg_snapshot_xmin(func.pg_current_snapshot())

    slow, fast = envelope(), envelope()
    ours = {slow.id, fast.id}  # events of earlier tests may still be arriving: ignored

    async def by_position(after: int, *, xmin_filter: bool) -> list[SyncEvent]:
        query = select(SyncEvent).where(SyncEvent.position > after).order_by(SyncEvent.position)
        if xmin_filter:
            query = query.where(settled)
        async with database.transaction() as session:
            return [e for e in (await session.execute(query)).scalars() if e.id in ours]

    async def by_feed(after: FeedCursor | None) -> tuple[list[SyncEvent], FeedCursor | None]:
        async with database.transaction() as session:
            events, cursor = await feed.read_page(session, after=after, limit=5000)
            return [e for e in events if e.id in ours], cursor

    async with database.transaction() as session:
        start = int(
            (
                await session.execute(select(func.coalesce(func.max(SyncEvent.position), 0)))
            ).scalar_one()
        )
    async with database.transaction() as session:
        feed_cursor = None
        while True:  # the feed's own tail
            page, next_cursor = await feed.read_page(session, after=feed_cursor, limit=5000)
            if not page:
                break
            feed_cursor = next_cursor
    async with database.transaction() as session:
        drawn = (
            await session.execute(
                text("SELECT nextval(pg_get_serial_sequence('workflow.sync_event', 'position'))")
            )
        ).scalar_one()
    await append(fast, now=utcnow())  # T2: a higher position, committed first

    naive = await by_position(start, xmin_filter=False)

    async def filtered_sees_fast() -> list[SyncEvent] | None:
        found = await by_position(start, xmin_filter=True)
        return found or None

    async def feed_sees_fast() -> tuple[list[SyncEvent], FeedCursor | None] | None:
        nonlocal feed_cursor
        found, feed_cursor = await by_feed(feed_cursor)
        return (found, feed_cursor) if found else None

    # (Another database's long transaction on the same server holds the xmin back.)
    filtered = await poll(filtered_sees_fast, within=FEED_WAIT)
    seen, feed_cursor = await poll(feed_sees_fast, within=FEED_WAIT)
    assert [e.id for e in naive] == [e.id for e in filtered] == [e.id for e in seen] == [fast.id]
    naive_cursor, filtered_cursor = naive[-1].position, filtered[-1].position

    async with database.transaction() as t1:
        await t1.execute(
            text(
                "INSERT INTO workflow.sync_event (id, position, type, source, subject_type,"
                " subject_id, subject_seq, occurred_at, data) OVERRIDING SYSTEM VALUE"
                " VALUES (:id, :position, 'organization.updated', 'registry', 'organization',"
                " :subject, 1, now(), '{}'::jsonb)"
            ),
            {"id": slow.id, "position": drawn, "subject": slow.subject_id},
        )
    assert drawn < naive_cursor  # T1's event sits behind both naive cursors

    assert [e.id for e in await by_position(naive_cursor, xmin_filter=False)] == []
    assert [e.id for e in await by_position(filtered_cursor, xmin_filter=True)] == []
    after, _ = await poll(feed_sees_fast, within=FEED_WAIT)  # whatever comes next
    assert [e.id for e in after] == [slow.id]
