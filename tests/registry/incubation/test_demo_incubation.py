"""The incubation demo: 一园多中心, 社创大赛, phases and seed pools on the demo register.

The register demo and the incubation demo go into a database of their own; the registry
API is then asked about it over HTTP by the bureau (civil_affairs, no filter) and by a
pilot street's office, as their dashboards would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from services.registry import demo as register_demo
from services.registry.base import infra
from services.registry.incubation import demo_incubation as demo
from shared.db import Database
from tests.registry.helpers import Auth
from tests.registry.incubation.helpers import COMPETITIONS, HUBS, INCUBATED, POOLS, ok
from tests.support.apps import answering_from

PHASES = ["early", "middle", "late", "follow_up"]


@pytest.fixture
async def demo_database(
    database_url: str, fresh_database: Callable[[str], AsyncIterator[str]]
) -> AsyncIterator[Database]:
    async for url in fresh_database("incdemo"):
        db = Database(url)
        assert await register_demo.load_if_empty(db=db) is True
        yield db
        await db.dispose()


async def _all(registry: httpx.AsyncClient, path: str, headers: dict[str, str]) -> list[Any]:
    body = ok(await registry.get(path, params={"page_size": 200}, headers=headers))
    assert body["total"] == len(body["items"]), "more than one page: walk it"
    return body["items"]  # type: ignore[no-any-return]


async def _snapshot(registry: httpx.AsyncClient, bureau: dict[str, str]) -> dict[str, Any]:
    """What the bureau reads of the whole pipeline."""
    hubs = await _all(registry, HUBS, bureau)
    residencies = {
        h["id"]: await _all(registry, f"{HUBS}/{h['id']}/residencies", bureau) for h in hubs
    }
    contests = await _all(registry, COMPETITIONS, bureau)
    entries = {
        c["id"]: await _all(registry, f"{COMPETITIONS}/{c['id']}/entries", bureau) for c in contests
    }
    pools = await _all(registry, POOLS, bureau)
    grants = {p["id"]: await _all(registry, f"{POOLS}/{p['id']}/grants", bureau) for p in pools}
    incubations = await _all(registry, INCUBATED, bureau)
    return {
        "hubs": hubs,
        "residencies": residencies,
        "competitions": contests,
        "entries": entries,
        "pools": pools,
        "grants": grants,
        "incubations": incubations,
    }


async def test_the_bureau_reads_the_seeds_pipeline_and_a_second_load_changes_nothing(
    demo_database: Database, registry: httpx.AsyncClient, auth: Auth
) -> None:
    # (How long the load takes is not a test's business: speed is measured in bench/.)
    assert await demo.load_incubation_if_empty(db=demo_database) is True
    bureau = auth("civil_affairs")
    with answering_from(registry, demo_database):
        seen = await _snapshot(registry, bureau)

        # 一园多中心: the district's park and three street centres.
        levels = sorted(h["level"] for h in seen["hubs"])
        assert levels == ["district_park", "street_centre", "street_centre", "street_centre"]
        park = next(h for h in seen["hubs"] if h["level"] == "district_park")
        assert (park["name"], park["district_code"]) == ("庐阳区社会组织创新园", "340103")
        assert {h["street_code"] for h in seen["hubs"]} - {None} == set(demo.PILOT_STREETS)
        for hub in seen["hubs"]:
            current = [r for r in seen["residencies"][hub["id"]] if r["ended_on"] is None]
            assert 0 < hub["residents"] == len(current) <= hub["capacity"], hub
        # The 社创俱乐部 leave at the year's end: past residencies are kept.
        assert any(r["ended_on"] for r in seen["residencies"][park["id"]])

        # A 社创大赛 a year; the awarded organizations admitted, the groups not placed.
        assert [c["year"] for c in sorted(seen["competitions"], key=lambda c: c["year"])] == list(
            demo.COMPETITION_YEARS
        )
        admitted = {i["entry_id"] for i in seen["incubations"]}
        for entries in seen["entries"].values():
            awarded = [e for e in entries if e["award"]]
            assert len(awarded) == len(demo.AWARDS)
            assert {e["id"] for e in awarded} <= admitted
            assert all(e["organization_id"] is None for e in entries if e["group_name"])
            assert all(0 <= e["score"] <= 100 for e in entries)

        # Every phase is shown, and each incubation's history runs in order, dated onwards.
        assert {i["phase"] for i in seen["incubations"]} == set(PHASES)
        for item in seen["incubations"]:
            org = item["organization_id"]
            history = ok(await registry.get(f"{INCUBATED}/{org}/phases", headers=bureau))
            phases = [h["to_phase"] for h in history]
            assert phases == PHASES[: len(phases)] and phases[-1] == item["phase"]
            assert [h["from_phase"] for h in history] == [None, *phases[:-1]]
            days = [h["entered_on"] for h in history]
            assert days == sorted(days) and days[0] == item["admitted_on"]
            sessions = ok(
                await registry.get(f"{INCUBATED}/{org}/mentoring-sessions", headers=bureau)
            )
            assert sessions and all(s["held_on"] >= item["admitted_on"] for s in sessions)

        # A seed pool a year: the balance is the amount less the ledger, never negative.
        assert len(seen["pools"]) == len(demo.COMPETITION_YEARS)
        for pool in seen["pools"]:
            lines = seen["grants"][pool["id"]]
            assert lines and all(line["amount_fen"] > 0 for line in lines)
            assert pool["balance_fen"] == pool["amount_fen"] - sum(g["amount_fen"] for g in lines)
            assert pool["balance_fen"] >= 0
            assert all(line["balance_after_fen"] >= pool["balance_fen"] for line in lines)

        # A second load leaves everything as it was.
        assert await demo.load_incubation_if_empty(db=demo_database) is False
        assert await _snapshot(registry, bureau) == seen

    # The demo is news to nobody: no event of it waits for the provincial platform.
    async with demo_database.transaction() as session:
        rows = (await session.execute(infra.outbox.select())).all()
    assert rows == []


async def test_a_pilot_streets_office_sees_its_centre_and_its_residents(
    demo_database: Database, registry: httpx.AsyncClient, auth: Auth
) -> None:
    await demo.load_incubation_if_empty(db=demo_database)
    street = demo.PILOT_STREETS[0]
    office = auth("street_office", street_code=street)
    with answering_from(registry, demo_database):
        hubs = await _all(registry, HUBS, office)
        [centre] = [h for h in hubs if h["street_code"] == street]
        assert centre["name"] == "亳州路街道社会组织服务中心"
        residents = await _all(registry, f"{HUBS}/{centre['id']}/residencies", office)
        current = [r for r in residents if r["ended_on"] is None]
        assert len(current) == centre["residents"] > 0
        # Each resident is one of the street's filed groups, which the office keeps.
        for residency in residents:
            org = ok(
                await registry.get(
                    f"/api/v1/organizations/{residency['organization_id']}", headers=office
                )
            )
            assert (org["registration"], org["street_code"]) == ("filed", street)
        # The park houses registered organizations, which a street office does not see.
        park = next(h for h in hubs if h["level"] == "district_park")
        assert await _all(registry, f"{HUBS}/{park['id']}/residencies", office) == []
        # Hostile paging is refused in the problem shape, and changes nothing.
        refused = await registry.get(HUBS, params={"page_size": 10**9}, headers=office)
        assert refused.status_code == 422
        assert refused.headers["content-type"].startswith("application/problem+json")


def test_a_years_grants_fit_in_its_pool() -> None:
    assert len(demo.AWARDS) <= demo.REGISTERED_ENTRANTS + demo.FILED_ENTRANTS
    assert sum(demo.GRANT_FEN[award] for award in demo.AWARDS) <= demo.POOL_FEN
