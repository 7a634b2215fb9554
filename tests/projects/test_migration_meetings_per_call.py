"""Migration 0162 on existing data: per-project meetings become meetings of their call,
`incubation_reward` pools become `cultivation_reward`, and the way back restores both."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import asyncpg
import pytest
from alembic import command
from sqlalchemy import make_url

from tests.support.servers import alembic_config, plain_dsn_of

FUND, POOL, CALL = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
PROJECTS = [uuid.uuid4(), uuid.uuid4()]
MEETINGS = [uuid.uuid4(), uuid.uuid4(), uuid.uuid4()]


@pytest.fixture
async def before_0162(
    fresh_database: Callable[[str], AsyncIterator[str]],
) -> AsyncIterator[tuple[str, asyncpg.Connection]]:
    """A database one step before 0162, holding a call, two projects and their meetings."""
    async for url in fresh_database("m0162"):
        config = alembic_config(url)
        await asyncio.to_thread(command.downgrade, config, "0162-1")
        connection = await asyncpg.connect(plain_dsn_of(url, str(make_url(url).database)))
        try:
            await _seed(connection)
            yield url, connection
        finally:
            await connection.close()


async def _seed(db: asyncpg.Connection) -> None:
    await db.execute(
        "INSERT INTO projects.fund (id, year, name, total_fen, version) "
        "VALUES ($1, 2026, '专项经费', 100000000, 1)",
        FUND,
    )
    await db.execute(
        "INSERT INTO projects.fund_pool (id, fund_id, name, purpose, amount_fen, allocated_fen) "
        "VALUES ($1, $2, '孵化奖补', 'incubation_reward', 50000000, 0)",
        POOL,
        FUND,
    )
    await db.execute(
        "INSERT INTO projects.call (id, year, department, title, description, fund_id, pool_id, "
        "catalogue_item, service_targets, budget_ceiling_fen, deadline_on, deadline_at, status, "
        "created_by, version, admitted_registrations) VALUES ($1, 2026, 'education', '通知', "
        "'说明', $2, $3, 'special', '{elderly}', 1000000, '2026-12-31', now(), 'open', 't', 1, "
        "'{registered}')",
        CALL,
        FUND,
        POOL,
    )
    for project in PROJECTS:
        await db.execute(
            "INSERT INTO projects.project (id, call_id, department, fund_id, pool_id, "
            "catalogue_item, year, org_id, org_name, title, summary, service_targets, "
            "requested_fen, stage, application_command_id, created_by, version) VALUES ($1, $2, "
            "'education', $3, $4, 'special', 2026, $5, '机构', '项目', '摘要', '{elderly}', "
            "100000, 'evaluated', $6, 't', 1)",
            project,
            CALL,
            FUND,
            POOL,
            uuid.uuid4(),
            uuid.uuid4(),
        )
    # Project 0: press conference and briefing; project 1: press conference.
    for meeting, project, kind in (
        (MEETINGS[0], PROJECTS[0], "press_conference"),
        (MEETINGS[1], PROJECTS[0], "evaluation_briefing"),
        (MEETINGS[2], PROJECTS[1], "press_conference"),
    ):
        await db.execute(
            "INSERT INTO projects.meeting (id, project_id, kind, held_at, location, attendees, "
            "minutes, documents, recorded_by) VALUES ($1, $2, $3, now(), '会议室', '[]', "
            "'纪要', '[]', 't')",
            meeting,
            project,
            kind,
        )


async def test_meetings_move_to_their_call_and_the_pool_is_renamed_then_back(
    before_0162: tuple[str, asyncpg.Connection],
) -> None:
    url, db = before_0162
    config = alembic_config(url)
    await asyncio.to_thread(command.upgrade, config, "heads")

    meetings = await db.fetch("SELECT id, call_id, kind FROM projects.meeting ORDER BY id")
    assert {(r["id"], r["call_id"]) for r in meetings} == {(m, CALL) for m in MEETINGS}
    covered = await db.fetch("SELECT meeting_id, project_id, kind FROM projects.meeting_project")
    assert {(r["meeting_id"], r["project_id"], r["kind"]) for r in covered} == {
        (MEETINGS[0], PROJECTS[0], "press_conference"),
        (MEETINGS[1], PROJECTS[0], "evaluation_briefing"),
        (MEETINGS[2], PROJECTS[1], "press_conference"),
    }
    assert await db.fetchval("SELECT purpose FROM projects.fund_pool WHERE id = $1", POOL) == (
        "cultivation_reward"
    )
    # A project cannot be covered twice by one kind, nor a coverage disagree with its meeting.
    with pytest.raises(asyncpg.UniqueViolationError):
        await db.execute(
            "INSERT INTO projects.meeting_project VALUES ($1, $2, 'press_conference')",
            MEETINGS[2],
            PROJECTS[0],
        )
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await db.execute(
            "INSERT INTO projects.meeting_project VALUES ($1, $2, 'supervision_meeting')",
            MEETINGS[2],
            PROJECTS[0],
        )
    # `other` needs its name, and only `other` has one.
    with pytest.raises(asyncpg.CheckViolationError):
        await db.execute("UPDATE projects.call SET central_task = 'other' WHERE id = $1", CALL)
    with pytest.raises(asyncpg.CheckViolationError):
        await db.execute(
            "UPDATE projects.call SET central_task_other = '文明创建' WHERE id = $1", CALL
        )

    await asyncio.to_thread(command.downgrade, config, "0162-1")
    back = await db.fetch("SELECT id, project_id, kind FROM projects.meeting")
    assert {(r["id"], r["project_id"], r["kind"]) for r in back} == {
        (MEETINGS[0], PROJECTS[0], "press_conference"),
        (MEETINGS[1], PROJECTS[0], "evaluation_briefing"),
        (MEETINGS[2], PROJECTS[1], "press_conference"),
    }
    assert await db.fetchval("SELECT purpose FROM projects.fund_pool WHERE id = $1", POOL) == (
        "incubation_reward"
    )
