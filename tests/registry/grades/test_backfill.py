"""Migration 0115 on a register that kept grades as a field: evaluations and field agree."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta

import asyncpg
from alembic import command
from sqlalchemy.engine import make_url

from services.registry.demo import generate
from services.registry.grades.grade_points import grade_for
from shared.clock import shanghai_today
from shared.db import plain_dsn
from tests.support.servers import alembic_config, recreate_database

INSERT = """
INSERT INTO registry.organization
    (id, name, kind, registration, uscc, filing_number, category, district_code, street_code,
     legal_rep_name, registered_funds_fen, status, tags, version,
     evaluation_grade, grade_valid_from, grade_valid_until)
VALUES ($1, $2, $3, $4, $5, $6, 'livelihood', '340103', '340103001', '张三', 0, 'active',
        '{}', 1, $7, $8, $9)
"""


def row(
    org_id: uuid.UUID, kind: str, uscc: str, grade: str, valid_from: date | None
) -> tuple[object, ...]:
    """A registered organization's values: valid five years from `valid_from` (2028-12-31
    for 2024-01-01), lapsed yesterday when it began long ago, undated without one."""
    valid_until = None
    if valid_from == date(2024, 1, 1):
        valid_until = date(2028, 12, 31)
    elif valid_from is not None:
        valid_until = shanghai_today() - timedelta(days=1)
    name = f"社会组织{uscc[-4:]}"
    return (org_id, name, kind, "registered", uscc, None, grade, valid_from, valid_until)


async def test_graded_organizations_get_their_evaluation_and_filed_ones_lose_the_grade(
    database_url: str,
) -> None:
    name = f"{make_url(database_url).database}_grades_backfill"
    await recreate_database(database_url, name)
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    today = shanghai_today()
    valid = uuid.uuid4()
    undated = uuid.uuid4()
    lapsed = uuid.uuid4()
    filed = uuid.uuid4()
    try:
        await asyncio.to_thread(command.upgrade, alembic_config(url), "0113")
        connection = await asyncpg.connect(plain_dsn(url))
        try:
            last_year = today - timedelta(days=2000)
            rows = [
                row(valid, "service_institution", "52340103MJ00000262", "4A", date(2024, 1, 1)),
                row(undated, "association", "51340103MJ0000018A", "2A", None),
                row(lapsed, "foundation", "53340000MJ00000349", "5A", last_year),
                (
                    filed,
                    "丁",
                    "community",
                    "filed",
                    None,
                    "BA340103001-1",
                    "3A",
                    date(2024, 1, 1),
                    None,
                ),
            ]
            await connection.executemany(INSERT, rows)
        finally:
            await connection.close()

        await asyncio.to_thread(command.upgrade, alembic_config(url), "0115")

        connection = await asyncpg.connect(plain_dsn(url))
        try:
            orgs = {
                r["id"]: r
                for r in await connection.fetch(
                    "SELECT id, evaluation_grade, grade_valid_from, grade_valid_until, version"
                    " FROM registry.organization"
                )
            }
            evaluations = {
                r["organization_id"]: r
                for r in await connection.fetch("SELECT * FROM registry.grade_evaluation")
            }
            changes = await connection.fetch(
                "SELECT organization_id, kind FROM registry.grade_change ORDER BY id"
            )
            history = await connection.fetch(
                "SELECT organization_id, action, field FROM registry.change_record"
            )
        finally:
            await connection.close()
    finally:
        await recreate_database(database_url, name, drop_only=True)

    # In force: an evaluation granted and published, the field unchanged.
    assert (evaluations[valid]["state"], evaluations[valid]["grade"]) == ("granted", "4A")
    assert evaluations[valid]["valid_until"] == date(2028, 12, 31)
    assert evaluations[valid]["published_at"] is not None
    assert orgs[valid]["evaluation_grade"] == "4A" and orgs[valid]["version"] == 1
    # No dates: five years from the day it was entered, on both sides.
    assert evaluations[undated]["state"] == "granted"
    assert orgs[undated]["grade_valid_until"] == evaluations[undated]["valid_until"]
    assert orgs[undated]["grade_valid_until"] == (
        orgs[undated]["grade_valid_from"].replace(year=orgs[undated]["grade_valid_from"].year + 5)
        - timedelta(days=1)
    )
    # Lapsed: recorded, expired, and gone from the field.
    assert (evaluations[lapsed]["state"], evaluations[lapsed]["grade"]) == ("expired", None)
    assert evaluations[lapsed]["granted_grade"] == "5A"
    assert orgs[lapsed]["evaluation_grade"] is None and orgs[lapsed]["grade_valid_until"] is None
    assert [c["kind"] for c in changes if c["organization_id"] == lapsed] == [
        "granted",
        "expired",
    ]
    # Filed: no evaluation, the grade cleared, each cleared field in its history.
    assert filed not in evaluations
    assert orgs[filed]["evaluation_grade"] is None and orgs[filed]["grade_valid_from"] is None
    assert sorted(h["field"] for h in history if h["organization_id"] == filed) == [
        "evaluation_grade",
        "grade_valid_from",
    ]
    assert {h["action"] for h in history if h["organization_id"] == lapsed} == {"grade_expired"}


def test_the_demo_grades_registered_organizations_only_each_with_its_evaluation() -> None:
    data = generate()
    graded = {o["id"]: o for o in data.organizations if o["evaluation_grade"] is not None}
    assert graded, "the demo register shows grades"
    assert {o["registration"] for o in graded.values()} == {"registered"}
    in_force = {e["organization_id"]: e for e in data.evaluations}
    assert in_force.keys() == graded.keys()
    for org_id, evaluation in in_force.items():
        assert evaluation["grade"] == graded[org_id]["evaluation_grade"]
        assert evaluation["valid_until"] == graded[org_id]["grade_valid_until"]
        assert grade_for(evaluation["total_score"]) == evaluation["grade"]
