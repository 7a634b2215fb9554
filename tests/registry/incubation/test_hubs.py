"""Hubs (一园多中心): one park per district, a centre per street, capacity, one residency."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx

from shared.clock import shanghai_today
from tests.factories import LUYANG, filed_org, unique_street
from tests.registry.helpers import Auth, created
from tests.registry.incubation.helpers import HUBS, INCUBATION, ok, problem, today, unique_district


def centre(street: str, capacity: int = 2, **overrides: Any) -> dict[str, Any]:
    return {
        "name": f"{street}街道社会组织服务中心",
        "level": "street_centre",
        "district_code": street[:6],
        "street_code": street,
        "capacity": capacity,
        **overrides,
    }


class TestHubs:
    async def test_one_park_per_district_and_one_centre_per_street(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        bureau = auth("civil_affairs")
        district = unique_district()
        park = {
            "name": "社会组织创新园",
            "level": "district_park",
            "district_code": district,
            "capacity": 30,
        }
        made = ok(await registry.post(HUBS, json=park, headers=bureau), 201)
        assert (made["level"], made["street_code"], made["residents"]) == ("district_park", None, 0)
        problem(await registry.post(HUBS, json=park, headers=bureau), 409, "hub_exists")
        street = unique_street()
        office = auth("street_office", street_code=street)
        ok(await registry.post(HUBS, json=centre(street), headers=office), 201)
        problem(await registry.post(HUBS, json=centre(street), headers=bureau), 409, "hub_exists")
        # A street office opens its own street's centre only, never the park.
        other = unique_street()
        problem(
            await registry.post(HUBS, json=centre(other), headers=office), 403, "scope_forbidden"
        )
        problem(
            await registry.post(
                HUBS, json={**park, "district_code": unique_district()}, headers=office
            ),
            403,
            "scope_forbidden",
        )
        listed = ok(await registry.get(HUBS, params={"page_size": 200}, headers=office))
        assert made["id"] in {h["id"] for h in listed["items"]}
        assert all(h["street_code"] != other for h in listed["items"])

    async def test_hostile_hubs_are_refused(self, registry: httpx.AsyncClient, auth: Auth) -> None:
        bureau = auth("civil_affairs")
        street = unique_street()
        for body, code in (
            (centre(street, capacity=-1), "validation_error"),
            (centre(street, capacity=10**12), "validation_error"),
            (centre(street, capacity=0), "validation_error"),
            (centre(street, street_code=None), "hub_street_required"),
            (centre(street, district_code="110101"), "street_outside_district"),
            ({**centre(street), "level": "district_park"}, "hub_street_not_allowed"),
        ):
            problem(await registry.post(HUBS, json=body, headers=bureau), 422, code)
        surrogate = await registry.post(
            HUBS,
            content=f'{{"name": "\\ud800", "level": "street_centre", "district_code": "{LUYANG}", '
            f'"street_code": "{street}", "capacity": 3}}',
            headers={**bureau, "Content-Type": "application/json"},
        )
        assert surrogate.status_code in (400, 422), surrogate.text
        # Nothing was opened for that street: it may still have its centre.
        ok(await registry.post(HUBS, json=centre(street), headers=bureau), 201)


class TestResidency:
    async def test_capacity_is_enforced_even_for_two_at_once(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        street = unique_street()
        office = auth("street_office", street_code=street)
        hub = ok(await registry.post(HUBS, json=centre(street, capacity=1), headers=office), 201)
        orgs = [await created(registry, office, filed_org(street)) for _ in range(3)]
        url = f"{HUBS}/{hub['id']}/residencies"
        answers = await asyncio.gather(
            *(
                registry.post(
                    url, json={"organization_id": o["id"], "started_on": today()}, headers=office
                )
                for o in orgs[:2]
            )
        )
        assert sorted(a.status_code for a in answers) == [201, 409]
        problem(next(a for a in answers if a.status_code == 409), 409, "hub_full")
        assert ok(await registry.get(f"{HUBS}/{hub['id']}", headers=office))["residents"] == 1
        resident = next(a.json() for a in answers if a.status_code == 201)
        # Leaving frees the place.
        end = f"{INCUBATION}/residencies/{resident['id']}/end"
        problem(
            await registry.post(end, json={"ended_on": "1999-01-01"}, headers=office),
            422,
            "residency_end_out_of_range",
        )
        ended = ok(await registry.post(end, json={"ended_on": today()}, headers=office))
        assert ended["ended_on"] == today()
        problem(
            await registry.post(end, json={"ended_on": today()}, headers=office),
            409,
            "residency_ended",
        )
        ok(
            await registry.post(
                url, json={"organization_id": orgs[2]["id"], "started_on": today()}, headers=office
            ),
            201,
        )
        listed = ok(await registry.get(url, headers=office))
        assert [r["ended_on"] is None for r in listed["items"]] == [True, False]

    async def test_one_active_residency_per_organization_and_scope(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        bureau = auth("civil_affairs")
        street = unique_street()
        org = await created(registry, bureau, filed_org(street))
        first = ok(await registry.post(HUBS, json=centre(street), headers=bureau), 201)
        park = ok(
            await registry.post(
                HUBS,
                json={
                    "name": "创新园",
                    "level": "district_park",
                    "district_code": unique_district(),
                    "capacity": 5,
                },
                headers=bureau,
            ),
            201,
        )
        body = {"organization_id": org["id"], "started_on": today()}
        ok(await registry.post(f"{HUBS}/{first['id']}/residencies", json=body, headers=bureau), 201)
        problem(
            await registry.post(f"{HUBS}/{park['id']}/residencies", json=body, headers=bureau),
            409,
            "already_resident",
        )
        tomorrow = (shanghai_today() + timedelta(days=1)).isoformat()
        for started_on, code in ((tomorrow, "date_in_future"), ("9999-12-31", "validation_error")):
            response = await registry.post(
                f"{HUBS}/{park['id']}/residencies",
                json={**body, "started_on": started_on},
                headers=bureau,
            )
            problem(response, 422, code)
        # Another street's office manages neither the centre nor its residents.
        stranger = auth("street_office", street_code=unique_street())
        response = await registry.post(
            f"{HUBS}/{first['id']}/residencies", json=body, headers=stranger
        )
        problem(response, 403, "scope_forbidden")
        seen = ok(await registry.get(f"{HUBS}/{first['id']}/residencies", headers=stranger))
        assert seen["items"] == [] and seen["total"] == 0
        own = ok(
            await registry.get(
                f"{HUBS}/{first['id']}/residencies", headers=auth("organization", org_id=org["id"])
            )
        )
        assert [r["organization_id"] for r in own["items"]] == [org["id"]]
