"""The demo people: plausible shares on the demo register, and written as the API reads."""

from __future__ import annotations

import uuid
from datetime import date

import httpx

from services.registry import demo as register_demo
from services.registry.enums import Category, OrganizationStatus, Registration
from services.registry.people import demo_people as demo
from shared.clock import shanghai_today
from shared.db import database
from tests.factories import unique_street
from tests.registry.helpers import Auth
from tests.registry.people.helpers import PEOPLE, organization

TODAY = date(2026, 12, 5)


def _demo_register() -> list[demo.DemoOrganization]:
    return [
        demo.DemoOrganization(
            id=row["id"],
            street_code=row["street_code"],
            registration=Registration(row["registration"]),
            category=Category(row["category"]),
            established_on=row["established_on"],
        )
        for row in register_demo.generate().organizations
        if row["status"] != OrganizationStatus.deregistered.value
    ]


def test_the_demo_people_are_plausible_and_the_same_every_time() -> None:
    organizations = _demo_register()
    people = demo.generate(organizations, today=TODAY)
    assert people == demo.generate(organizations, today=TODAY)
    certified = [s for s in people.staff if s["certificate_level"] is not None]
    assert len(certified) == 1_000 and len(people.staff) == 2_500
    assert all(2008 <= s["certificate_year"] < TODAY.year for s in certified)
    assert len({s["certificate_number"] for s in certified}) == 1_000
    assert all(s["id_number_digest"] is None for s in people.staff)  # no ID numbers
    coverage = len(people.party) / len(organizations)
    assert 0.45 < coverage < 0.55, coverage
    assert all((p["form"] == "joint_branch") == (p["members"] < 3) for p in people.party)
    assert all(p["established_on"] <= TODAY for p in people.party)
    assert all(r["served_on"] <= TODAY and 0 < r["minutes"] <= 1440 for r in people.service)
    # Every demo street has an (illustrative) population.
    assert set(demo.POPULATION) == {code for code, _ in register_demo.STREETS}


async def test_written_demo_people_are_what_the_street_figures_count(
    registry: httpx.AsyncClient, auth: Auth
) -> None:
    street = unique_street()
    created = [await organization(registry, auth, street) for _ in range(3)]
    organizations = [
        demo.DemoOrganization(
            id=uuid.UUID(org["id"]),
            street_code=street,
            registration=Registration.filed,
            category=Category.community_service,
            established_on=None,
        )
        for org in created
    ]
    people = demo.generate(
        organizations,
        streets=[street],
        seed=7,
        certified=5,
        other_staff=3,
        volunteers=4,
        today=shanghai_today(),
    )
    async with database.transaction() as session:
        await demo.write(session, people)
    office = auth("street_office", street_code=street)
    [row] = (await registry.get(f"{PEOPLE}/stats", headers=office)).json()["streets"]
    assert (row["certified_social_workers"], row["staff"], row["volunteers"]) == (5, 8, 4)
    assert row["volunteer_minutes"] == sum(r["minutes"] for r in people.service)
    assert row["organizations_with_party_organization"] == len(people.party)
    assert row["organizations"] == 3
