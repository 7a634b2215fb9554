"""The demo register: deterministic, realistic, and loaded once."""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import func, select, text

from services.registry.demo import DISTRICT, PROVINCE, STREETS, generate, load_if_empty
from services.registry.enums import OrganizationKind
from services.registry.inspections.models import AnnualInspection
from services.registry.organizations.models import Organization
from services.registry.organizations.uscc import uscc_errors
from shared.db import Database


def test_generation_is_deterministic_and_matches_the_sources() -> None:
    first, second = generate(), generate()
    assert first == second
    assert generate(seed=1) != first
    in_being = [
        org
        for org in first.organizations
        if org["status"] != "deregistered" and org["kind"] != "foundation"
    ]
    registrations = Counter(org["registration"] for org in in_being)
    assert registrations == {"registered": 428, "filed": 438}
    assert len({org["name"] for org in first.organizations}) == len(first.organizations)
    # The 428 are the district's: no foundation (the province registers those).
    district = [o for o in in_being if o["registration"] == "registered"]
    assert all(o["uscc"][2:8] == DISTRICT[0] for o in district)
    foundations = [o for o in first.organizations if o["kind"] == "foundation"]
    assert foundations and all(o["uscc"][2:8] == PROVINCE for o in foundations)
    assert {org["category"] for org in first.organizations} >= {
        "livelihood",
        "charity",
        "social_work",
    }
    assert {i["year"] for i in first.inspections} == {2023, 2024, 2025}


def test_filed_groups_rarely_carry_grades_and_are_no_social_work_agencies() -> None:
    filed = [o for o in generate().organizations if o["registration"] == "filed"]
    assert not any(o["category"] == "social_work" for o in filed)
    graded = [o for o in filed if o["evaluation_grade"]]
    assert len(graded) <= len(filed) * 5 // 100
    assert {o["evaluation_grade"] for o in graded} <= {"1A", "2A", "3A"}


def test_a_pass_always_has_both_key_indicators() -> None:
    for inspection in generate().inspections:
        if inspection["result"] == "pass":
            assert inspection["party_building_ok"] and inspection["financial_audit_ok"]


def test_streets_are_coded_as_streets_towns_and_townships() -> None:
    codes = {code: name for code, name in STREETS}
    assert codes["340103001"] == "亳州路街道"
    for code, name in codes.items():
        assert code.startswith(DISTRICT[0]) and len(code) == 9
        kind = int(code[6:])
        assert (
            (1 <= kind <= 99 and name.endswith("街道"))
            or (100 <= kind <= 199 and name.endswith("镇"))
            or (200 <= kind <= 399 and name.endswith("乡"))
        ), code


def test_every_registered_organization_has_a_valid_uscc() -> None:
    for org in generate().organizations:
        if org["registration"] != "registered":
            assert org["uscc"] is None and org["filing_number"]
            continue
        kind = OrganizationKind(org["kind"])
        authority = PROVINCE if kind is OrganizationKind.foundation else DISTRICT[0]
        assert uscc_errors(org["uscc"], kind=kind, authority_division=authority) == [], org["uscc"]


@pytest.fixture
async def empty_database(
    database_url: str, fresh_database: Callable[[str], AsyncIterator[str]]
) -> AsyncIterator[Database]:
    async for url in fresh_database("demo"):
        db = Database(url)
        yield db
        await db.dispose()


async def test_loads_once_into_an_empty_register(empty_database: Database) -> None:
    assert await load_if_empty(db=empty_database) is True
    assert await load_if_empty(db=empty_database) is False
    async with empty_database.transaction() as session:
        organizations = (
            await session.execute(select(func.count()).select_from(Organization))
        ).scalar_one()
        inspections = (
            await session.execute(select(func.count()).select_from(AnnualInspection))
        ).scalar_one()
    # 866 in being on the district's register, and the records around them.
    assert organizations == len(generate().organizations) == 866 + 6 + 19
    assert inspections == len(generate().inspections)


async def test_the_dashboard_shows_866_as_428_registered_and_438_filed(
    empty_database: Database,
) -> None:
    from services.registry.organizations import service
    from shared.auth import Principal, Role

    await load_if_empty(db=empty_database)
    async with empty_database.transaction() as session:
        stats = await service.stats(session, principal=Principal(sub="t", role=Role.auditor))
        street = await service.stats(
            session, principal=Principal(sub="t", role=Role.street_office, street_code="340103001")
        )
    assert stats.total == 866
    assert {c.key: c.count for c in stats.by_registration} == {"registered": 428, "filed": 438}
    for group in (stats.by_kind, stats.by_category, stats.by_status, stats.by_street):
        assert sum(c.count for c in group) == 866
    assert "foundation" not in {c.key for c in stats.by_kind}
    assert {c.key for c in stats.by_status} <= {"active", "abnormal"}
    data = generate()
    assert stats.registered_above_district == sum(
        o["kind"] == "foundation" for o in data.organizations
    )
    assert [(c.key, c.label) for c in stats.closed] == [("deregistered", "注销")]
    assert stats.closed[0].count == sum(o["status"] == "deregistered" for o in data.organizations)
    assert {c.key for c in street.by_registration} == {"filed"}
    assert street.total == next(c.count for c in street.by_street if c.key == "340103001")


INVARIANT_BROKEN = """
SELECT o.id, o.status FROM registry.organization o
WHERE o.status NOT IN ('deregistered', 'revoked')
  AND (o.status = 'abnormal') <> EXISTS (
      SELECT 1 FROM registry.list_entry e
      WHERE e.organization_id = o.id AND e.list_type = 'abnormal' AND e.removed_on IS NULL)
"""


async def test_status_and_abnormal_list_never_disagree_in_the_demo_register(
    empty_database: Database,
) -> None:
    await load_if_empty(db=empty_database)
    async with empty_database.transaction() as session:
        broken = (await session.execute(text(INVARIANT_BROKEN))).all()
        abnormal = (
            await session.execute(
                text("SELECT count(*) FROM registry.organization WHERE status = 'abnormal'")
            )
        ).scalar_one()
        not_filed = (
            await session.execute(
                text(
                    "SELECT count(DISTINCT organization_id) FROM registry.list_entry"
                    " WHERE reason_code = 'annual_report_not_filed' AND removed_on IS NULL"
                )
            )
        ).scalar_one()
    assert broken == []
    assert abnormal > 0 and not_filed > 0


async def test_the_migration_backfill_lists_abnormal_organizations_without_an_entry(
    empty_database: Database,
) -> None:
    """The state the old generator left (status without entry), repaired by 0114's SQL."""
    migration = importlib.import_module(
        "migrations.versions.20261205_0114_registry_annual_report_enforcement"
    )
    await load_if_empty(db=empty_database)
    async with empty_database.transaction() as session:
        await session.execute(text("DELETE FROM registry.list_entry"))
        await session.execute(
            text(
                "UPDATE registry.organization SET status = 'abnormal' WHERE id IN"
                " (SELECT id FROM registry.organization WHERE status = 'active' LIMIT 3)"
            )
        )
        assert (await session.execute(text(INVARIANT_BROKEN))).all() != []
        await session.execute(text(migration.LIST_MISSING_ENTRIES))
        await session.execute(text(migration.MARK_LISTED_ACTIVE))
        assert (await session.execute(text(INVARIANT_BROKEN))).all() == []
        reasons = set(
            (
                await session.execute(text("SELECT DISTINCT reason_code FROM registry.list_entry"))
            ).scalars()
        )
    assert reasons == {"annual_report_not_filed", "other"}
