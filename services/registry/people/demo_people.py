"""Deterministic demo people for the demo register (`services.registry.demo`); not named
`demo.py`, which is the register's (module names do not repeat within a service).

About 1,000 certified social workers (持证社工) and 1,500 other staff, 3,000 volunteers
with a year of service records, party organizations covering about 60% of the registered
and 40% of the filed organizations, and a resident population for each street.

The figures are illustrative: neither the sources (`/work/shared/seeds`) nor the domain
brief give Luyang's people by street, so the populations (about 970,000 in all, the
order of the district's census figure) and the shares above are plausible, not real.
Demo people carry no ID numbers, as the demo register's legal representatives do not.

`load_people_if_empty()` runs after `services.registry.demo.load_if_empty()`: it reads
the organizations already on the register, whatever made them.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.enums import (
    Category,
    CertificateLevel,
    Employment,
    OrganizationStatus,
    PartyOrganizationForm,
    Registration,
)
from services.registry.organizations.models import Organization
from services.registry.people.models import (
    MEMBERS_FOR_OWN_BRANCH,
    PartyOrganization,
    StaffMember,
    Volunteer,
    VolunteerService,
)
from services.registry.reference.models import Region
from shared.clock import shanghai_today
from shared.db import Database, database

logger = logging.getLogger("sanshe.registry.people.demo_people")

SEED = 20261205
POPULATION_YEAR = 2020
# Illustrative resident populations of the demo streets (see the module docstring).
POPULATION = {
    "340103001": 85_000,  # 亳州路街道
    "340103002": 120_000,  # 双岗街道
    "340103003": 95_000,  # 三孝口街道
    "340103004": 110_000,  # 杏花村街道
    "340103005": 130_000,  # 林店街道
    "340103006": 105_000,  # 海棠街道
    "340103007": 140_000,  # 杏林街道
    "340103008": 70_000,  # 逍遥津街道
    "340103100": 90_000,  # 大杨镇
    "340103200": 25_000,  # 三十岗乡
}
CERTIFIED_WORKERS = 1_000
OTHER_STAFF = 1_500
VOLUNTEERS = 3_000
PARTY_COVERAGE = {Registration.registered: 0.60, Registration.filed: 0.40}
SERVICE_YEAR = 2025

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
_ACTIVITIES = ("助老探访", "垃圾分类宣传", "社区巡访", "青少年课业辅导", "义诊协助", "文明劝导")


@dataclass(frozen=True, slots=True)
class DemoOrganization:
    id: uuid.UUID
    street_code: str | None
    registration: Registration
    category: Category
    established_on: date | None


@dataclass
class PeopleDemo:
    staff: list[dict[str, Any]] = field(default_factory=list)
    volunteers: list[dict[str, Any]] = field(default_factory=list)
    service: list[dict[str, Any]] = field(default_factory=list)
    party: list[dict[str, Any]] = field(default_factory=list)


def _person(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choices(_GIVEN, k=rng.choice((1, 2))))


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def generate(
    organizations: list[DemoOrganization],
    *,
    streets: list[str] | None = None,
    seed: int = SEED,
    certified: int = CERTIFIED_WORKERS,
    other_staff: int = OTHER_STAFF,
    volunteers: int = VOLUNTEERS,
    today: date,
) -> PeopleDemo:
    """People for these (open) organizations; the same input always yields the same."""
    rng = random.Random(seed)
    streets = streets or sorted(POPULATION)
    organizations = sorted(organizations, key=lambda o: o.id)
    # Social workers work mostly for social-work agencies and service institutions.
    employers = [o for o in organizations if o.category is Category.social_work] or organizations
    demo = PeopleDemo()
    for n in range(certified + other_staff):
        # A third of the certified work for no organization on the register (community
        # residents' committees, social-work stations).
        employer = rng.choice(employers) if employers and rng.random() < 0.67 else None
        is_certified = n < certified
        year = rng.randint(2008, today.year - 1)
        demo.staff.append(
            {
                "id": _uuid(rng),
                "name": _person(rng),
                "id_number_digest": None,
                "id_number_masked": None,
                "organization_id": employer.id if employer else None,
                "street_code": (employer.street_code if employer else None) or rng.choice(streets),
                "employment": rng.choices(list(Employment), weights=[75, 25])[0].value,
                "certificate_level": rng.choices(list(CertificateLevel), weights=[70, 28, 2])[
                    0
                ].value
                if is_certified
                else None,
                "certificate_number": f"LYSG{year}{n:06d}" if is_certified else None,
                "certificate_year": year if is_certified else None,
                "version": 1,
            }
        )
    teams = [o for o in organizations if o.registration is Registration.filed] or organizations
    for _ in range(volunteers):
        team = rng.choice(teams) if teams and rng.random() < 0.8 else None
        volunteer_id = _uuid(rng)
        registered_on = date(2015, 1, 1) + timedelta(days=rng.randint(0, 3600))
        demo.volunteers.append(
            {
                "id": volunteer_id,
                "name": _person(rng),
                "id_number_digest": None,
                "id_number_masked": None,
                "organization_id": team.id if team else None,
                "street_code": (team.street_code if team else None) or rng.choice(streets),
                "registered_on": min(registered_on, today),
                "version": 1,
            }
        )
        days = rng.sample(range(365), k=rng.choice((0, 1, 2, 4, 6, 8)))
        for day in sorted(days):
            served_on = date(SERVICE_YEAR, 1, 1) + timedelta(days=day)
            if served_on > today:
                continue
            demo.service.append(
                {
                    "id": _uuid(rng),
                    "volunteer_id": volunteer_id,
                    "organization_id": team.id if team else None,
                    "served_on": served_on,
                    "minutes": rng.choice((30, 60, 90, 120, 150, 180, 240)),
                    "activity": rng.choice(_ACTIVITIES),
                    "recorded_by": "demo",
                }
            )
    for organization in organizations:
        if rng.random() >= PARTY_COVERAGE[organization.registration]:
            continue
        members = rng.choices([0, 1, 2, 3, 4, 6, 9, 15], weights=[10, 20, 15, 15, 15, 12, 8, 5])[0]
        form = (
            PartyOrganizationForm.branch
            if members >= MEMBERS_FOR_OWN_BRANCH
            else PartyOrganizationForm.joint_branch
        )
        start = max(organization.established_on or date(2012, 1, 1), date(2012, 1, 1))
        established = start + timedelta(days=rng.randint(0, max((today - start).days, 0)))
        demo.party.append(
            {
                "organization_id": organization.id,
                "form": form.value,
                "name": "社会组织联合党支部"
                if form is PartyOrganizationForm.joint_branch
                else "党支部",
                "established_on": established,
                "members": members,
                "version": 1,
            }
        )
    return demo


async def open_organizations(session: AsyncSession) -> list[DemoOrganization]:
    rows = await session.execute(
        select(
            Organization.id,
            Organization.street_code,
            Organization.registration,
            Organization.category,
            Organization.established_on,
        ).where(Organization.status.in_((OrganizationStatus.active, OrganizationStatus.abnormal)))
    )
    return [DemoOrganization(*row) for row in rows.all()]


async def write(session: AsyncSession, demo: PeopleDemo) -> None:
    """Write the people (no outbox events: an initial state, as the demo register)."""
    for model, rows in (
        (StaffMember, demo.staff),
        (Volunteer, demo.volunteers),
        (VolunteerService, demo.service),
        (PartyOrganization, demo.party),
    ):
        if rows:
            await session.execute(insert(model), rows)


async def set_populations(session: AsyncSession) -> None:
    """The illustrative populations, on the demo streets that have none yet."""
    for code, population in POPULATION.items():
        await session.execute(
            update(Region)
            .where(Region.code == code, Region.population.is_(None))
            .values(population=population, population_year=POPULATION_YEAR)
        )


async def load_people_if_empty(*, db: Database = database, seed: int = SEED) -> bool:
    """Add the demo people to a register that has organizations and no people yet.

    False (and nothing written) when people are recorded already or the register is empty.
    """
    async with db.transaction() as session:
        if (await session.execute(select(func.count()).select_from(StaffMember))).scalar_one():
            return False
        organizations = await open_organizations(session)
        if not organizations:
            return False
        demo = generate(organizations, seed=seed, today=shanghai_today())
        await set_populations(session)
        await write(session, demo)
    logger.info(
        "demo people loaded",
        extra={
            "staff": len(demo.staff),
            "volunteers": len(demo.volunteers),
            "service_records": len(demo.service),
            "party_organizations": len(demo.party),
        },
    )
    return True


async def _main() -> None:
    loaded = await load_people_if_empty()
    await database.dispose()
    print(
        "demo people loaded" if loaded else "people recorded already (or no register): left alone"
    )


if __name__ == "__main__":
    asyncio.run(_main())
