"""Spot checks: a seeded, stratified, reproducible sample, recorded with its seed."""

from __future__ import annotations

import hashlib
import math
import uuid
from collections import Counter
from decimal import Decimal

import httpx

from services.registry.spot_checks.sampling import draw_sample
from tests.factories import filed_org, unique_street
from tests.registry.helpers import Auth, created

SPOT_CHECKS = "/api/v1/spot-checks"


def population(sizes: dict[str, int]) -> list[tuple[uuid.UUID, str | None]]:
    return [
        (uuid.uuid5(uuid.NAMESPACE_URL, f"{street}/{n}"), street or None)
        for street, size in sizes.items()
        for n in range(size)
    ]


class TestAlgorithm:
    def test_same_seed_same_sample_whatever_the_order(self) -> None:
        people = population({"340103001": 120, "340103002": 45, "": 7})
        first = draw_sample(people, seed=42, percentage=Decimal(3))
        again = draw_sample(list(reversed(people)), seed=42, percentage=Decimal(3))
        other = draw_sample(people, seed=43, percentage=Decimal(3))
        assert first == again
        assert {d.organization_id for d in first} != {d.organization_id for d in other}

    def test_each_street_gets_its_rounded_up_share(self) -> None:
        sizes = {"340103001": 120, "340103002": 45, "340103003": 1, "": 7}
        sample = draw_sample(population(sizes), seed=7, percentage=Decimal("3.5"))
        per_stratum = Counter(d.stratum for d in sample)
        assert per_stratum == {
            street: math.ceil(size * Decimal("3.5") / 100) for street, size in sizes.items()
        }
        assert len(sample) >= Decimal("0.035") * sum(sizes.values())
        ranks = sorted(d.rank for d in sample if d.stratum == "340103001")
        assert ranks == list(range(1, per_stratum["340103001"] + 1))

    def test_the_draw_is_the_documented_hash_order(self) -> None:
        people = population({"340103001": 50})
        expected = sorted(
            (organization_id for organization_id, _ in people),
            key=lambda i: hashlib.sha256(f"99:{i}".encode()).digest(),
        )[:2]
        sample = draw_sample(people, seed=99, percentage=Decimal(3))
        assert [d.organization_id for d in sample] == expected

    def test_growing_one_street_leaves_the_others_draw_alone(self) -> None:
        before = draw_sample(population({"a": 40, "b": 40}), seed=5, percentage=Decimal(10))
        after = draw_sample(population({"a": 80, "b": 40}), seed=5, percentage=Decimal(10))
        assert [d for d in before if d.stratum == "b"] == [d for d in after if d.stratum == "b"]


class TestEndpoints:
    async def test_a_recorded_draw_can_be_verified_from_its_seed(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        bureau = auth("civil_affairs")
        await created(registry, bureau, filed_org(unique_street()))
        body = {"year": 2025, "level": "county", "registration": "filed"}
        drawn = await registry.post(SPOT_CHECKS, json=body, headers=bureau)
        assert drawn.status_code == 201, drawn.text
        record = drawn.json()
        assert record["percentage"] == 3 and record["algorithm"] == "sha256-street-v1"
        assert record["sample_size"] >= math.ceil(record["population_size"] * 0.03)
        items = await registry.get(
            f"{SPOT_CHECKS}/{record['id']}/items", params={"page_size": 200}, headers=bureau
        )
        preview = await registry.post(
            f"{SPOT_CHECKS}/preview", json={**body, "seed": record["seed"]}, headers=auth("auditor")
        )
        # Nothing joined the population in between: the same seed draws the same sample.
        assert preview.json()["population_size"] == record["population_size"]
        stored = {(i["organization_id"], i["stratum"], i["rank"]) for i in items.json()["items"]}
        again = {(i["organization_id"], i["stratum"], i["rank"]) for i in preview.json()["items"]}
        assert stored == again and len(stored) == record["sample_size"]

    async def test_same_seed_same_sample_through_the_api(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        street = unique_street()
        bureau = auth("civil_affairs")
        for n in range(40):
            response = await registry.post(
                "/api/v1/organizations",
                json={
                    "name": f"抽查样本服务队{street}{n}",
                    "kind": "community",
                    "registration": "filed",
                    "category": "community_service",
                    "district_code": "340103",
                    "street_code": street,
                    "filing_number": f"CC{street}{n:03d}",
                    "legal_rep_name": "赵六",
                },
                headers=bureau,
            )
            assert response.status_code == 201
        body = {"year": 2024, "level": "province", "seed": 20261123, "registration": "filed"}
        first = (await registry.post(f"{SPOT_CHECKS}/preview", json=body, headers=bureau)).json()
        second = (await registry.post(f"{SPOT_CHECKS}/preview", json=body, headers=bureau)).json()
        other = (
            await registry.post(f"{SPOT_CHECKS}/preview", json={**body, "seed": 1}, headers=bureau)
        ).json()
        mine = [i for i in first["items"] if i["stratum"] == street]
        assert mine == [i for i in second["items"] if i["stratum"] == street]
        assert len(mine) == 2  # ceil(40 × 5%)
        assert mine != [i for i in other["items"] if i["stratum"] == street]

    async def test_the_minimum_percentage_of_the_level_is_enforced(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        response = await registry.post(
            SPOT_CHECKS,
            json={"year": 2025, "level": "city", "percentage": 3.5},
            headers=auth("civil_affairs"),
        )
        assert response.status_code == 422
        assert response.json()["code"] == "percentage_below_minimum"

    async def test_findings_are_recorded_for_drawn_organizations_only(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        bureau = auth("civil_affairs", sub="inspector-sun")
        await created(registry, bureau, filed_org(unique_street()))
        record = (
            await registry.post(SPOT_CHECKS, json={"year": 2023, "seed": 3}, headers=bureau)
        ).json()
        items = (await registry.get(f"{SPOT_CHECKS}/{record['id']}/items", headers=bureau)).json()[
            "items"
        ]
        assert items and {i["finding"] for i in items} == {"pending"}
        url = f"{SPOT_CHECKS}/{record['id']}/items/{items[0]['organization_id']}"
        finding = {"finding": "rectification_required", "remarks": "财务制度不健全"}
        response = await registry.put(url, json=finding, headers=bureau)
        assert response.status_code == 200
        assert (response.json()["finding"], response.json()["checked_by"]) == (
            "rectification_required",
            "inspector-sun",
        )
        outsider = await registry.put(
            f"{SPOT_CHECKS}/{record['id']}/items/{uuid.uuid4()}", json=finding, headers=bureau
        )
        assert outsider.status_code == 404
        auditor = await registry.put(url, json=finding, headers=auth("auditor"))
        assert auditor.status_code == 403
