"""Seed funding (种子基金): the year's pool, a ledger line per grant, never overdrawn."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

import httpx

from tests.factories import filed_org, registered_org
from tests.registry.helpers import Auth, created, event_types
from tests.registry.incubation.helpers import INCUBATION, POOLS, incubate, ok, problem, today

# Pools are one per year: each test takes years of its own (the run's database is fresh).
_years = itertools.count(2001)


async def pool(registry: httpx.AsyncClient, auth: Auth, amount_fen: int) -> dict[str, Any]:
    body = {"year": next(_years), "amount_fen": amount_fen}
    return ok(await registry.post(POOLS, json=body, headers=auth("civil_affairs")), 201)  # type: ignore[no-any-return]


def grant(org_id: str, amount_fen: int, purpose: str = "链接落地社区") -> dict[str, Any]:
    return {
        "organization_id": org_id,
        "amount_fen": amount_fen,
        "purpose": purpose,
        "granted_on": today(),
    }


class TestSeedFunding:
    async def test_grants_are_ledger_lines_and_the_balance_is_readable(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        bureau = auth("civil_affairs")
        org = await created(registry, bureau, filed_org())
        made = await pool(registry, auth, 1_000_000)
        assert made["balance_fen"] == 1_000_000
        url = f"{POOLS}/{made['id']}/grants"
        problem(
            await registry.post(url, json=grant(org["id"], 1), headers=bureau), 409, "not_incubated"
        )
        await incubate(registry, auth, org["id"])
        first = ok(await registry.post(url, json=grant(org["id"], 300_000), headers=bureau), 201)
        second = ok(
            await registry.post(url, json=grant(org["id"], 200_000, "能力建设"), headers=bureau),
            201,
        )
        assert (first["balance_after_fen"], second["balance_after_fen"]) == (700_000, 500_000)
        auditor = auth("auditor")
        assert (
            ok(await registry.get(f"{POOLS}/{made['id']}", headers=auditor))["balance_fen"]
            == 500_000
        )
        ledger = ok(await registry.get(url, headers=auditor))
        assert [(g["amount_fen"], g["balance_after_fen"]) for g in ledger["items"]] == [
            (300_000, 700_000),
            (200_000, 500_000),
        ]
        own = auth("organization", org_id=org["id"])
        mine = ok(
            await registry.get(f"{INCUBATION}/organizations/{org['id']}/seed-grants", headers=own)
        )
        assert [g["purpose"] for g in mine] == ["链接落地社区", "能力建设"]
        assert (await registry.get(f"{POOLS}/{made['id']}", headers=own)).status_code == 403
        assert (await event_types(org["id"])).count("organization.seed_funding_granted") == 2
        pools = ok(await registry.get(POOLS, headers=bureau))
        assert made["id"] in {p["id"] for p in pools["items"]}

    async def test_overdraft_and_hostile_amounts_change_nothing(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        bureau = auth("civil_affairs")
        org = await created(registry, bureau, registered_org())
        await incubate(registry, auth, org["id"])
        made = await pool(registry, auth, 100_000)
        url = f"{POOLS}/{made['id']}/grants"
        body = problem(
            await registry.post(url, json=grant(org["id"], 100_001), headers=bureau),
            409,
            "seed_pool_overdrawn",
        )
        assert "余额" in body["title"] + body["detail"]
        for amount in (-500, 0, 10**15):
            problem(
                await registry.post(url, json=grant(org["id"], amount), headers=bureau),
                422,
                "validation_error",
            )
        problem(
            await registry.post(
                url, json={**grant(org["id"], 5), "granted_on": "9999-01-01"}, headers=bureau
            ),
            422,
            "validation_error",
        )
        surrogate = await registry.post(
            url,
            # A lone surrogate, as JSON may spell it and as no database can store it.
            content=json.dumps(grant(org["id"], 5), ensure_ascii=False).replace(
                "链接落地社区", "\\ud800"
            ),
            headers={**bureau, "Content-Type": "application/json"},
        )
        assert surrogate.status_code in (400, 422), surrogate.text
        for hostile in (
            {"year": 9999, "amount_fen": 1},
            {"year": 2090, "amount_fen": -1},
            {"year": 2091, "amount_fen": 10**15},
        ):
            problem(
                await registry.post(POOLS, json=hostile, headers=bureau), 422, "validation_error"
            )
        problem(
            await registry.post(
                POOLS, json={"year": made["year"], "amount_fen": 5}, headers=bureau
            ),
            409,
            "seed_pool_exists",
        )
        assert (
            ok(await registry.get(f"{POOLS}/{made['id']}", headers=bureau))["balance_fen"]
            == 100_000
        )
        assert ok(await registry.get(url, headers=bureau))["total"] == 0
        office = auth("street_office", street_code="340103001")
        assert (
            await registry.post(url, json=grant(org["id"], 5), headers=office)
        ).status_code == 403

    async def test_two_grants_at_once_never_overdraw(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        bureau = auth("civil_affairs")
        orgs = [await created(registry, bureau, filed_org()) for _ in range(2)]
        for org in orgs:
            await incubate(registry, auth, org["id"])
        made = await pool(registry, auth, 1_000_000)
        url = f"{POOLS}/{made['id']}/grants"
        # Each asks for 60% of the pool: both fit alone, not together.
        answers = await asyncio.gather(
            *(registry.post(url, json=grant(o["id"], 600_000), headers=bureau) for o in orgs)
        )
        assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
        problem(next(a for a in answers if a.status_code == 409), 409, "seed_pool_overdrawn")
        assert (
            ok(await registry.get(f"{POOLS}/{made['id']}", headers=bureau))["balance_fen"]
            == 400_000
        )
        ledger = ok(await registry.get(url, headers=bureau))
        assert [g["balance_after_fen"] for g in ledger["items"]] == [400_000]
