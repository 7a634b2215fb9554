"""The demo register: deterministic, realistic, and loaded once."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import func, select

from services.registry.demo import DISTRICT, PROVINCE, generate, load_if_empty
from services.registry.enums import OrganizationKind
from services.registry.inspections.models import AnnualInspection
from services.registry.organizations.models import Organization
from services.registry.organizations.uscc import uscc_errors
from shared.db import Database


def test_generation_is_deterministic_and_matches_the_sources() -> None:
    first, second = generate(), generate()
    assert first == second
    assert generate(seed=1) != first
    registrations = Counter(org["registration"] for org in first.organizations)
    assert registrations == {"registered": 428, "filed": 438}
    assert len({org["name"] for org in first.organizations}) == 866
    assert {org["category"] for org in first.organizations} >= {
        "livelihood",
        "charity",
        "social_work",
    }
    assert {i["year"] for i in first.inspections} == {2023, 2024, 2025}


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
    assert organizations == 866
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
    assert {c.key for c in street.by_registration} == {"filed"}
    assert street.total == next(c.count for c in street.by_street if c.key == "340103001")
