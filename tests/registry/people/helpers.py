"""Helpers of the people tests: valid resident ID numbers, a street with a region row,
organizations created through the API."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy.dialects.postgresql import insert as pg_insert
from stdnum.cn import ric

from services.registry.reference.models import Region
from shared.db import database
from tests.factories import LUYANG, filed_org
from tests.registry.helpers import Auth, created

PEOPLE = "/api/v1/people"

_issued: set[str] = set()


# Beijing Chaoyang: a division code stdnum knows for any birth year (340103, Luyang, dates
# from 2002 and is refused for people born before).
BIRTH_REGION = "110105"


def id_number(region: str = BIRTH_REGION) -> str:
    """A valid resident ID number no other test of this run uses (stdnum's check digit)."""
    rng = random.SystemRandom()
    while True:
        birth = date(1960, 1, 1) + timedelta(days=rng.randrange(14_000))
        body = f"{region}{birth:%Y%m%d}{rng.randrange(1000):03d}"
        if body not in _issued:
            _issued.add(body)
            return body + ric.calc_check_digit(body + "0")


async def street_region(code: str, name: str = "测试街道") -> None:
    """The region rows of a test street (reference data the demo loader writes)."""
    async with database.transaction() as session:
        await session.execute(
            pg_insert(Region).on_conflict_do_nothing(),
            [{"code": LUYANG, "name": "庐阳区", "level": "district", "parent_code": None}],
        )
        await session.execute(
            pg_insert(Region).on_conflict_do_nothing(),
            [{"code": code, "name": name, "level": "street", "parent_code": LUYANG}],
        )


async def organization(registry: httpx.AsyncClient, auth: Auth, street: str) -> dict[str, Any]:
    return await created(registry, auth("civil_affairs"), filed_org(street_code=street))


def certified(**overrides: Any) -> dict[str, Any]:
    """A certified social worker's body with a certificate number no one else has."""
    serial = random.SystemRandom().randrange(10**9, 10**10)
    body: dict[str, Any] = {
        "name": "王芳",
        "id_number": id_number(),
        "certificate_level": "intermediate",
        "certificate_number": f"S{serial}",
        "certificate_year": 2019,
    }
    body.update(overrides)
    return body
