"""Party organizations and the street figures: the arithmetic on a small known street,
what a street office and the bureau each see, hostile input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from shared.clock import shanghai_today
from tests.factories import unique_street
from tests.registry.helpers import ORGS, Auth
from tests.registry.people.helpers import PEOPLE, certified, organization, street_region

PARTY = f"{PEOPLE}/party-organizations"


def _branch(**overrides: Any) -> dict[str, Any]:
    return {
        "form": "branch",
        "name": "某服务中心党支部",
        "established_on": "2021-07-01",
        "members": 5,
        **overrides,
    }


async def test_party_organizations_are_recorded_replaced_and_dissolved(
    registry: httpx.AsyncClient, auth: Auth
) -> None:
    bureau = auth("civil_affairs")
    org = await organization(registry, auth, unique_street())
    url = f"{PARTY}/{org['id']}"
    assert (await registry.get(url, headers=bureau)).status_code == 404
    created = await registry.put(url, json=_branch(), headers=bureau)
    assert created.status_code == 201, created.text
    replaced = await registry.put(
        url, json=_branch(form="joint_branch", members=1, name="联合党支部"), headers=bureau
    )
    assert replaced.status_code == 200
    assert (replaced.json()["form"], replaced.json()["members"]) == ("joint_branch", 1)
    own = await registry.get(url, headers=auth("organization", org_id=org["id"]))
    assert own.status_code == 200 and own.json()["name"] == "联合党支部"
    refused = await registry.put(
        url, json=_branch(), headers=auth("organization", org_id=org["id"])
    )
    assert refused.status_code == 403
    dissolved = await registry.delete(url, headers=bureau)
    assert dissolved.status_code == 200 and dissolved.json()["name"] == "联合党支部"
    assert (await registry.get(url, headers=bureau)).status_code == 404


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        (_branch(members=2), "body.members", "members_too_few_for_branch"),
        (_branch(members=-1), "body.members", "greater_than_equal"),
        (_branch(established_on="9999-12-31"), "body.established_on", "less_than_equal"),
        (_branch(name="\u515a" * 1000), "body.name", "string_too_long"),
    ],
)
async def test_hostile_party_organizations_are_refused(
    registry: httpx.AsyncClient, auth: Auth, body: dict[str, Any], field: str, code: str
) -> None:
    bureau = auth("civil_affairs")
    org = await organization(registry, auth, unique_street())
    response = await registry.put(f"{PARTY}/{org['id']}", json=body, headers=bureau)
    assert response.status_code == 422, response.text
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [(field, code)]
    assert (await registry.get(f"{PARTY}/{org['id']}", headers=bureau)).status_code == 404


async def test_a_future_establishment_date_is_refused(
    registry: httpx.AsyncClient, auth: Auth
) -> None:
    org = await organization(registry, auth, unique_street())
    tomorrow = str(shanghai_today() + timedelta(days=1))
    response = await registry.put(
        f"{PARTY}/{org['id']}", json=_branch(established_on=tomorrow), headers=auth("civil_affairs")
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "date_in_future"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"population": -1, "year": 2020}, 422),
        ({"population": 10**12, "year": 2020}, 422),
        ({"population": 1000, "year": 9999}, 422),
    ],
)
async def test_hostile_population_is_refused(
    registry: httpx.AsyncClient, auth: Auth, body: dict[str, Any], status: int
) -> None:
    street = unique_street()
    await street_region(street)
    bureau = auth("civil_affairs")
    response = await registry.put(
        f"{PEOPLE}/streets/{street}/population", json=body, headers=bureau
    )
    assert response.status_code == status, response.text
    streets = (await registry.get(f"{PEOPLE}/streets", headers=bureau)).json()
    assert [s["population"] for s in streets if s["code"] == street] == [None]


async def test_a_population_of_an_unknown_street_is_404_and_only_the_bureau_sets_one(
    registry: httpx.AsyncClient, auth: Auth
) -> None:
    street = unique_street()
    body = {"population": 1000, "year": 2020}
    url = f"{PEOPLE}/streets/{street}/population"
    missing = await registry.put(url, json=body, headers=auth("civil_affairs"))
    assert missing.status_code == 404 and missing.json()["code"] == "street_not_found"
    office = auth("street_office", street_code=street)
    assert (await registry.put(url, json=body, headers=office)).status_code == 403


async def _known_street(registry: httpx.AsyncClient, auth: Auth) -> str:
    """A street of 12,345 residents with 5 organizations (one deregistered), 2 of the 4
    open ones covered by a party organization, 3 certified social workers and one other
    staff member, 2 volunteers who served 195 minutes."""
    bureau = auth("civil_affairs")
    street = unique_street()
    await street_region(street, "测试街道")
    population = await registry.put(
        f"{PEOPLE}/streets/{street}/population",
        json={"population": 12_345, "year": 2020},
        headers=bureau,
    )
    assert population.status_code == 200, population.text
    orgs = [await organization(registry, auth, street) for _ in range(5)]
    closed = await registry.post(
        f"{ORGS}/{orgs[4]['id']}/status",
        json={"status": "deregistered", "reason": "注销"},
        headers=bureau,
    )
    assert closed.status_code == 200, closed.text
    for org, body in zip(orgs, (_branch(), _branch(form="joint_branch", members=0)), strict=False):
        assert (await registry.put(f"{PARTY}/{org['id']}", json=body, headers=bureau)).is_success
    for level in ("assistant", "intermediate", "senior"):
        worker = certified(organization_id=orgs[0]["id"], certificate_level=level)
        assert (await registry.post(f"{PEOPLE}/staff", json=worker, headers=bureau)).is_success
    plain = {"name": "周杰", "organization_id": orgs[1]["id"], "employment": "part_time"}
    assert (await registry.post(f"{PEOPLE}/staff", json=plain, headers=bureau)).is_success
    today = str(shanghai_today())
    for minutes in ((90, 60), (45,)):
        volunteer = await registry.post(
            f"{PEOPLE}/volunteers", json={"name": "赵敏", "street_code": street}, headers=bureau
        )
        for served in minutes:
            recorded = await registry.post(
                f"{PEOPLE}/volunteers/{volunteer.json()['id']}/service-records",
                json={"served_on": today, "minutes": served, "activity": "巡访"},
                headers=bureau,
            )
            assert recorded.status_code == 201, recorded.text
    return street


EXPECTED = {
    "population": 12_345,
    "certified_social_workers": 3,
    "social_workers_per_10k_residents": "2.43",  # 3 × 10,000 / 12,345 = 2.430...
    "staff": 4,
    "volunteers": 2,
    "volunteer_minutes": 195,
    "volunteer_hours": "3.25",
    "organizations": 4,  # the deregistered one is off the register
    "organizations_with_party_organization": 2,
    "party_coverage_percent": "50.00",
}


async def test_a_street_office_reads_its_own_street_figures(
    registry: httpx.AsyncClient, auth: Auth
) -> None:
    street = await _known_street(registry, auth)
    office = auth("street_office", street_code=street)
    answer = await registry.get(f"{PEOPLE}/stats", headers=office)
    assert answer.status_code == 200, answer.text
    stats = answer.json()
    [row] = stats["streets"]
    assert row == {"street_code": street, "street_name": "测试街道", **EXPECTED}
    assert stats["total"] == EXPECTED
    other = auth("street_office", street_code=unique_street())
    theirs = (await registry.get(f"{PEOPLE}/stats", headers=other)).json()
    assert street not in [r["street_code"] for r in theirs["streets"]]
    assert theirs["total"]["certified_social_workers"] == 0
    assert theirs["total"]["social_workers_per_10k_residents"] is None
    organization_user = auth("organization", org_id="0193b2c4-7d1e-7a3c-9b1e-5f2d8c4a6e10")
    assert (await registry.get(f"{PEOPLE}/stats", headers=organization_user)).status_code == 403


async def test_the_bureau_reads_every_street_and_a_district_total(
    registry: httpx.AsyncClient, auth: Auth
) -> None:
    street = await _known_street(registry, auth)
    stats = (await registry.get(f"{PEOPLE}/stats", headers=auth("civil_affairs"))).json()
    rows = {row["street_code"]: row for row in stats["streets"]}
    assert {k: v for k, v in rows[street].items() if k in EXPECTED} == EXPECTED
    total = stats["total"]
    assert total["certified_social_workers"] == sum(
        r["certified_social_workers"] for r in stats["streets"]
    )
    assert total["organizations"] == sum(r["organizations"] for r in stats["streets"])
    known = [r for r in stats["streets"] if r["population"] is not None]
    assert total["population"] == sum(r["population"] for r in known)
